package events

import (
	"encoding/json"
	"reflect"
	"strconv"
	"time"
)

// flexTimeType names FlexTime in the type error a wrong JSON kind gives.
var flexTimeType = reflect.TypeFor[FlexTime]()

// FlexTime is a vendor timestamp in whichever spelling the vendor uses for
// it: a string ParseTime reads (RFC 3339 with or without fractional
// seconds and with any zone offset, GitLab's `2006-01-02 15:04:05 UTC`,
// Jira's and Bitbucket Data Center's `+0000` offsets, ServiceNow's zoneless
// UTC), or a number, or a string of digits, of unix seconds or
// milliseconds (UnixTime). GitHub sends repository.pushed_at as unix
// seconds in push payloads and as an RFC 3339 string in every other one;
// FlexTime reads both.
//
// A time it cannot read (an unknown spelling, an out-of-range number, a
// template variable left unsubstituted) is the zero time, not an error:
// a body is not malformed for a timestamp hookgate cannot read, it only
// states no event time (and then max_age is not checked). A JSON value
// that is neither a string, a number nor null is a wrong type, like any
// other field of the wrong type.
type FlexTime time.Time

// UnmarshalJSON accepts a string, a number or null.
func (f *FlexTime) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexTime(readTime(s))
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*f = FlexTime(readTime(string(b)))
		return nil
	}
	return &json.UnmarshalTypeError{Value: "value", Type: flexTimeType}
}

// Time is f as a time.Time, in UTC; zero when the body stated none.
func (f FlexTime) Time() time.Time {
	return time.Time(f)
}

// readTime reads s as unix seconds or milliseconds when it is all digits,
// else as ParseTime does.
func readTime(s string) time.Time {
	if s == "" || len(s) > 64 {
		return time.Time{}
	}
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			digits = false
			break
		}
	}
	if !digits {
		return ParseTime(s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return UnixTime(n)
}

// unixMillisFrom is the smallest number UnixTime reads as milliseconds:
// 1e11 seconds is the year 5138, 1e11 milliseconds March 1973, so no
// timestamp a vendor sends today is ambiguous.
const unixMillisFrom = 100_000_000_000

// UnixTime reads a vendor timestamp in unix seconds, or in milliseconds
// when it is too large to be seconds (from 1e11 on), in UTC; zero,
// negative and out-of-range values give the zero time.
func UnixTime(n int64) time.Time {
	switch {
	case n <= 0:
		return time.Time{}
	case n < unixMillisFrom:
		return time.Unix(n, 0).UTC()
	}
	return MillisTime(n)
}
