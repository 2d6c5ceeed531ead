package github

import (
	"errors"
	"slices"
	"testing"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// actedOn are the GitHub events normalize acts on: the ones whose body it
// reads, so the ones a relabelled body could be passed off as.
var actedOn = []string{"push", "pull_request", "ping", "workflow_run", "check_suite"}

// samples are every real GitHub body the tests have: testdata/payloads,
// the corpus when HOOKGATE_CORPUS is set, and the send-test sample.
func samples(t *testing.T) []payloads.Sample {
	t.Helper()
	return payloads.WithSample(t, Vendor, sample, "github")
}

// TestEventAgreesWithBody: X-GitHub-Event travels outside the signature,
// so a captured, validly signed body re-sent under another event's name
// must be refused as malformed, never accepted or audited as that event.
// Every sample relabelled as every other event normalize acts on is
// ErrMalformed; with its own event it normalizes as before.
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
				n, err := events.NormalizeDelivery(payloads.Relabel(s.Delivery, "X-GitHub-Event", ev))
				if !errors.Is(err, events.ErrMalformed) {
					t.Errorf("%s body sent as %q: err %v (ignored=%v %q, %d events), want ErrMalformed", own, ev, err, n.Ignored, n.Reason, len(n.Events))
				}
			}
		})
	}
}

// TestEventNeedsItsFields: each event's own fields, one missing at a time,
// make the body malformed, whatever the action.
func TestEventNeedsItsFields(t *testing.T) {
	const repo = `"repository":{"full_name":"acme/api"}`
	for _, c := range []struct {
		event, body string
	}{
		{"push", `{"after":"abc",` + repo + `}`},
		{"push", `{"ref":"refs/heads/main",` + repo + `}`},
		{"push", `{"ref":"refs/heads/main","after":""` + `,` + repo + `}`},
		{"push", `{"ref":"refs/heads/main","after":"abc"}`},
		{"push", `{"ref":"refs/heads/main","after":"abc","repository":{}}`},
		{"ping", `{"hook_id":1,"hook":{}}`},
		{"ping", `{"zen":"Keep it logically awesome.","hook":{}}`},
		{"ping", `{"zen":"","hook_id":1}`},
		{"pull_request", `{"number":3,"pull_request":{"number":3},` + repo + `}`},
		{"pull_request", `{"action":"opened","pull_request":{"number":3},` + repo + `}`},
		{"pull_request", `{"action":"labeled","number":3,` + repo + `}`},
		{"pull_request", `{"action":"opened","number":3,"pull_request":{"number":4},` + repo + `}`},
		{"pull_request", `{"action":"opened","number":3,"pull_request":{"number":3}}`},
		{"workflow_run", `{"action":"requested",` + repo + `}`},
		{"workflow_run", `{"workflow_run":{},` + repo + `}`},
		{"workflow_run", `{"action":"completed","check_suite":{},` + repo + `}`},
		{"workflow_run", `{"action":"completed","workflow_run":{}}`},
		{"check_suite", `{"action":"completed","workflow_run":{},` + repo + `}`},
		{"check_suite", `{"check_suite":{},` + repo + `}`},
	} {
		if _, err := events.NormalizeDelivery(delivery(c.event, "application/json", c.body)); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s %s: err %v, want ErrMalformed", c.event, c.body, err)
		}
	}
}

// TestActedOnIsWhatNormalizeReads keeps actedOn honest: every event it
// lists is read (an empty body is malformed), and an event it does not
// list is ignored unread.
func TestActedOnIsWhatNormalizeReads(t *testing.T) {
	for _, ev := range append(slices.Clone(actedOn), "star", "issues", "create") {
		_, err := events.NormalizeDelivery(delivery(ev, "application/json", `{}`))
		if got := errors.Is(err, events.ErrMalformed); got != slices.Contains(actedOn, ev) {
			t.Errorf("%s with an empty object: err %v", ev, err)
		}
	}
}
