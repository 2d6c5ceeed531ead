package integration_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// elsewhere is a server an attacker controls: it records every request
// it gets, with its headers.
type elsewhere struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newElsewhere(t *testing.T) *elsewhere {
	e := &elsewhere{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, r.Header.Clone())
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"requests":[],"list_info":{"has_more_rows":false}}`))
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *elsewhere) requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.seen)
}

// newRedirector is a vendor API that answers every call with a 302 to
// target, keeping the path and query; it counts the calls.
func newRedirector(t *testing.T, target string) (*httptest.Server, *int) {
	var mu sync.Mutex
	calls := 0
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

// TestVendorClientsFollowNoRedirectOffTheirHost: a ManageEngine api_url
// that answers 302 to another host, and a GitHub api_url that does the
// same. Through real Caddy, neither the ticket poller (which sends its
// authtoken in a custom header, which Go would carry across hosts) nor
// registration sends anything to the redirect's target; the poller's
// status and register's answer name the refusal. The same Caddy config
// writes those credentials literally, so Caddy's log carries the
// warning naming each field, and not the one written as {env.*}.
func TestVendorClientsFollowNoRedirectOffTheirHost(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	target := newElsewhere(t)
	sdp, sdpCalls := newRedirector(t, target.URL)
	gh, ghCalls := newRedirector(t, target.URL)
	c := startPollingCaddy(t, redisAddr, prefix, fs.URL,
		"\t\tpublic_url https://hooks.example.com",
		serviceDeskPollIntegration("me-redirect", sdp.URL), `
		integration gh-redirect {
			vendor    github
			secret    {env.FINDINGS_TOKEN}
			api_url   `+gh.URL+`
			api_token {env.FINDINGS_TOKEN}
			target    acme/pay
		}`)

	deadline := time.Now().Add(20 * time.Second)
	var row pollerRow
	for {
		r, ok := c.pollerRow("me-redirect")
		if ok && r.LastError != "" {
			row = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poller reported no error for a redirecting api_url; row %+v", r)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(row.LastError, "redirect") {
		t.Errorf("poller error %q does not name the redirect", row.LastError)
	}
	res := adminCall(t, strings.TrimPrefix(c.admin, "http://"), http.MethodPost, "/hookgate/integrations/gh-redirect/webhook/register", nil)
	if res.status/100 == 2 || !strings.Contains(res.raw, "redirect") {
		t.Errorf("register through a redirecting api_url: %d %s", res.status, res.raw)
	}
	if *sdpCalls == 0 || *ghCalls == 0 {
		t.Fatalf("the vendor APIs were not called: poller %d, register %d", *sdpCalls, *ghCalls)
	}
	if n := target.requests(); n != 0 {
		t.Fatalf("the redirect target got %d requests (headers %v)", n, target.seen)
	}

	log := c.Log()
	if !strings.Contains(log, "credentials written literally in the config") ||
		!strings.Contains(log, "integration me-redirect: secret") || !strings.Contains(log, "integration me-redirect: api_token") {
		t.Errorf("Caddy's log lacks the literal-credential warning naming me-redirect's fields:\n%s", log)
	}
	if strings.Contains(log, "integration gh-redirect: ") {
		t.Errorf("a credential written as {env.*} was warned about")
	}
}
