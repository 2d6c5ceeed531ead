// Handler tests: the harness shared by the handler tests (and by the limit,
// metrics and edge tests): apps, handlers, signed requests, one ServeHTTP
// run and the checks on its result, and a state store that is down.

package caddymodule

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/caddy-hookgate/limiter"
	"github.com/hookgate/caddy-hookgate/state"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// padJSON pads a JSON body with trailing spaces (still the same JSON) to
// exactly n bytes.
func padJSON(t testing.TB, body string, n int) []byte {
	t.Helper()
	if len(body) > n {
		t.Fatalf("body of %d bytes is over %d", len(body), n)
	}
	return []byte(body + strings.Repeat(" ", n-len(body)))
}

// newTestApp provisions an App with the static test integrations.
func newTestApp(t testing.TB, allowUnsigned bool) *App {
	t.Helper()
	a := &App{AllowUnsigned: "false", MaxBody: testMaxBody, Integrations: testIntegrations(), MaxAge: "off"} // the fixtures are of many dates; max_age has its own tests
	if allowUnsigned {
		a.AllowUnsigned = "true"
	}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("App.Provision: %v", err)
	}
	isolateState(a)
	return a
}

// isolateState gives a its own in-memory state and failure counts: the
// pooled ones are shared by every App of the process, and dedupe marks and
// brute-force counts would leak between tests.
func isolateState(a *App) *state.Memory {
	m := state.NewMemory(state.MemoryOptions{Now: func() time.Time { return testNow }})
	a.state = &pooledState{deliveries: m, outbox: m, failures: limiter.NewMemory(limiter.Options{})}
	if a.limit != nil {
		a.limit.counter = a.state.failures
	}
	return m
}

// newTestHandler wires a Handler to app as Provision would, with a fixed
// clock and a logger that records.
func newTestHandler(app *App) (*Handler, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := &Handler{app: app, logger: zap.New(core), now: func() time.Time { return testNow }}
	h.checks = &sync.Pool{New: func() any { return new(verifiers.Check) }}
	h.inbound = &sync.Pool{New: func() any { return new(inbound) }}
	return h, logs
}

// seen is what the next handler got.
type seen struct {
	called        bool
	body          []byte
	header        http.Header
	contentLength int64
	rawQuery      string
	requestURI    string
	transferEnc   []string
}

// result is one ServeHTTP run.
type result struct {
	rec  *httptest.ResponseRecorder
	err  error
	next seen
	repl *caddy.Replacer
	req  *http.Request // the request as the handler left it
}

func serve(t testing.TB, h *Handler, r *http.Request) result {
	t.Helper()
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	var res result
	res.rec, res.repl, res.req = httptest.NewRecorder(), repl, r
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		res.next.called = true
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("next: reading body: %v", err)
		}
		res.next.body = b
		res.next.header = r.Header.Clone()
		res.next.contentLength = r.ContentLength
		res.next.rawQuery = r.URL.RawQuery
		res.next.requestURI = r.RequestURI
		res.next.transferEnc = r.TransferEncoding
		w.WriteHeader(http.StatusAccepted)
		return nil
	})
	res.err = h.ServeHTTP(res.rec, r, next)
	return res
}

// signedRequest builds vc's delivery signed with secret (none when secret
// is empty) and posted to target.
func signedRequest(t testing.TB, vc vendorCase, secret, target string, body []byte) *http.Request {
	t.Helper()
	var hdr http.Header
	var query string
	if secret != "" {
		var err error
		hdr, query, err = verifiers.Sign(vc.vendor, vc.effectiveScheme(), []byte(secret), body, testNow, "msg_hg1")
		if err != nil {
			t.Fatalf("%s: Sign: %v", vc.id, err)
		}
	}
	if query != "" {
		target += "?" + query
	}
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for k, v := range vc.header {
		r.Header.Set(k, v)
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	return r
}

func validRequest(t testing.TB, vc vendorCase) *http.Request {
	return signedRequest(t, vc, vc.secret, vc.path(), []byte(vc.body))
}

// wantUnauthorized checks the uniform 401.
func wantUnauthorized(t *testing.T, res result) {
	t.Helper()
	if res.err != nil {
		t.Errorf("ServeHTTP returned %v", res.err)
	}
	if res.rec.Code != http.StatusUnauthorized {
		t.Errorf("status %d, want 401 (body %s)", res.rec.Code, res.rec.Body)
	}
	if got := res.rec.Body.String(); got != `{"error":"unauthorized"}` {
		t.Errorf("body %q, want the uniform 401 body", got)
	}
	if ct := res.rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	wantNotPassed(t, res)
}

// wantNotPassed checks that nothing reached the next handler and that no
// annotation was left on the request.
func wantNotPassed(t *testing.T, res result) {
	t.Helper()
	if res.next.called {
		t.Error("the next handler was called")
	}
	for k := range res.req.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-hookgate-") {
			t.Errorf("annotation header %s left on a refused request", k)
		}
	}
	if v, _ := res.repl.GetString("http.hookgate.verified"); v != "" {
		t.Errorf("{http.hookgate.verified} = %q on a refusal", v)
	}
	if reason, _ := res.repl.GetString("http.hookgate.reason"); reason == "" {
		t.Error("{http.hookgate.reason} empty on a refusal")
	}
}

// wantPassed checks a delivery that went through, annotated.
func wantPassed(t *testing.T, res result, vc vendorCase, verified string, body []byte) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("ServeHTTP returned %v", res.err)
	}
	if !res.next.called {
		reason, _ := res.repl.GetString("http.hookgate.reason")
		t.Fatalf("refused with %d %s (reason %q)", res.rec.Code, res.rec.Body, reason)
	}
	if res.rec.Code != http.StatusAccepted {
		t.Errorf("status %d, want the next handler's 202", res.rec.Code)
	}
	if !bytes.Equal(res.next.body, body) {
		t.Errorf("next got body %q, want %q", res.next.body, body)
	}
	if res.next.contentLength != int64(len(body)) {
		t.Errorf("next got ContentLength %d, want %d", res.next.contentLength, len(body))
	}
	if len(res.next.transferEnc) != 0 {
		t.Errorf("next got TransferEncoding %v", res.next.transferEnc)
	}
	eventID := res.next.header.Get("X-Hookgate-Event-Id")
	if !eventIDPattern.MatchString(eventID) {
		t.Errorf("X-Hookgate-Event-Id %q is not an event id", eventID)
	}
	want := map[string]string{
		"X-Hookgate-Verified":    verified,
		"X-Hookgate-Vendor":      string(vc.vendor),
		"X-Hookgate-Integration": vc.id,
		"X-Hookgate-Event":       vc.event,
		"X-Hookgate-Delivery":    vc.delivery,
		"X-Hookgate-Event-Id":    eventID,
	}
	placeholders := map[string]string{
		"X-Hookgate-Verified": "verified", "X-Hookgate-Vendor": "vendor", "X-Hookgate-Integration": "integration",
		"X-Hookgate-Event": "event", "X-Hookgate-Delivery": "delivery", "X-Hookgate-Event-Id": "event_id",
	}
	for k, v := range want {
		got := res.next.header.Values(k)
		switch {
		case v == "" && len(got) != 0:
			t.Errorf("%s = %q, want absent", k, got)
		case v != "" && (len(got) != 1 || got[0] != v):
			t.Errorf("%s = %q, want exactly %q", k, got, v)
		}
		if p, _ := res.repl.GetString("http.hookgate." + placeholders[k]); p != v {
			t.Errorf("{http.hookgate.%s} = %q, want %q", placeholders[k], p, v)
		}
	}
}

var eventIDPattern = regexp.MustCompile(`^evt_[0-9a-f]{32}$`)

// wantNoCredentials checks the next handler saw no bearer-like credential.
func wantNoCredentials(t *testing.T, res result, secret string) {
	t.Helper()
	for _, k := range []string{"Authorization", "X-Gitlab-Token", "X-Api-Token", "X-Bamboo-Token"} {
		if v := res.next.header.Values(k); len(v) != 0 {
			t.Errorf("next got %s: %q", k, v)
		}
	}
	q, _ := url.ParseQuery(res.next.rawQuery)
	if q.Has("token") {
		t.Errorf("next got a token query parameter: %q", res.next.rawQuery)
	}
	for k, vs := range res.next.header {
		for _, v := range vs {
			if strings.Contains(v, secret) {
				t.Errorf("next got the secret in header %s", k)
			}
		}
	}
	if strings.Contains(res.next.rawQuery, url.QueryEscape(secret)) || strings.Contains(res.next.requestURI, url.QueryEscape(secret)) {
		t.Errorf("next got the secret in the URL: %q", res.next.requestURI)
	}
}

// wantNoSecretInLogs checks that no log entry mentions a secret.
func wantNoSecretInLogs(t *testing.T, logs *observer.ObservedLogs, secrets ...string) {
	t.Helper()
	for _, e := range logs.All() {
		text := e.Message
		for k, v := range e.ContextMap() {
			text += " " + k + "=" + fmt.Sprint(v)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("log entry %q contains a secret", e.Message)
			}
		}
	}
}

// failingDeliveries is a state store that is down.
type failingDeliveries struct{ state.Deliveries }

func (failingDeliveries) Commit(context.Context, state.Accepted) (state.Outcome, error) {
	return state.Committed, state.ErrUnavailable
}

func (failingDeliveries) Claim(context.Context, state.Accepted, string, time.Duration) (state.Outcome, error) {
	return state.Claimed, state.ErrUnavailable
}

func (failingDeliveries) Finish(context.Context, state.Accepted) error {
	return state.ErrUnavailable
}

func (failingDeliveries) Release(context.Context, state.Accepted, string) error {
	return state.ErrUnavailable
}

func (failingDeliveries) Seen(context.Context, string) (bool, error) {
	return false, state.ErrUnavailable
}

func (failingDeliveries) Reject(context.Context, string, state.AuditEntry, int) error {
	return state.ErrUnavailable
}

// newForwardingApp is a test app with an upstream configured (its worker is
// never started: nothing is sent).
func newForwardingApp(t *testing.T) (*App, *state.Memory) {
	t.Helper()
	a := &App{MaxAge: "off", AllowUnsigned: "false", MaxBody: testMaxBody, Integrations: testIntegrations(),
		Upstream: &UpstreamConfig{URL: "http://127.0.0.1:1/v1/events"}}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("App.Provision: %v", err)
	}
	if !a.forwarding() {
		t.Fatal("an app with an upstream is not forwarding")
	}
	return a, isolateState(a)
}
