package manageengine

import (
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is the event time each sample states (RFC 3339); a sample not
// listed states none.
var factsWant = map[string]string{
	"manageengine/request-closed.json":      "2025-03-04T14:25:11Z",
	"manageengine/request-in-progress.json": "2025-03-03T14:25:11Z",
	"sample.go":                             "2025-03-04T14:05:11Z",
}

// TestFacts: the documented template states
// request.last_updated_time.value (ms since the epoch); a ticket names no
// repository or project to bind a target to.
func TestFacts(t *testing.T) {
	ss, err := payloads.Samples("manageengine")
	if err != nil {
		t.Fatal(err)
	}
	d := payloads.FromSample(Vendor, sample)
	for _, s := range append(ss, payloads.Sample{Rel: "sample.go", Body: d.Body, Delivery: d}) {
		t.Run(s.Name(), func(t *testing.T) {
			n, err := events.NormalizeDelivery(s.Delivery)
			if err != nil {
				t.Fatal(err)
			}
			var at time.Time
			if w := factsWant[s.Name()]; w != "" {
				at, _ = time.Parse(time.RFC3339, w)
			}
			if !n.Facts.EventTime.Equal(at) || n.Facts.Targets != nil {
				t.Errorf("facts %v %q, want %v and no target", n.Facts.EventTime, n.Facts.Targets, at)
			}
		})
	}
}
