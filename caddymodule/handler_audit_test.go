// Handler tests: the audit trail of accepted and refused deliveries.

package caddymodule

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/state"
)

// Refusals of a known integration are audited with the signature state and
// reason; unknown and malformed ids leave no trace in the state store.
func TestHandlerAudit(t *testing.T) {
	app := newTestApp(t, false)
	gh := caseByID(t, "gh-1")
	nosecret := gh
	nosecret.id = "gh-nosecret"
	inactive := gh
	inactive.id, inactive.secret = "gh-inactive", "gh-inactive-secret"
	for _, r := range []*http.Request{
		signedRequest(t, gh, "wrong", gh.path(), []byte(gh.body)),
		signedRequest(t, gh, "", gh.path(), []byte(gh.body)),
		signedRequest(t, gh, gh.secret, "/webhooks/ci/gitlab/gh-1", []byte(gh.body)),
		signedRequest(t, nosecret, "", nosecret.path(), []byte(gh.body)),
		validRequest(t, inactive),
		signedRequest(t, gh, gh.secret, "/webhooks/ci/github/unknown-1", []byte(gh.body)),
		signedRequest(t, gh, gh.secret, "/webhooks/ci/github/-bad", []byte(gh.body)),
	} {
		h, _ := newTestHandler(app)
		wantUnauthorized(t, serve(t, h, r))
	}
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, validRequest(t, gh)), gh, "true", []byte(gh.body))

	ctx := context.Background()
	entries := func(id string) (accepted, rejected []state.AuditEntry) {
		a, r, err := app.state.deliveries.Audit(ctx, id)
		if err != nil {
			t.Fatalf("Audit(%s): %v", id, err)
		}
		return a, r
	}
	accepted, rejected := entries("gh-1")
	if len(accepted) != 1 || accepted[0].Action != "passed" || accepted[0].Signature != "valid" ||
		accepted[0].Delivery != gh.delivery || accepted[0].Event != "push" {
		t.Errorf("gh-1 accepted: %+v", accepted)
	}
	if len(rejected) != 3 {
		t.Fatalf("gh-1 rejected: %d entries, want 3: %+v", len(rejected), rejected)
	}
	for i, want := range []struct{ signature, reason string }{
		{"invalid", "vendor mismatch"}, // newest first
		{"missing", "signature missing"},
		{"invalid", "signature invalid"},
	} {
		e := rejected[i]
		if e.Signature != want.signature || !strings.Contains(e.Reason, want.reason) || e.Action != "rejected" {
			t.Errorf("gh-1 rejected[%d] = %+v, want signature %q, reason with %q", i, e, want.signature, want.reason)
		}
		if strings.Contains(e.Reason, gh.secret) {
			t.Errorf("audit reason contains the secret")
		}
	}
	if _, rej := entries("gh-nosecret"); len(rej) != 1 || rej[0].Signature != "missing" {
		t.Errorf("gh-nosecret rejected: %+v", rej)
	}
	if _, rej := entries("gh-inactive"); len(rej) != 1 || rej[0].Signature != "invalid" || !strings.Contains(rej[0].Reason, "inactive") {
		t.Errorf("gh-inactive rejected: %+v", rej)
	}
	for _, id := range []string{"unknown-1", "-bad"} {
		if a, r := entries(id); len(a)+len(r) != 0 {
			t.Errorf("%s: audit entries for an unknown id: %+v %+v", id, a, r)
		}
	}
}
