package jenkins

import (
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is the event time each sample states (RFC 3339); a sample not
// listed states none.
var factsWant = map[string]string{
	"jenkins/build-finalized.json": "2025-03-04T14:39:45.233Z", // build.timestamp + build.duration
	"jenkins/build-started.json":   "2025-03-04T15:43:21Z",     // STARTED: no duration yet
	"sample.go":                    "2025-03-04T14:05:11.001Z",
}

// TestFacts: the notification plugin's body states build.timestamp plus
// build.duration (ms), when the build finished in the FINALIZED phase and
// the start alone in earlier ones (stated though they are ignored); it
// names no repository or project to bind a target to.
func TestFacts(t *testing.T) {
	ss, err := payloads.Samples("jenkins")
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
