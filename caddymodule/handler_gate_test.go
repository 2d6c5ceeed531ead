// Handler tests: gate mode (no upstream). Duplicates and a state store that
// is down.

package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Gate mode: a delivery already passed on successfully is answered as a
// duplicate; one the next handler failed goes through again on retry.
func TestHandlerDuplicate(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	send := func(status int) (result, bool) {
		h, _ := newTestHandler(app)
		r := validRequest(t, vc)
		repl := caddy.NewReplacer()
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
		rec := httptest.NewRecorder()
		called := false
		err := h.ServeHTTP(rec, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			called = true
			w.WriteHeader(status)
			return nil
		}))
		return result{rec: rec, err: err, repl: repl, req: r}, called
	}

	res, called := send(http.StatusBadGateway)
	if !called || res.rec.Code != http.StatusBadGateway {
		t.Fatalf("first delivery: called %v, status %d", called, res.rec.Code)
	}
	res, called = send(http.StatusAccepted)
	if !called || res.rec.Code != http.StatusAccepted {
		t.Fatalf("retry after a backend failure: called %v, status %d, want it passed", called, res.rec.Code)
	}
	res, called = send(http.StatusAccepted)
	if called {
		t.Fatal("a delivery already passed on reached the next handler again")
	}
	if res.rec.Code != http.StatusOK || res.rec.Header().Get("X-Hookgate-Duplicate") != "true" {
		t.Errorf("duplicate: status %d, X-Hookgate-Duplicate %q", res.rec.Code, res.rec.Header().Get("X-Hookgate-Duplicate"))
	}
	if b := res.rec.Body.String(); b != `{"duplicate":true}` {
		t.Errorf("duplicate body %q", b)
	}

	// The same body to another integration is another delivery.
	other := vc
	other.id, other.secret = "gh-2", "gh-secret-2"
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, validRequest(t, other)), other, "true", []byte(other.body))

	accepted, _, err := app.state.deliveries.Audit(context.Background(), vc.id)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range accepted {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "duplicate,passed" {
		t.Errorf("accepted audit actions (newest first) %q, want %q", got, "duplicate,passed")
	}
}

// Gate mode: with the store down a verified delivery cannot be claimed,
// so it is refused 503 with Retry-After rather than passed on unclaimed
// (every copy would reach the backend); a refusal is still a 401.
func TestHandlerGateStoreDown(t *testing.T) {
	app := newTestApp(t, false)
	app.state = &pooledState{deliveries: failingDeliveries{}, outbox: nil}
	vc := caseByID(t, "gh-1")
	h, _ := newTestHandler(app)
	res := serve(t, h, validRequest(t, vc))
	if res.rec.Code != http.StatusServiceUnavailable || res.rec.Header().Get("Retry-After") == "" {
		t.Errorf("store down: status %d, Retry-After %q; want 503 with Retry-After", res.rec.Code, res.rec.Header().Get("Retry-After"))
	}
	wantNotPassed(t, res)
	h, _ = newTestHandler(app)
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, "wrong", vc.path(), []byte(vc.body))))
}
