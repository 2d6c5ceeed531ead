package payloads

import (
	"slices"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// Facts is what a sample's signed body states about itself, as a vendor's
// facts test expects it: the event time (RFC 3339, "" for none), the
// target names (nil for none) and the hook that sent it ("" for none).
type Facts struct {
	At      string
	Targets []string
	Hook    string
}

// WithSample is every body Samples(folders...) finds, and vendor v's
// send-test sample s as FromSample posts it, named "sample.go".
func WithSample(t testing.TB, v integrations.Vendor, s vendorapi.Sample, folders ...string) []Sample {
	t.Helper()
	ss, err := Samples(folders...)
	if err != nil {
		t.Fatal(err)
	}
	d := FromSample(v, s)
	return append(ss, Sample{Rel: "sample.go", Body: d.Body, Delivery: d})
}

// CheckFacts runs one subtest per sample: it must normalize, and the facts
// it states must be want's for its name; a sample not in want states none.
func CheckFacts(t *testing.T, ss []Sample, want map[string]Facts) {
	t.Helper()
	for _, s := range ss {
		t.Run(s.Name(), func(t *testing.T) {
			n, err := events.NormalizeDelivery(s.Delivery)
			if err != nil {
				t.Fatal(err)
			}
			w := want[s.Name()]
			var at time.Time
			if w.At != "" {
				if at, err = time.Parse(time.RFC3339, w.At); err != nil {
					t.Fatalf("want %q: %v", w.At, err)
				}
			}
			if !n.Facts.EventTime.Equal(at) || !slices.Equal(n.Facts.Targets, w.Targets) || n.Facts.Hook != w.Hook {
				t.Errorf("facts %v %q hook %q, want %v %q hook %q", n.Facts.EventTime, n.Facts.Targets, n.Facts.Hook, at, w.Targets, w.Hook)
			}
		})
	}
}
