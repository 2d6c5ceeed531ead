package events_test

import (
	"errors"
	"testing"
	"time"

	. "github.com/hookgate/caddy-hookgate/events"
)

// TestFlexTime: every spelling vendors use for an event time reads as the
// same instant; what cannot be read is the zero time and no error; a JSON
// value of another kind is malformed.
func TestFlexTime(t *testing.T) {
	at := time.Date(2025, 3, 4, 10, 30, 10, 0, time.UTC)
	for _, c := range []struct {
		json string
		want time.Time
	}{
		{`1741084210`, at},                                    // GitHub push pushed_at
		{`"1741084210"`, at},                                  // seconds as a string
		{`1741084210000`, at},                                 // Jira timestamp, ManageEngine
		{`"1741084210000"`, at},                               // ManageEngine's string value
		{`"2025-03-04T10:30:10Z"`, at},                        // GitHub, Bitbucket Cloud
		{`"2025-03-04T10:30:10.000000Z"`, at},                 // fractional seconds
		{`"2025-03-04T12:30:10+02:00"`, at},                   // an offset
		{`"2025-03-04T20:30:10+1000"`, at},                    // Bitbucket Data Center, Jira
		{`"2025-03-04T10:30:10.1234567Z"`, at.Add(123456700)}, // Azure DevOps' seven digits
		{`"2025-03-04 10:30:10 UTC"`, at},                     // GitLab
		{`"2025-03-04 11:30:10 +0100"`, at},                   // GitLab with an offset
		{`"2025-03-04 10:30:10"`, at},                         // ServiceNow (UTC)
		{`null`, time.Time{}},
		{`""`, time.Time{}},
		{`0`, time.Time{}},
		{`-5`, time.Time{}},
		{`1741084210.5`, time.Time{}},
		{`99999999999999999999`, time.Time{}},
		{`"${bamboo.date.finished}"`, time.Time{}},
		{`"yesterday"`, time.Time{}},
	} {
		var b struct {
			T FlexTime `json:"t"`
		}
		if err := Decode([]byte(`{"t":`+c.json+`}`), &b); err != nil {
			t.Errorf("%s: %v", c.json, err)
			continue
		}
		if got := b.T.Time(); !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%s: %v, want %v", c.json, got, c.want)
		}
	}
	for _, bad := range []string{`true`, `{}`, `[1]`} {
		var b struct {
			T FlexTime `json:"t"`
		}
		if err := Decode([]byte(`{"t":`+bad+`}`), &b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", bad, err)
		}
	}
}

// TestUnixTime: seconds below 1e11, milliseconds from there on.
func TestUnixTime(t *testing.T) {
	for n, want := range map[int64]time.Time{
		1:                 time.Unix(1, 0).UTC(),
		99_999_999_999:    time.Unix(99_999_999_999, 0).UTC(),
		100_000_000_000:   time.UnixMilli(100_000_000_000).UTC(),
		1_741_084_210_000: time.UnixMilli(1_741_084_210_000).UTC(),
		0:                 {},
		-1:                {},
		1 << 62:           {},
	} {
		if got := UnixTime(n); !got.Equal(want) {
			t.Errorf("UnixTime(%d) = %v, want %v", n, got, want)
		}
	}
}
