package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/hookgate/caddy-hookgate/internal/fakelists"
	"github.com/hookgate/caddy-hookgate/state"
)

// hooks is a fake GitHub meta API serving cidrs as its hooks.
func hooks(t *testing.T, cidrs ...string) *fakelists.Server {
	f := fakelists.New(t)
	f.SetHooks(cidrs...)
	return f
}

// allowApp is a test app with gh-1's secret under three integrations:
// one admitting the test requests' address (httptest's 192.0.2.1), one
// admitting another range, one admitting GitHub's published hooks, which
// are served by meta.
func allowApp(t *testing.T, meta *fakelists.Server) *App {
	t.Helper()
	gh := caseByID(t, "gh-1")
	ics := testIntegrations()
	ics["gh-here"] = IntegrationConfig{Vendor: "github", Secret: gh.secret, AllowIPs: []string{"2001:db8::/32", "192.0.2.0/24"}}
	ics["gh-there"] = IntegrationConfig{Vendor: "github", Secret: gh.secret, AllowIPs: []string{"198.51.100.0/24", "2001:db8::1"}}
	ics["gh-listed"] = IntegrationConfig{Vendor: "github", Secret: gh.secret, AllowIPs: []string{"github"}}
	a := &App{AllowUnsigned: "false", MaxBody: testMaxBody, Integrations: ics, MaxAge: "off",
		IPLists: &IPListsConfig{Lists: map[string]string{"github": meta.MetaURL()}}}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("App.Provision: %v", err)
	}
	isolateState(a)
	return a
}

// ghTo is gh-1's valid delivery sent to integration id, a delivery of its
// own each time (its id and body differ).
func ghTo(t *testing.T, id string) (vendorCase, *http.Request) {
	vc := caseByID(t, "gh-1")
	ghSeq++
	vc.id = id
	vc.delivery = fmt.Sprintf("%s-%d", vc.delivery, ghSeq)
	vc.header = maps.Clone(vc.header)
	vc.header["X-GitHub-Delivery"] = vc.delivery
	vc.body += strings.Repeat(" ", ghSeq)
	return vc, validRequest(t, vc)
}

// ghSeq numbers ghTo's deliveries.
var ghSeq int

func rejectedOf(t *testing.T, app *App, id string) []state.AuditEntry {
	t.Helper()
	_, rej, err := app.state.deliveries.Audit(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rej
}

// allow_ips admits only the addresses it names: others get the uniform
// 401 before the body is read, with the connection closed, audited
// "address not allowed", even with a valid signature.
func TestAllowIPsLiteral(t *testing.T) {
	app := allowApp(t, hooks(t, "192.0.2.0/24"))
	vc, r := ghTo(t, "gh-here")
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, r), vc, "true", []byte(vc.body))

	vc, r = ghTo(t, "gh-there")
	res := serve(t, h, r)
	wantUnauthorized(t, res)
	if res.rec.Header().Get("Connection") != "close" {
		t.Error("a refused address keeps its connection")
	}
	if reason, _ := res.repl.GetString("http.hookgate.reason"); reason != "address not allowed" {
		t.Errorf("reason %q", reason)
	}
	rej := rejectedOf(t, app, "gh-there")
	if len(rej) != 1 || rej[0].Reason != "address not allowed" || rej[0].Signature != "invalid" || rej[0].Delivery != vc.delivery {
		t.Fatalf("gh-there rejected: %+v", rej)
	}
	if rej := rejectedOf(t, app, "gh-here"); len(rej) != 0 {
		t.Errorf("gh-here rejected: %+v", rej)
	}
}

// The address checked is Caddy's client IP (what trusted_proxies made of
// X-Forwarded-For), not the connection's peer.
func TestAllowIPsUsesCaddysClientIP(t *testing.T) {
	app := allowApp(t, hooks(t, "192.0.2.0/24"))
	h, _ := newTestHandler(app)
	withClientIP := func(r *http.Request, ip string) *http.Request {
		return r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: ip}))
	}
	_, r := ghTo(t, "gh-here") // peer 192.0.2.1: admitted by itself
	wantUnauthorized(t, serve(t, h, withClientIP(r, "198.51.100.9")))
	vc, r := ghTo(t, "gh-there") // peer 192.0.2.1: refused by itself
	wantPassed(t, serve(t, h, withClientIP(r, "198.51.100.9")), vc, "true", []byte(vc.body))
	vc, r = ghTo(t, "gh-there")
	wantPassed(t, serve(t, h, withClientIP(r, "2001:db8::1")), vc, "true", []byte(vc.body))
	_, r = ghTo(t, "gh-there")
	wantUnauthorized(t, serve(t, h, withClientIP(r, "2001:db8::2")))
}

// allow_ips github follows GitHub's published hooks: 503 with Retry-After
// before the list has loaded (not audited: the sender is not at fault),
// admitted while the list holds the address, refused once a refresh
// drops it.
func TestAllowIPsPublishedList(t *testing.T) {
	meta := hooks(t, "192.0.2.0/28", "2001:db8::/32")
	app := allowApp(t, meta)
	h, logs := newTestHandler(app)

	_, r := ghTo(t, "gh-listed")
	res := serve(t, h, r)
	if res.rec.Code != http.StatusServiceUnavailable || res.rec.Header().Get("Retry-After") == "" || res.next.called {
		t.Fatalf("before the list loaded: %d, Retry-After %q, passed %v", res.rec.Code, res.rec.Header().Get("Retry-After"), res.next.called)
	}
	if len(rejectedOf(t, app, "gh-listed")) != 0 {
		t.Error("a delivery refused for want of the list was audited as the sender's fault")
	}
	if logs.FilterMessageSnippet("has not loaded").Len() != 1 {
		t.Error("no warning that the list has not loaded")
	}

	ctx := context.Background()
	if err := app.ipLists.lists.Refresh(ctx, "github"); err != nil {
		t.Fatal(err)
	}
	vc, r := ghTo(t, "gh-listed")
	wantPassed(t, serve(t, h, r), vc, "true", []byte(vc.body))

	meta.SetHooks("198.51.100.0/24")
	if err := app.ipLists.lists.Refresh(ctx, "github"); err != nil {
		t.Fatal(err)
	}
	_, r = ghTo(t, "gh-listed")
	wantUnauthorized(t, serve(t, h, r))
	if rej := rejectedOf(t, app, "gh-listed"); len(rej) != 1 || rej[0].Reason != "address not allowed" {
		t.Fatalf("gh-listed rejected: %+v", rej)
	}

	// A broken feed keeps the last good list.
	meta.Fail(http.StatusInternalServerError)
	if err := app.ipLists.lists.Refresh(ctx, "github"); err == nil {
		t.Fatal("a 500 refreshed the list")
	}
	_, r = ghTo(t, "gh-listed")
	wantUnauthorized(t, serve(t, h, r))
}

// The lists show in the metrics while wanted.
func TestAllowIPsMetrics(t *testing.T) {
	app := allowApp(t, hooks(t, "192.0.2.0/24"))
	reg := withMetrics(t, app, nil)
	got := metricSamples(t, reg)
	wantSample(t, got, "caddy_hookgate_ip_list_loaded{list=github}", 0)
	if _, ok := got["caddy_hookgate_ip_list_loaded{list=atlassian}"]; ok {
		t.Error("a list nobody wants is reported")
	}
	if err := app.ipLists.lists.Refresh(context.Background(), "github"); err != nil {
		t.Fatal(err)
	}
	got = metricSamples(t, reg)
	wantSample(t, got, "caddy_hookgate_ip_list_loaded{list=github}", 1)
	wantSample(t, got, "caddy_hookgate_ip_list_refresh_failures{list=github}", 0)
	if _, ok := got["caddy_hookgate_ip_list_age_seconds{list=github}"]; !ok {
		t.Error("no age for a loaded list")
	}
}

func TestAllowIPsConfigErrors(t *testing.T) {
	integration := func(lines ...string) string {
		return "hookgate {\nintegration x {\nvendor github\n" + strings.Join(lines, "\n") + "\n}\n}"
	}
	lists := func(lines ...string) string {
		return "hookgate {\nip_lists {\n" + strings.Join(lines, "\n") + "\n}\n}"
	}
	for _, tc := range []struct{ name, in, wantErr string }{
		{"allow_ips without entries", integration("allow_ips"), "wrong argument count"},
		{"allow_ips unknown list", integration("allow_ips 192.0.2.0/24 gitlab"), `allow_ips: "gitlab" is neither`},
		{"allow_ips bad CIDR", integration("allow_ips 192.0.2.0/33"), "allow_ips"},
		{"ip_lists argument", "hookgate {\nip_lists x {\n}\n}", "wrong argument count"},
		{"ip_lists unknown list", lists("gitlab"), `"gitlab"`},
		{"ip_lists two URLs", lists("github https://a/ https://b/"), "wrong argument count"},
		{"ip_lists bad refresh", lists("refresh 0s"), "positive duration"},
	} {
		var a App
		err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	for name, a := range map[string]*App{
		"bad entry in JSON": {Integrations: map[string]IntegrationConfig{"x": {Vendor: "github", AllowIPs: []string{"github", "nonsense"}}}},
		"list URL not http": {IPLists: &IPListsConfig{Lists: map[string]string{"github": "ftp://example.com/meta"}}},
		"unknown list":      {IPLists: &IPListsConfig{Lists: map[string]string{"gitlab": ""}}},
	} {
		if err := provisionApp(t, a); err == nil {
			t.Errorf("%s: provisioned", name)
		}
	}
}

// A server that trusts proxies without trusted_proxies_strict is warned
// about, once, when it serves an integration with allow_ips, limiter or
// not: a forged X-Forwarded-For would pass allow_ips.
func TestAllowIPsLaxTrustedProxiesWarned(t *testing.T) {
	for _, tc := range []struct {
		name   string
		strict int
		id     string
		want   int
	}{
		{"lax, allow_ips", 0, "gh-there", 1},
		{"strict, allow_ips", 1, "gh-there", 0},
		{"lax, no allow_ips", 0, "gh-1", 0},
	} {
		app := allowApp(t, hooks(t, "192.0.2.0/24"))
		app.limit = nil
		h, logs := newTestHandler(app)
		h.allowIPsProxyCheck = new(sync.Once)
		srv := &caddyhttp.Server{TrustedProxiesRaw: json.RawMessage(`{"source":"static","ranges":["10.0.0.0/8"]}`), TrustedProxiesStrict: tc.strict}
		for range 3 {
			_, r := ghTo(t, tc.id)
			serve(t, h, r.WithContext(context.WithValue(r.Context(), caddyhttp.ServerCtxKey, srv)))
		}
		if n := logs.FilterMessageSnippet("passes allow_ips").Len(); n != tc.want {
			t.Errorf("%s: %d warnings, want %d", tc.name, n, tc.want)
		}
	}
}
