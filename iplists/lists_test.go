package iplists_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/internal/fakelists"
	"github.com/hookgate/caddy-hookgate/iplists"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// sameOrigin is the client hookgate gives Lists.
func sameOrigin(u *url.URL) *http.Client { return vendorapi.SameOriginClient(http.DefaultClient, u) }

func newLists(t *testing.T, refresh time.Duration, urls map[string]string) *iplists.Lists {
	t.Helper()
	l, err := iplists.New(iplists.Config{Refresh: refresh, URLs: urls, Client: sameOrigin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l
}

func has(t *testing.T, l *iplists.Lists, name, addr string) bool {
	t.Helper()
	s, ok := l.Get(name)
	if !ok {
		t.Fatalf("%s not loaded", name)
	}
	return s.Contains(netip.MustParseAddr(addr))
}

// A failed refresh, whatever failed, keeps the last good copy; before the
// first good one the list is not loaded, never empty or guessed.
func TestRefreshKeepsLastGoodList(t *testing.T) {
	meta := fakelists.New(t)
	l := newLists(t, time.Hour, map[string]string{"github": meta.MetaURL()})
	ctx := context.Background()

	meta.Fail(http.StatusBadGateway)
	if err := l.Refresh(ctx, "github"); err == nil {
		t.Fatal("a 502 refreshed the list")
	}
	if _, ok := l.Get("github"); ok {
		t.Fatal("a list that never loaded is loaded")
	}

	meta.Fail(0)
	meta.SetHooks("192.0.2.0/24", "2001:db8::/32")
	if err := l.Refresh(ctx, "github"); err != nil {
		t.Fatal(err)
	}
	if !has(t, l, "github", "192.0.2.7") || !has(t, l, "github", "2001:db8::7") || has(t, l, "github", "203.0.113.1") {
		t.Fatal("the list is not the hooks served")
	}

	for name, c := range map[string]struct {
		status int
		raw    string
	}{
		"HTTP 500":             {status: http.StatusInternalServerError},
		"HTTP 404":             {status: http.StatusNotFound},
		"not JSON":             {raw: "<html>rate limited</html>"},
		"no hooks":             {raw: `{"web":["192.0.2.0/24"]}`},
		"hooks empty":          {raw: `{"hooks":[]}`},
		"entry unreadable":     {raw: `{"hooks":["198.51.100.0/24","not-a-cidr"]}`},
		"entry wider than /8":  {raw: `{"hooks":["198.51.100.0/24","0.0.0.0/0"]}`},
		"IPv6 wider than /16":  {raw: `{"hooks":["2000::/3"]}`},
		"mapped IPv4 too wide": {raw: `{"hooks":["::ffff:0.0.0.0/97"]}`},
		"too many prefixes":    {raw: `{"hooks":[` + strings.Repeat(`"198.51.100.1",`, iplists.MaxPrefixes) + `"198.51.100.2"]}`},
		"answer too large":     {raw: `{"hooks":["198.51.100.0/24"],"pad":"` + strings.Repeat("x", iplists.MaxBytes) + `"}`},
	} {
		meta.Fail(c.status)
		meta.Raw("/meta", c.raw)
		if err := l.Refresh(ctx, "github"); err == nil {
			t.Errorf("%s: refreshed", name)
		}
		if !has(t, l, "github", "192.0.2.7") || has(t, l, "github", "198.51.100.1") {
			t.Errorf("%s: the last good copy was replaced", name)
		}
	}
	st := l.Status()[2] // sorted: atlassian, bitbucket, github
	if st.Name != "github" || !st.Loaded || st.Failures != 11 || st.LastError == "" || st.Spans != 2 {
		t.Errorf("status %+v", st)
	}

	meta.Fail(0)
	meta.Raw("/meta", "")
	meta.SetHooks("198.51.100.0/24")
	if err := l.Refresh(ctx, "github"); err != nil {
		t.Fatal(err)
	}
	if has(t, l, "github", "192.0.2.7") || !has(t, l, "github", "198.51.100.1") {
		t.Fatal("a good refresh did not replace the list")
	}
	if st := l.Status()[2]; st.Failures != 0 || st.LastError != "" {
		t.Errorf("status after success %+v", st)
	}
}

// An unchanged list is asked for conditionally: a 304 keeps the copy.
func TestRefreshConditional(t *testing.T) {
	meta := fakelists.New(t)
	meta.SetHooks("192.0.2.0/24")
	l := newLists(t, time.Hour, map[string]string{"github": meta.MetaURL()})
	for range 3 {
		if err := l.Refresh(context.Background(), "github"); err != nil {
			t.Fatal(err)
		}
	}
	if meta.NotModified() != 2 || !has(t, l, "github", "192.0.2.1") {
		t.Fatalf("%d 304s, want 2", meta.NotModified())
	}
}

// The list's client follows no redirect off the list URL's origin.
func TestRefreshRefusesRedirectOffOrigin(t *testing.T) {
	elsewhere := fakelists.New(t)
	elsewhere.SetHooks("192.0.2.0/24")
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.MetaURL(), http.StatusFound))
	t.Cleanup(redirect.Close)
	l := newLists(t, time.Hour, map[string]string{"github": redirect.URL})
	err := l.Refresh(context.Background(), "github")
	if !errors.Is(err, vendorapi.ErrRedirectOffOrigin) {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
	if n := elsewhere.Fetches("/meta"); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}

func TestNewRefuses(t *testing.T) {
	for name, cfg := range map[string]iplists.Config{
		"no client":    {},
		"unknown list": {Client: sameOrigin, URLs: map[string]string{"gitlab": "https://example.com/"}},
		"not http":     {Client: sameOrigin, URLs: map[string]string{"github": "file:///etc/hosts"}},
		"user info":    {Client: sameOrigin, URLs: map[string]string{"github": "https://u:p@example.com/"}},
		"no host":      {Client: sameOrigin, URLs: map[string]string{"github": "https:///meta"}},
	} {
		if _, err := iplists.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Started, Lists fetches the lists something wants and only those, and
// follows the served list as it changes.
func TestRunFetchesWantedAndFollows(t *testing.T) {
	feeds := fakelists.New(t)
	feeds.SetHooks("192.0.2.0/24")
	feeds.Raw("/atlassian", string(readAtlassian(t)))
	l := newLists(t, 20*time.Millisecond, map[string]string{"github": feeds.MetaURL(), "atlassian": feeds.AtlassianURL(), "bitbucket": feeds.AtlassianURL()})
	l.Start()
	if _, ok := l.Get("github"); ok {
		t.Fatal("loaded before anything was fetched")
	}
	waitFor(t, "github to load", func() bool { s, ok := l.Get("github"); return ok && s.Contains(netip.MustParseAddr("192.0.2.1")) })
	feeds.SetHooks("203.0.113.0/24")
	waitFor(t, "github to follow the served list", func() bool {
		s, _ := l.Get("github")
		return s.Contains(netip.MustParseAddr("203.0.113.1")) && !s.Contains(netip.MustParseAddr("192.0.2.1"))
	})
	feeds.Fail(http.StatusServiceUnavailable)
	before := feeds.Fetches("/meta")
	waitFor(t, "a failed refresh", func() bool { return feeds.Fetches("/meta") > before })
	if s, ok := l.Get("github"); !ok || !s.Contains(netip.MustParseAddr("203.0.113.1")) {
		t.Fatal("a failed scheduled refresh dropped the list")
	}
	if n := feeds.Fetches("/atlassian"); n != 0 {
		t.Fatalf("lists nobody wants were fetched %d times", n)
	}
	feeds.Fail(0)
	l.Want("bitbucket")
	waitFor(t, "a wanted list to load", func() bool {
		s, ok := l.Get("bitbucket")
		return ok && s.Contains(netip.MustParseAddr("2001:db8:1::9"))
	})
	l.Stop()
	after := feeds.Fetches("/meta")
	l.Stop()
	if _, ok := l.Get("github"); !ok {
		t.Fatal("Stop dropped the copies")
	}
	if feeds.Fetches("/meta") != after {
		t.Fatal("fetched after Stop")
	}
}

// waitFor polls cond until it holds; it fails only when it never does
// within a bound far beyond what the test needs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
