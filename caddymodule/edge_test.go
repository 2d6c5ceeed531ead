package caddymodule

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/hookgate/caddy-hookgate/limiter"
)

// untouchedBody is a request body that records whether anyone read it
// before the answer went out (answered reports that the handler flushed
// its answer: after a refusal of an unread body it reads a bounded rest
// so that the client gets the answer rather than a reset).
type untouchedBody struct {
	read     bool // read before the answer
	r        io.Reader
	answered func() bool
}

func (b *untouchedBody) Read(p []byte) (int, error) {
	if b.answered == nil || !b.answered() {
		b.read = true
	}
	return b.r.Read(p)
}
func (b *untouchedBody) Close() error { return nil }

// withUnreadBody swaps req's body for one that records reads and declares
// declared bytes (the bytes behind it are the real body, so a handler that
// does read would see a short body).
func withUnreadBody(req *http.Request, declared int64) *untouchedBody {
	b := &untouchedBody{r: req.Body}
	req.Body = b
	req.ContentLength = declared
	return b
}

// serveRecorded is serve with the recorder given, so that a body can look
// at it while it is read.
func serveRecorded(h *Handler, req *http.Request, rec *httptest.ResponseRecorder) {
	repl := caddy.NewReplacer()
	req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl))
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusAccepted)
		return nil
	})
	_ = h.ServeHTTP(rec, req, next)
}

// TestRefusedBeforeTheBody: every refusal the headers decide is answered
// without reading a byte of the body, with Connection: close, however
// large the declared body.
func TestRefusedBeforeTheBody(t *testing.T) {
	app := newTestApp(t, false)
	gl := caseByID(t, "gl-1")
	gh := caseByID(t, "gh-1")
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"wrong token", func() *http.Request { return signedRequest(t, gl, "wrong-token", gl.path(), []byte(gl.body)) }, http.StatusUnauthorized},
		{"missing signature", func() *http.Request { return signedRequest(t, gh, "", gh.path(), []byte(gh.body)) }, http.StatusUnauthorized},
		{"malformed signature", func() *http.Request {
			r := validRequest(t, gh)
			r.Header.Set("X-Hub-Signature-256", "sha256=zz")
			return r
		}, http.StatusUnauthorized},
		{"vendor mismatch", func() *http.Request {
			return signedRequest(t, gh, gh.secret, "/webhooks/ci/gitlab/"+gh.id, []byte(gh.body))
		}, http.StatusUnauthorized},
		{"unknown integration", func() *http.Request {
			return signedRequest(t, gh, gh.secret, "/webhooks/ci/github/nobody", []byte(gh.body))
		}, http.StatusUnauthorized},
		{"declared over max_body", func() *http.Request {
			r := validRequest(t, gh)
			r.ContentLength = testMaxBody + 1
			return r
		}, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req()
			declared := req.ContentLength
			if declared <= testMaxBody {
				declared = testMaxBody // as large as may be, for every header refusal
			}
			body := withUnreadBody(req, declared)
			rec := httptest.NewRecorder()
			body.answered = func() bool { return rec.Flushed }
			h, _ := newTestHandler(app)
			serveRecorded(h, req, rec)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if body.read {
				t.Error("the body was read before the answer to a refusal the headers decide")
			}
			if got := rec.Header().Get("Connection"); got != "close" {
				t.Errorf("Connection %q, want close", got)
			}
			if app.bodies.InFlight() != 0 {
				t.Errorf("%d body bytes still taken after the answer", app.bodies.InFlight())
			}
		})
	}
}

// TestBodyBudget: a declared body that does not fit what is left of
// max_inflight_body is answered 503 with Retry-After before it is read; a
// chunked one that outgrows it is cut the same way; with room again, the
// same delivery passes, and every byte comes back to the budget.
func TestBodyBudget(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	// A body of 3,500 bytes (under max_body, 4,096) and a budget of 2 KiB.
	app.bodies = limiter.NewBudget(2 << 10)
	payload := append([]byte(vc.body), bytes.Repeat([]byte(" "), 3500-len(vc.body))...)

	req := signedRequest(t, vc, vc.secret, vc.path(), payload)
	body := withUnreadBody(req, int64(len(payload)))
	rec := httptest.NewRecorder()
	body.answered = func() bool { return rec.Flushed }
	h, _ := newTestHandler(app)
	serveRecorded(h, req, rec)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || body.read {
		t.Fatalf("declared over the budget: %d, Retry-After %q, body read %v; want 503 before the read",
			rec.Code, rec.Header().Get("Retry-After"), body.read)
	}

	req = signedRequest(t, vc, vc.secret, vc.path(), payload)
	req.ContentLength = -1 // chunked
	h, _ = newTestHandler(app)
	if res := serve(t, h, req); res.rec.Code != http.StatusServiceUnavailable || res.next.called {
		t.Fatalf("chunked past the budget: %d, passed %v; want 503", res.rec.Code, res.next.called)
	}
	if app.bodies.InFlight() != 0 {
		t.Fatalf("%d bytes still taken", app.bodies.InFlight())
	}

	app.bodies = limiter.NewBudget(testMaxBody + 1)
	h, _ = newTestHandler(app)
	wantPassed(t, serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), payload)), vc, "true", payload)
	if app.bodies.InFlight() != 0 {
		t.Fatalf("%d bytes still taken after a passed delivery", app.bodies.InFlight())
	}
}

// TestOutboxFullRefuses: with max_outbox events waiting, a verified
// delivery is answered 503 with Retry-After and stores nothing; once the
// outbox drained, the vendor's retry is accepted.
func TestOutboxFullRefuses(t *testing.T) {
	app, mem := newForwardingApp(t)
	app.MaxOutbox = 3
	vc := caseByID(t, "gh-1")
	ctx := context.Background()
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, validRequest(t, vc)), vc, "true", []byte(vc.body))
	n, _, _ := mem.Stats(ctx)
	if n == 0 || n > 3 {
		t.Fatalf("outbox holds %d events after one push; the test needs 1-3", n)
	}
	other := caseByID(t, "bb-1")
	h, logs := newTestHandler(app)
	res := serve(t, h, validRequest(t, other))
	if res.rec.Code != http.StatusServiceUnavailable || res.rec.Header().Get("Retry-After") == "" || res.next.called {
		t.Fatalf("full outbox: %d, Retry-After %q, passed %v; want 503", res.rec.Code, res.rec.Header().Get("Retry-After"), res.next.called)
	}
	if after, _, _ := mem.Stats(ctx); after != n {
		t.Fatalf("a refused delivery changed the outbox from %d to %d", n, after)
	}
	if logs.FilterMessageSnippet("outbox full").Len() != 1 {
		t.Errorf("no log line says the outbox is full")
	}
	ps, err := mem.Next(ctx, "w", 100, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.Done(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	h, _ = newTestHandler(app)
	wantPassed(t, serve(t, h, validRequest(t, other)), other, "true", []byte(other.body))
}

// TestMaxInflightBodyAtLeastMaxBody: a budget smaller than one body of
// max_body could never admit such a body; the config is refused.
func TestMaxInflightBodyAtLeastMaxBody(t *testing.T) {
	a := &App{MaxBody: 1 << 20, MaxInflightBody: 1 << 10}
	if err := a.Validate(); err == nil {
		t.Fatal("max_inflight_body under max_body validated")
	}
	a.MaxInflightBody = 1 << 20
	if err := a.Validate(); err != nil {
		t.Fatalf("max_inflight_body = max_body: %v", err)
	}
}
