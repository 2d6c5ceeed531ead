package events_test

import (
	"testing"

	. "github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// TestIdentifyTemplateExactNames: the template's event and delivery are
// read from exactly those names, as the normalizers read names; a value of
// the wrong type drops only itself, a body that is not JSON all of them.
func TestIdentifyTemplateExactNames(t *testing.T) {
	for body, want := range map[string]Identity{
		`{"event":"build","delivery":"d-1"}`:        {Event: "build", Delivery: "d-1"},
		`{"EVENT":"deploy","Delivery":"d-2"}`:       {Event: "build"},
		`{"event":5,"delivery":"d-3"}`:              {Event: "build", Delivery: "d-3"},
		`{"event":"build","delivery":{"id":"d-4"}}`: {Event: "build"},
		`{"event":"deploy","delivery":"d-5"} x`:     {Event: "build"},
		`event=deploy`:                              {Event: "build"},
	} {
		if got := Identify(integrations.Jenkins, integrations.Jenkins.DefaultScheme(), nil, []byte(body)); got != want {
			t.Errorf("Identify(%s) = %+v, want %+v", body, got, want)
		}
	}
}
