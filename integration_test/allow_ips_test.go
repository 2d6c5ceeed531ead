package integration_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakelists"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

// allowGate is Caddy behind a trusted local proxy (trusted_proxies static
// 127.0.0.1/32, strict), with integrations restricted by allow_ips: static
// ones naming GitHub's list and literal CIDRs, and a Vault one naming
// Atlassian's list, the lists served by a local fakelists server (in the
// vendors' documented shapes) and refreshed every 200ms.
type allowGate struct {
	caddy   *testcaddy.Instance
	base    string
	admin   string
	backend *backend
	lists   *fakelists.Server
	seq     atomic.Int64
}

func startAllowGate(t *testing.T) *allowGate {
	t.Helper()
	g := &allowGate{backend: newBackend(t), lists: fakelists.New(t)}
	g.lists.SetHooks("127.0.0.0/8", "2001:db8::/32")
	g.lists.SetAtlassian(
		fakelists.Item{CIDR: "127.0.0.0/8", Products: []string{"bitbucket", "jira"}, Direction: []string{"egress"}},
		fakelists.Item{CIDR: "203.0.113.0/24", Products: []string{"jira"}, Direction: []string{"ingress"}},
	)
	vault := testvault.Start(t)
	putRecord(t, vault, "ip-vault", map[string]any{"vendor": "github", "secret": secretFor("ip-vault"), "allow_ips": []any{"atlassian"}})
	putRecord(t, vault, "ip-vault-bad", map[string]any{"vendor": "github", "secret": secretFor("ip-vault-bad"), "allow_ips": "atlassian gitlab"})
	redisAddr, prefix := testredis.Shared(t)
	adminAddr := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	servers {
		trusted_proxies static 127.0.0.1/32
		trusted_proxies_strict
	}
	hookgate {
		max_age off # the fixtures are of many dates; max_age has its own tests (replay_test.go)
		failure_limit off
		redis {
			address    %s
			key_prefix %s
		}
		vault {
			address   %s
			token     {env.VAULT_TOKEN}
			cache_ttl 1s
			timeout   2s
		}
		ip_lists {
			refresh   200ms
			github    %s
			atlassian %s
		}
		integration ip-listed {
			vendor    github
			secret    %s
			allow_ips github
		}
		integration ip-literal {
			vendor    github
			secret    %s
			allow_ips 198.51.100.0/24 2001:db8::/32
		}
	}
}

:%d {
	route /webhooks/* {
		hookgate
		reverse_proxy %s
	}
}
`, adminAddr, redisAddr, prefix, vault.Addr, g.lists.MetaURL(), g.lists.AtlassianURL(), secretFor("ip-listed"), secretFor("ip-literal"),
		port, strings.TrimPrefix(g.backend.URL, "http://"))
	g.caddy = testcaddy.Start(t, adminAddr, cfg, []string{"VAULT_TOKEN=" + vault.RootToken}, fmt.Sprintf("127.0.0.1:%d", port))
	g.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	g.admin = "http://" + adminAddr
	return g
}

// post sends a GitHub push of its own to id, from 127.0.0.1 through the
// trusted proxy that wrote forwardedFor ("" for none), and answers the
// status and body.
func (g *allowGate) post(t *testing.T, id, forwardedFor string) (int, string) {
	t.Helper()
	delivery := fmt.Sprintf("allow-%s-%d", id, g.seq.Add(1))
	body := ownBody(readPayload(t, "github/push.json"), delivery)
	req := signed(t, g.base+integrations.GitHub.ReceiverPath(id), integrations.GitHub, integrations.SchemeHMAC, secretFor(id), body,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery})
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, got := do(t, req)
	return resp.StatusCode, got
}

// until posts to id until the answer is want (each post a delivery of its
// own), and fails only when it never is within a bound far beyond the
// 200ms refresh.
func (g *allowGate) until(t *testing.T, id, forwardedFor string, want int) {
	t.Helper()
	var status int
	var body string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if status, body = g.post(t, id, forwardedFor); status == want {
			return
		}
	}
	t.Fatalf("%s: never answered %d; last %d %q", id, want, status, body)
}

func wantAddressRefused(t *testing.T, g *allowGate, id string, status int, body string) {
	t.Helper()
	if status != http.StatusUnauthorized || body != `{"error":"unauthorized"}` {
		t.Fatalf("%s: %d %q, want the uniform 401", id, status, body)
	}
	rej := rejectedAt(t, g.admin, id)
	if len(rej) == 0 || rej[0]["reason"] != "address not allowed" || rej[0]["signature"] != "invalid" {
		t.Fatalf("%s: newest rejected entry %v, want reason \"address not allowed\"", id, rej)
	}
}

// allow_ips end to end: literal CIDRs and GitHub's published list refuse
// other addresses, the check reads the client address trusted_proxies
// gives (the forwarded one, the rightmost untrusted under strict), and
// the published list is followed as it changes.
func TestAllowIPs(t *testing.T) {
	g := startAllowGate(t)

	// GitHub's list holds 127.0.0.0/8: once loaded, a delivery from here passes.
	g.until(t, "ip-listed", "", http.StatusOK)
	if status, body := g.post(t, "ip-listed", ""); status != http.StatusOK || body != "backend ok" {
		t.Fatalf("ip-listed from 127.0.0.1: %d %q", status, body)
	}

	// Literal CIDRs: 127.0.0.1 itself is not among them.
	before := g.backend.count()
	status, body := g.post(t, "ip-literal", "")
	wantAddressRefused(t, g, "ip-literal", status, body)
	// Forwarded by the trusted proxy for an admitted address: passes.
	if status, body := g.post(t, "ip-literal", "198.51.100.7"); status != http.StatusOK {
		t.Fatalf("ip-literal forwarded for 198.51.100.7: %d %q", status, body)
	}
	if status, body := g.post(t, "ip-literal", "2001:db8::7"); status != http.StatusOK {
		t.Fatalf("ip-literal forwarded for 2001:db8::7: %d %q", status, body)
	}
	// A forged address written first does not count: strict reads the
	// rightmost untrusted one.
	status, body = g.post(t, "ip-literal", "198.51.100.7, 203.0.113.5")
	wantAddressRefused(t, g, "ip-literal", status, body)
	// And a forwarded address GitHub's list does not hold is refused there.
	status, body = g.post(t, "ip-listed", "203.0.113.5")
	wantAddressRefused(t, g, "ip-listed", status, body)
	if n := g.backend.count() - before; n != 2 {
		t.Fatalf("the backend got %d deliveries, want the 2 admitted", n)
	}

	// A Vault record naming Atlassian's list, loaded at start from the
	// ip_lists block, admits this address.
	g.until(t, "ip-vault", "", http.StatusOK)
	// A Vault record with a bad entry is invalid, not open to everyone.
	if status, _ := g.post(t, "ip-vault-bad", ""); status != http.StatusUnauthorized {
		t.Fatalf("ip-vault-bad: %d, want 401", status)
	}
	if !logLineHas(g.caddy.Log(), "integration record is invalid", `"integration":"ip-vault-bad"`, "allow_ips", "gitlab") {
		t.Error("Caddy's log does not say ip-vault-bad's allow_ips is invalid")
	}

	// GitHub drops this address from its hooks: after a refresh,
	// deliveries from here are refused and audited.
	g.lists.SetHooks("192.0.2.0/24")
	g.until(t, "ip-listed", "", http.StatusUnauthorized)
	status, body = g.post(t, "ip-listed", "")
	wantAddressRefused(t, g, "ip-listed", status, body)

	// The feed breaks: the last good list stays.
	g.lists.Fail(http.StatusBadGateway)
	failedFrom := g.lists.Fetches("/meta")
	for deadline := time.Now().Add(30 * time.Second); g.lists.Fetches("/meta") < failedFrom+3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the list was not fetched again after the feed broke")
		}
	}
	status, body = g.post(t, "ip-listed", "")
	wantAddressRefused(t, g, "ip-listed", status, body)
	if status, _ := g.post(t, "ip-listed", "192.0.2.9"); status != http.StatusOK {
		t.Fatalf("an address of the last good list: %d after the feed broke", status)
	}
	if !strings.Contains(g.caddy.Log(), "last good copy stays in use") {
		t.Error("no warning that the refresh failed")
	}
}

// logLineHas reports whether one line of log holds every part.
func logLineHas(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
