package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/caddy-hookgate/limiter"
)

func TestFailureLimitCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want *FailureLimitConfig
	}{
		{"block", "failure_limit {\nthreshold 5\nunknown_threshold 7\nwindow 90s\n}",
			&FailureLimitConfig{Threshold: 5, UnknownThreshold: 7, Window: caddy.Duration(90 * time.Second)}},
		{"partial block", "failure_limit {\nwindow 1h\n}", &FailureLimitConfig{Window: caddy.Duration(time.Hour)}},
		{"bare", "failure_limit", &FailureLimitConfig{}},
		{"off", "failure_limit off", &FailureLimitConfig{Disabled: true}},
		{"absent", "max_body 1MiB", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a App
			if err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("hookgate {\n" + tc.in + "\n}")); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if (a.FailureLimit == nil) != (tc.want == nil) || (tc.want != nil && *a.FailureLimit != *tc.want) {
				t.Errorf("failure_limit = %+v, want %+v", a.FailureLimit, tc.want)
			}
		})
	}
}

func TestFailureLimitCaddyfileErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, wantErr string }{
		{"on", "failure_limit on", `"on" is neither off nor a block`},
		{"off twice", "failure_limit off off", "wrong argument count"},
		{"off with block", "failure_limit off {\nthreshold 3\n}", "off takes no block"},
		{"unknown", "failure_limit {\nburst 3\n}", `unrecognized subdirective "burst"`},
		{"threshold zero", "failure_limit {\nthreshold 0\n}", "threshold: not a positive integer"},
		{"threshold negative", "failure_limit {\nthreshold -1\n}", "not a positive integer"},
		{"threshold word", "failure_limit {\nthreshold many\n}", "not a positive integer"},
		{"threshold no arg", "failure_limit {\nthreshold\n}", "wrong argument count"},
		{"threshold two args", "failure_limit {\nthreshold 1 2\n}", "wrong argument count"},
		{"unknown_threshold zero", "failure_limit {\nunknown_threshold 0\n}", "unknown_threshold: not a positive integer"},
		{"window unitless", "failure_limit {\nwindow 10\n}", "not a positive duration"},
		{"window zero", "failure_limit {\nwindow 0s\n}", "not a positive duration"},
		{"window below a second", "failure_limit {\nwindow 500ms\n}", "at least 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a App
			err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("hookgate {\n" + tc.in + "\n}"))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("UnmarshalCaddyfile: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// The Caddyfile adapts to the documented JSON, which reads back the same.
func TestAdaptFailureLimit(t *testing.T) {
	for _, tc := range []struct {
		name, block, want string
		cfg               FailureLimitConfig
	}{
		{"block", "failure_limit {\n\t\t\tthreshold 5\n\t\t\tunknown_threshold 50\n\t\t\twindow 1m\n\t\t}",
			`{"threshold": 5, "unknown_threshold": 50, "window": 60000000000}`,
			FailureLimitConfig{Threshold: 5, UnknownThreshold: 50, Window: caddy.Duration(time.Minute)}},
		{"off", "failure_limit off", `{"disabled": true}`, FailureLimitConfig{Disabled: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg := adapt(t, "{\n\thookgate {\n\t\t"+tc.block+"\n\t}\n}\n:8080 {\n\thookgate\n}\n")
			got := jsonAt(t, cfg, "apps", "hookgate")
			assertJSON(t, "apps.hookgate", got, `{"failure_limit": `+tc.want+`}`)
			raw, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var a App
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatalf("decoding the adapted app: %v", err)
			}
			if a.FailureLimit == nil || *a.FailureLimit != tc.cfg {
				t.Errorf("round trip: %+v, want %+v", a.FailureLimit, tc.cfg)
			}
		})
	}
}

func TestNewFailureLimit(t *testing.T) {
	counter := limiter.NewMemory(limiter.Options{})
	l, err := newFailureLimit(nil, counter, zap.NewNop())
	if err != nil || l == nil {
		t.Fatalf("defaults: %v, %v", l, err)
	}
	if l.threshold != 20 || l.unknownThreshold != 100 || l.window != 10*time.Minute {
		t.Errorf("defaults: threshold %d, unknown %d, window %v", l.threshold, l.unknownThreshold, l.window)
	}
	l, err = newFailureLimit(&FailureLimitConfig{Threshold: 3, UnknownThreshold: 4, Window: caddy.Duration(time.Minute)}, counter, zap.NewNop())
	if err != nil || l.threshold != 3 || l.unknownThreshold != 4 || l.window != time.Minute {
		t.Errorf("set: %+v, %v", l, err)
	}
	if l, err := newFailureLimit(&FailureLimitConfig{Disabled: true, Threshold: 3}, counter, zap.NewNop()); l != nil || err != nil {
		t.Errorf("disabled: %v, %v", l, err)
	}
	for _, fc := range []FailureLimitConfig{
		{Threshold: -1},
		{UnknownThreshold: -1},
		{Window: caddy.Duration(time.Millisecond)},
		{Window: caddy.Duration(-time.Minute)},
	} {
		if _, err := newFailureLimit(&fc, counter, zap.NewNop()); err == nil {
			t.Errorf("%+v: no error", fc)
		}
	}
	// A provisioned app has the limiter on unless told otherwise.
	a := &App{}
	if err := provisionApp(t, a); err != nil {
		t.Fatal(err)
	}
	if a.limit == nil || a.limit.counter == nil {
		t.Error("provisioned app has no limiter")
	}
	a = &App{FailureLimit: &FailureLimitConfig{Disabled: true}}
	if err := provisionApp(t, a); err != nil {
		t.Fatal(err)
	}
	if a.limit != nil {
		t.Error("disabled limiter provisioned")
	}
}

// limitClock is the limiter's clock in these tests: 10s into a minute.
var limitClock = time.Date(2026, 3, 4, 12, 0, 10, 0, time.UTC)

// newLimitedApp is newTestApp with its own limiter on a fixed clock.
func newLimitedApp(t *testing.T, threshold, unknownThreshold int, counter limiter.Failures) *App {
	t.Helper()
	a := newTestApp(t, false)
	if counter == nil {
		counter = limiter.NewMemory(limiter.Options{Now: func() time.Time { return limitClock }})
	}
	l, err := newFailureLimit(&FailureLimitConfig{Threshold: threshold, UnknownThreshold: unknownThreshold, Window: caddy.Duration(time.Minute)}, counter, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	l.now = func() time.Time { return limitClock }
	a.limit = l
	return a
}

// from makes r come from addr.
func from(r *http.Request, addr string) *http.Request {
	r.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(addr), 4711).String()
	return r
}

// wantTooMany checks the uniform 429.
func wantTooMany(t *testing.T, res result, retryAfter string) {
	t.Helper()
	if res.err != nil {
		t.Errorf("ServeHTTP returned %v", res.err)
	}
	if res.rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429 (body %s)", res.rec.Code, res.rec.Body)
	}
	if got := res.rec.Body.String(); got != `{"error":"too many requests"}` {
		t.Errorf("body %q", got)
	}
	if got := res.rec.Header().Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After %q, want %q", got, retryAfter)
	}
	if ct := res.rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if reason, _ := res.repl.GetString("http.hookgate.reason"); !strings.HasPrefix(reason, "rate limited: ") {
		t.Errorf("reason %q", reason)
	}
	wantNotPassed(t, res)
}

// Failed verifications of a known integration from one address are
// answered 429 past the threshold; valid deliveries from that address
// still pass, and other addresses and integrations have their own counts.
func TestLimitKnownIntegration(t *testing.T) {
	app := newLimitedApp(t, 3, 100, nil)
	gh := caseByID(t, "gh-1")
	forged := func(addr string) result {
		h, _ := newTestHandler(app)
		return serve(t, h, from(signedRequest(t, gh, "wrong", gh.path(), []byte(gh.body)), addr))
	}
	for i := 0; i < 3; i++ {
		wantUnauthorized(t, forged("198.51.100.7"))
	}
	wantTooMany(t, forged("198.51.100.7"), "50")
	wantTooMany(t, forged("198.51.100.7"), "50")

	// A valid delivery from the limited address passes.
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, from(validRequest(t, gh), "198.51.100.7")), gh, "true", []byte(gh.body))
	// Other reject paths of the same integration are limited too.
	h, _ = newTestHandler(app)
	wantTooMany(t, serve(t, h, from(signedRequest(t, gh, "", gh.path(), []byte(gh.body)), "198.51.100.7")), "50")
	h, _ = newTestHandler(app)
	wantTooMany(t, serve(t, h, from(signedRequest(t, gh, gh.secret, "/webhooks/ci/gitlab/gh-1", []byte(gh.body)), "198.51.100.7")), "50")
	// Another address, another integration: their own counts.
	wantUnauthorized(t, forged("198.51.100.8"))
	gl := caseByID(t, "gl-1")
	h, _ = newTestHandler(app)
	wantUnauthorized(t, serve(t, h, from(signedRequest(t, gl, "wrong", gl.path(), []byte(gl.body)), "198.51.100.7")))

	// Audit: three plain rejections, one "rate limited", then nothing.
	_, rejected, err := app.state.deliveries.Audit(context.Background(), "gh-1")
	if err != nil {
		t.Fatal(err)
	}
	var limited, plain int
	for _, e := range rejected {
		if strings.HasPrefix(e.Reason, "rate limited: signature invalid") {
			limited++
		} else {
			plain++
		}
	}
	if limited != 1 || plain != 4 { // 3 + the one from 198.51.100.8
		t.Errorf("audit: %d rate limited, %d plain entries, want 1 and 4: %+v", limited, plain, rejected)
	}
}

// An IPv6 caller counts by its /64: rotating addresses does not help.
func TestLimitIPv6Prefix(t *testing.T) {
	app := newLimitedApp(t, 2, 100, nil)
	gh := caseByID(t, "gh-1")
	for i, addr := range []string{"2001:db8:7:7::1", "2001:db8:7:7::2", "2001:db8:7:7:ffff::3"} {
		h, _ := newTestHandler(app)
		res := serve(t, h, from(signedRequest(t, gh, "wrong", gh.path(), []byte(gh.body)), addr))
		if i < 2 {
			wantUnauthorized(t, res)
		} else {
			wantTooMany(t, res, "50")
		}
	}
	h, _ := newTestHandler(app)
	wantUnauthorized(t, serve(t, h, from(signedRequest(t, gh, "wrong", gh.path(), []byte(gh.body)), "2001:db8:7:8::1")))
}

// The address is Caddy's client IP when set (it honours trusted_proxies),
// else the connection's peer; a forwarded header alone changes nothing.
func TestClientAddr(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.RemoteAddr = "192.0.2.9:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.1")
	if got := clientAddr(r); got != netip.MustParsePrefix("192.0.2.9/32") {
		t.Errorf("without client_ip: %v", got)
	}
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: "2001:db8:1:2:3::4"}))
	if got := clientAddr(r); got != netip.MustParsePrefix("2001:db8:1:2::/64") {
		t.Errorf("with client_ip: %v", got)
	}
	r.RemoteAddr = "not an address"
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
	if got := clientAddr(r); got.IsValid() {
		t.Errorf("garbage: %v", got)
	}
}

// vaultCounter is a fake Vault that knows one record and counts reads of
// records. It refuses to list them, so that no listing spares a read.
func vaultCounter(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var reads atomic.Int64
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !strings.HasPrefix(r.URL.Path, "/v1/secret/data/") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"errors":["permission denied"]}`)
			return
		}
		reads.Add(1)
		if r.URL.Path == "/v1/secret/data/hookgate/integrations/vault-gh" {
			_, _ = io.WriteString(w, `{"data":{"data":{"vendor":"github","secret":"vault-gh-secret"},"metadata":{"version":1}}}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":[]}`)
	}))
	t.Cleanup(vault.Close)
	return vault, &reads
}

// Past unknown_threshold, an address's requests for ids that are not known
// are answered 429 before any Vault read; known integrations still work.
func TestLimitUnknownIDs(t *testing.T) {
	vault, reads := vaultCounter(t)
	a := &App{MaxAge: "off",
		AllowUnsigned: "false",
		MaxBody:       testMaxBody,
		Integrations:  testIntegrations(),
		Vault:         &VaultConfig{Address: vault.URL, Token: "hvs.test-token", Timeout: caddy.Duration(2 * time.Second)},
		FailureLimit:  &FailureLimitConfig{Threshold: 5, UnknownThreshold: 3, Window: caddy.Duration(time.Minute)},
	}
	if err := provisionApp(t, a); err != nil {
		t.Fatal(err)
	}
	isolateState(a)
	a.limit.counter = limiter.NewMemory(limiter.Options{Now: func() time.Time { return limitClock }})
	a.limit.now = func() time.Time { return limitClock }
	gh := caseByID(t, "gh-1")
	vgh := gh
	vgh.id, vgh.secret = "vault-gh", "vault-gh-secret"
	const attacker = "203.0.113.66"
	send := func(target, addr string) result {
		h, _ := newTestHandler(a)
		return serve(t, h, from(signedRequest(t, gh, gh.secret, target, []byte(gh.body)), addr))
	}

	// The vendor's known integration is in the cache before the flood.
	h, _ := newTestHandler(a)
	wantPassed(t, serve(t, h, from(validRequest(t, vgh), attacker)), vgh, "true", []byte(vgh.body))

	wantUnauthorized(t, send("/webhooks/ci/github/nope-1", attacker))
	wantUnauthorized(t, send("/webhooks/ci/github/-malformed", attacker))
	wantUnauthorized(t, send("/other", attacker))
	before := reads.Load()
	wantTooMany(t, send("/webhooks/ci/github/nope-2", attacker), "50") // the fourth: one more Vault read
	if got := reads.Load() - before; got > 1 {
		t.Errorf("the request that went over read Vault %d times, want at most 1", got)
	}
	before = reads.Load()
	for i := range 20 {
		wantTooMany(t, send("/webhooks/ci/github/nope-x"+string(rune('a'+i)), attacker), "50")
	}
	wantTooMany(t, send("/webhooks/ci/github/-malformed", attacker), "50")
	if got := reads.Load() - before; got != 0 {
		t.Errorf("limited address: %d Vault reads, want 0", got)
	}

	// Known ids from the limited address: verified as usual.
	for _, vc := range []vendorCase{gh, vgh} {
		vc.header = map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "second-" + vc.id}
		vc.delivery = "second-" + vc.id
		vc.body += "\n" // a body of its own: the same body again is a replay
		h, _ := newTestHandler(a)
		wantPassed(t, serve(t, h, from(validRequest(t, vc), attacker)), vc, "true", []byte(vc.body))
	}
	h, _ = newTestHandler(a)
	wantUnauthorized(t, serve(t, h, from(signedRequest(t, gh, "wrong", gh.path(), []byte(gh.body)), attacker)))

	// Another address is not limited.
	wantUnauthorized(t, send("/webhooks/ci/github/nope-3", "203.0.113.67"))

	// When the window ends, the address starts again.
	next := limitClock.Add(time.Minute)
	a.limit.now = func() time.Time { return next }
	a.limit.counter = limiter.NewMemory(limiter.Options{Now: func() time.Time { return next }})
	wantUnauthorized(t, send("/webhooks/ci/github/nope-4", attacker))
}

// failingCounter is a limiter whose store is down.
type failingCounter struct{ calls atomic.Int64 }

func (f *failingCounter) Add(context.Context, string, netip.Addr, time.Duration) (limiter.Tally, error) {
	f.calls.Add(1)
	return limiter.Tally{}, errors.New("redis: connection refused")
}

// With its store down, the limiter fails open: failures are answered 401
// as without it, never 503, and the outage is logged once, not per request.
func TestLimitFailsOpen(t *testing.T) {
	counter := new(failingCounter)
	app := newLimitedApp(t, 1, 1, counter)
	core, logs := observer.New(zapcore.WarnLevel)
	app.limit.logger = zap.New(core)
	gh := caseByID(t, "gh-1")
	for range 5 {
		h, _ := newTestHandler(app)
		wantUnauthorized(t, serve(t, h, signedRequest(t, gh, "wrong", gh.path(), []byte(gh.body))))
		h, _ = newTestHandler(app)
		wantUnauthorized(t, serve(t, h, signedRequest(t, gh, gh.secret, "/webhooks/ci/github/nope", []byte(gh.body))))
	}
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, validRequest(t, gh)), gh, "true", []byte(gh.body))
	if got := counter.calls.Load(); got != 10 {
		t.Errorf("counter asked %d times, want 10 (failures only)", got)
	}
	if n := logs.FilterMessageSnippet("brute-force limiter unavailable").Len(); n != 1 {
		t.Errorf("outage logged %d times, want once", n)
	}
}

// Turned off, the limiter never answers 429.
func TestLimitDisabled(t *testing.T) {
	app := newTestApp(t, false)
	app.limit = nil
	gh := caseByID(t, "gh-1")
	for range 30 {
		h, _ := newTestHandler(app)
		wantUnauthorized(t, serve(t, h, signedRequest(t, gh, "wrong", gh.path(), []byte(gh.body))))
	}
}

// The limiter keeps what it remembers bounded.
func TestLimitRememberBounded(t *testing.T) {
	l, err := newFailureLimit(nil, limiter.NewMemory(limiter.Options{}), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	now := limitClock
	for i := range maxLimited + 10 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.remember(limitKey{"gh", netip.PrefixFrom(a, 32)}, now.Add(time.Minute), now)
	}
	if n := len(l.limited); n != maxLimited || l.size.Load() != maxLimited {
		t.Errorf("remembered %d (size %d), want %d", n, l.size.Load(), maxLimited)
	}
	// Once they have expired, new ones take their place.
	later := now.Add(2 * time.Minute)
	l.remember(limitKey{"gh", netip.MustParsePrefix("192.0.2.1/32")}, later.Add(time.Minute), later)
	if n := len(l.limited); n != 1 {
		t.Errorf("after expiry: %d remembered, want 1", n)
	}
	if _, ok := l.limitedUntil(limitKey{"gh", netip.MustParsePrefix("192.0.2.1/32")}, later); !ok {
		t.Error("the new entry is not limited")
	}
}
