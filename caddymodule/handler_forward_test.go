// Handler tests: forward mode (an upstream). Commit to the outbox, dedupe,
// and a state store that is down.

package caddymodule

import (
	"context"
	"net/http"
	"testing"
)

// Forward mode: verified events go to the outbox before anything is
// answered; a store that is down answers 503 with Retry-After so the vendor
// retries; a duplicate is answered 200.
func TestHandlerForwarding(t *testing.T) {
	app, mem := newForwardingApp(t)
	vc := caseByID(t, "gh-1")
	ctx := context.Background()

	h, _ := newTestHandler(app)
	res := serve(t, h, validRequest(t, vc))
	wantPassed(t, res, vc, "true", []byte(vc.body))
	wantNoCredentials(t, res, vc.secret)
	if n, _, err := mem.Stats(ctx); err != nil || n == 0 {
		t.Errorf("outbox holds %d events (%v) after a verified push", n, err)
	}

	h, _ = newTestHandler(app)
	res = serve(t, h, validRequest(t, vc))
	if res.next.called || res.rec.Code != http.StatusOK || res.rec.Header().Get("X-Hookgate-Duplicate") != "true" {
		t.Errorf("duplicate: passed %v, status %d, X-Hookgate-Duplicate %q", res.next.called, res.rec.Code, res.rec.Header().Get("X-Hookgate-Duplicate"))
	}

	// Refusals never reach the outbox.
	before, _, _ := mem.Stats(ctx)
	h, _ = newTestHandler(app)
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, "wrong", vc.path(), []byte(vc.body))))
	if after, _, _ := mem.Stats(ctx); after != before {
		t.Errorf("a refused delivery changed the outbox from %d to %d", before, after)
	}

	app.state = &pooledState{deliveries: failingDeliveries{mem}, outbox: mem}
	other := caseByID(t, "bb-1")
	h, _ = newTestHandler(app)
	res = serve(t, h, validRequest(t, other))
	if res.rec.Code != http.StatusServiceUnavailable || res.rec.Header().Get("Retry-After") == "" {
		t.Errorf("store down: status %d, Retry-After %q; want 503 with Retry-After", res.rec.Code, res.rec.Header().Get("Retry-After"))
	}
	wantNotPassed(t, res)
	// A refusal is still a 401 when the store is down.
	h, _ = newTestHandler(app)
	wantUnauthorized(t, serve(t, h, signedRequest(t, other, "wrong", other.path(), []byte(other.body))))
}
