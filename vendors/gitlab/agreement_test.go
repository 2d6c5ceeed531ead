package gitlab

import (
	"errors"
	"net/http"
	"testing"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// actedOn are the X-Gitlab-Event values normalize reads a body for, each
// naming one kind. System Hook names none: the body's own kind decides.
var actedOn = []string{"Push Hook", "Tag Push Hook", "Merge Request Hook", "Pipeline Hook"}

// ambiguous are the corpus files that name a key twice in one object:
// refused as malformed whatever their event (events' corpus table says
// why), so they are no sample of what an event reads.
var ambiguous = map[string]bool{"corpus:gitlab/build-event.json": true}

// samples are every real GitLab body the tests have: testdata/payloads,
// the corpus when HOOKGATE_CORPUS is set, and the send-test sample. An
// ambiguous file is checked to be refused and left out.
func samples(t *testing.T) []payloads.Sample {
	t.Helper()
	ss, err := payloads.Samples("gitlab")
	if err != nil {
		t.Fatal(err)
	}
	var out []payloads.Sample
	for _, s := range ss {
		if !ambiguous[s.Name()] {
			out = append(out, s)
			continue
		}
		if _, err := events.NormalizeDelivery(s.Delivery); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s names a key twice but normalizes: %v", s.Name(), err)
		}
	}
	d := payloads.FromSample(Vendor, sample)
	return append(out, payloads.Sample{Rel: "sample.go", Body: d.Body, Delivery: d})
}

// TestEventAgreesWithBody: X-Gitlab-Event is outside what a token proves
// and what a signing token signs only alongside the body, and a GitLab
// body names its own kind (object_kind): the two must agree. Every sample
// relabelled as every other hook normalize acts on is ErrMalformed; with
// its own header it normalizes as before.
func TestEventAgreesWithBody(t *testing.T) {
	for _, s := range samples(t) {
		own := s.Delivery.Identity.Event
		t.Run(s.Name(), func(t *testing.T) {
			if _, err := events.NormalizeDelivery(s.Delivery); err != nil {
				t.Fatalf("as %q, its own event: %v", own, err)
			}
			for _, ev := range actedOn {
				if ev == own {
					continue
				}
				n, err := events.NormalizeDelivery(payloads.Relabel(s.Delivery, "X-Gitlab-Event", ev))
				if !errors.Is(err, events.ErrMalformed) {
					t.Errorf("%s body sent as %q: err %v (ignored=%v %q, %d events), want ErrMalformed", own, ev, err, n.Ignored, n.Reason, len(n.Events))
				}
			}
		})
	}
}

// TestEventNeedsItsFields: each hook's kind and own fields, one wrong or
// missing at a time, make the body malformed, whatever the action or
// status.
func TestEventNeedsItsFields(t *testing.T) {
	const project = `"project":{"id":7,"path_with_namespace":"grp/app"}`
	for _, c := range []struct {
		header, body string
	}{
		{"Push Hook", `{"ref":"refs/heads/main","after":"a1",` + project + `}`},
		{"Push Hook", `{"object_kind":"tag_push","ref":"refs/heads/main","after":"a1",` + project + `}`},
		{"Push Hook", `{"object_kind":"push","event_name":"tag_push","ref":"refs/heads/main","after":"a1",` + project + `}`},
		{"Push Hook", `{"object_kind":"push","after":"a1",` + project + `}`},
		{"Push Hook", `{"object_kind":"push","ref":"refs/heads/main",` + project + `}`},
		{"Push Hook", `{"object_kind":"push","ref":"refs/heads/main","after":"a1"}`},
		{"Tag Push Hook", `{"object_kind":"push","ref":"refs/tags/v1","after":"a1",` + project + `}`},
		{"Merge Request Hook", `{"object_kind":"merge_request",` + project + `}`},
		{"Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"action":"close","iid":1}}`},
		{"Merge Request Hook", `{"object_kind":"note","object_attributes":{"action":"open","iid":1},` + project + `}`},
		{"Pipeline Hook", `{"object_kind":"pipeline",` + project + `}`},
		{"Pipeline Hook", `{"object_kind":"build","object_attributes":{"status":"success"},` + project + `}`},
		{"System Hook", `{"object_kind":"push","event_name":"tag_push","ref":"refs/heads/main","after":"a1",` + project + `}`},
		{"System Hook", `{"event_name":"push","ref":"refs/heads/main",` + project + `}`},
	} {
		h := http.Header{}
		h.Set("X-Gitlab-Event", c.header)
		if _, err := events.NormalizeDelivery(payloads.Inline(Vendor, h, "", []byte(c.body))); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s %s: err %v, want ErrMalformed", c.header, c.body, err)
		}
	}
}
