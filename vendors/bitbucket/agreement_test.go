package bitbucket

import (
	"errors"
	"net/http"
	"testing"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// actedOn are the X-Event-Key values normalize reads a body for: Cloud's
// and Data Center's.
var actedOn = []string{"repo:push", "pullrequest:created", "pullrequest:updated", "repo:refs_changed", "pr:opened", "pr:from_ref_updated", "pr:modified", "diagnostics:ping"}

// sameShape are the keys whose bodies Bitbucket Cloud sends alike (actor,
// pullrequest, repository) and which yield the same event: a created pull
// request relabelled as updated cannot be told apart, and means nothing
// else.
var sameShape = map[string]string{"pullrequest:created": "pullrequest:updated", "pullrequest:updated": "pullrequest:created"}

// placeholderState are the corpus's merged and declined pull requests:
// Atlassian's documentation example, whose state is the placeholder
// "OPEN|MERGED|DECLINED", so nothing in them says they are not a created
// or updated pull request. With the state Cloud sends
// (testdata/payloads/bitbucket/pull-request-merged.json) such a body is
// refused.
var placeholderState = map[string]bool{"corpus:bitbucket/pull-request-merged.json": true, "corpus:bitbucket/pull-request-declined.json": true}

// samples are every real Bitbucket body the tests have (Cloud and Data
// Center): testdata/payloads, the corpus when HOOKGATE_CORPUS is set, and
// the send-test sample.
func samples(t *testing.T) []payloads.Sample {
	t.Helper()
	return payloads.WithSample(t, Vendor, sample, "bitbucket", "bitbucket-server")
}

// TestEventAgreesWithBody: X-Event-Key travels outside the signature, so
// a captured, validly signed body re-sent under another key must be
// refused as malformed. Every sample relabelled as every other key
// normalize acts on is ErrMalformed (but for Cloud's created and updated
// pull requests, which are one shape); with its own key it normalizes as
// before.
func TestEventAgreesWithBody(t *testing.T) {
	for _, s := range samples(t) {
		own := s.Delivery.Identity.Event
		t.Run(s.Name(), func(t *testing.T) {
			if _, err := events.NormalizeDelivery(s.Delivery); err != nil {
				t.Fatalf("as %q, its own key: %v", own, err)
			}
			for _, ev := range actedOn {
				if ev == own || sameShape[own] == ev || (placeholderState[s.Name()] && sameShape[ev] != "") {
					continue
				}
				n, err := events.NormalizeDelivery(payloads.Relabel(s.Delivery, "X-Event-Key", ev))
				if !errors.Is(err, events.ErrMalformed) {
					t.Errorf("%s body sent as %q: err %v (ignored=%v %q, %d events), want ErrMalformed", own, ev, err, n.Ignored, n.Reason, len(n.Events))
				}
			}
		})
	}
}

// TestEventNeedsItsFields: each key's own fields, one wrong or missing at
// a time, make the body malformed.
func TestEventNeedsItsFields(t *testing.T) {
	const (
		repo   = `"repository":{"full_name":"t/r"}`
		pr     = `"pullrequest":{"id":9,"state":"OPEN","source":{"branch":{"name":"fix"},"commit":{"hash":"abc"}}}`
		dcRepo = `"repository":{"slug":"api","project":{"key":"FIN"}}`
		dcPR   = `"pullRequest":{"id":4,"fromRef":{"id":"refs/heads/feat","latestCommit":"abc"},"toRef":{"repository":{"slug":"api","project":{"key":"FIN"}}}}`
	)
	for _, c := range []struct {
		key, body string
	}{
		{"repo:push", `{` + repo + `}`},
		{"repo:push", `{"push":{},` + repo + `}`},
		{"repo:push", `{"push":{"changes":null},` + repo + `}`},
		{"repo:push", `{"push":{"changes":[]}}`},
		{"repo:push", `{"eventKey":"repo:refs_changed","push":{"changes":[]},` + repo + `}`},
		{"pullrequest:updated", `{` + repo + `}`},
		{"pullrequest:updated", `{` + pr + `}`},
		{"pullrequest:updated", `{` + pr + `,` + repo + `,"comment":{"id":1}}`},
		{"pullrequest:created", `{` + pr + `,` + repo + `,"approval":{"date":"2025-03-04T10:00:00Z"}}`},
		{"pullrequest:updated", `{` + pr + `,` + repo + `,"changes_request":{"date":"2025-03-04T10:00:00Z"}}`},
		{"pullrequest:updated", `{"pullrequest":{"id":9,"state":"MERGED"},` + repo + `}`},
		{"pullrequest:created", `{"pullrequest":{"id":9,"state":"DECLINED"},` + repo + `}`},
		{"repo:refs_changed", `{` + dcRepo + `,"changes":[]}`},
		{"repo:refs_changed", `{"eventKey":"repo:refs_changed","changes":[]}`},
		{"repo:refs_changed", `{"eventKey":"repo:refs_changed",` + dcRepo + `}`},
		{"repo:refs_changed", `{"eventKey":"pr:opened",` + dcRepo + `,"changes":[]}`},
		{"pr:opened", `{` + dcPR + `}`},
		{"pr:opened", `{"eventKey":"pr:modified",` + dcPR + `}`},
		{"pr:opened", `{"eventKey":"pr:opened","pullRequest":{"id":4}}`},
		{"diagnostics:ping", `{}`},
		{"diagnostics:ping", `{"test":false}`},
		{"diagnostics:ping", `{"test":true,"eventKey":"repo:refs_changed"}`},
	} {
		if _, err := events.NormalizeDelivery(payloads.Inline(Vendor, http.Header{"X-Event-Key": {c.key}}, "", []byte(c.body))); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s %s: err %v, want ErrMalformed", c.key, c.body, err)
		}
	}
}
