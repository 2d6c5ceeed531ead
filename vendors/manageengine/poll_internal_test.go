package manageengine

import (
	"encoding/json"
	"testing"
	"time"
)

// A listed request is keyed by display_id (else id, numbers or strings),
// its status read from status.name (or a bare status), its update from
// last_updated_time.value in epoch milliseconds; what cannot be read stays
// empty.
func TestParseRow(t *testing.T) {
	for in, want := range map[string]row{
		`{"id":"118000004412077","display_id":"5731","status":{"name":"Closed"},"last_updated_time":{"value":"1741098311000"}}`: {
			key: "5731", status: "Closed", updated: time.UnixMilli(1741098311000).UTC()},
		`{"id":118000004412077,"status":"Open","last_updated_time":{"value":1741098311000}}`: {
			key: "118000004412077", status: "Open", updated: time.UnixMilli(1741098311000).UTC()},
		`{"display_id":5731,"last_updated_time":{"value":"soon"}}`: {key: "5731"},
		`[1,2]`: {},
	} {
		if got := parseRow(json.RawMessage(in)); got != want {
			t.Errorf("parseRow(%s) = %+v, want %+v", in, got, want)
		}
	}
}
