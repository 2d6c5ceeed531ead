package integration_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

const unauthorizedBody = `{"error":"unauthorized"}`

// gate is one running setup: Vault with records, Caddy, and a backend.
type gate struct {
	vault   *testvault.Server
	caddy   *testcaddy.Instance
	backend *backend
	base    string
	logDir  string
	secrets []string
}

func startGate(t *testing.T, env ...string) *gate {
	t.Helper()
	g := &gate{vault: testvault.Start(t), backend: newBackend(t), logDir: t.TempDir()}
	for _, vc := range vendorCases {
		g.put(t, string(vc.vendor)+"-main", map[string]any{"vendor": string(vc.vendor)})
	}
	g.put(t, "gitlab-signing", map[string]any{"vendor": "gitlab", "scheme": "signing"})
	g.put(t, "github-inactive", map[string]any{"vendor": "github", "active": false})
	g.put(t, "legacy-gh", map[string]any{"vendor": "github"})
	putRecord(t, g.vault, "github-unsigned", map[string]any{"vendor": "github"})
	g.secrets = append(g.secrets, g.vault.RootToken)

	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	cfg := gateCaddyfile(admin, port, g.vault.Addr, strings.TrimPrefix(g.backend.URL, "http://"), g.logDir)
	env = append([]string{"VAULT_TOKEN=" + g.vault.RootToken}, env...)
	g.caddy = testcaddy.Start(t, admin, cfg, env, fmt.Sprintf("127.0.0.1:%d", port))
	g.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	return g
}

// put stores a record with its test secret.
func (g *gate) put(t *testing.T, id string, data map[string]any) {
	data["secret"] = secretFor(id)
	g.secrets = append(g.secrets, secretFor(id))
	putRecord(t, g.vault, id, data)
}

// caddyLog is Caddy's own log (the config sends it to a file).
func (g *gate) caddyLog(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.logDir, "caddy.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func receiver(v integrations.Vendor, id string) string { return v.ReceiverPath(id) }

// TestGateEveryVendor drives every vendor through the gate over real HTTP:
// valid deliveries pass annotated with the body intact; everything that
// cannot be verified is refused with the contract's code and one body.
func TestGateEveryVendor(t *testing.T) {
	g := startGate(t, "CI_WEBHOOK_ALLOW_UNSIGNED=")

	for _, vc := range vendorCases {
		t.Run(string(vc.vendor), func(t *testing.T) {
			id := string(vc.vendor) + "-main"
			scheme := vc.vendor.DefaultScheme()
			body := readPayload(t, vc.payload)
			url := g.base + receiver(vc.vendor, id)

			// Valid: passes, annotated, body intact, credentials gone.
			req := signed(t, url, vc.vendor, scheme, secretFor(id), body, vc.headers)
			req.Header.Set("X-Hookgate-Verified", "forged-by-caller")
			before := g.backend.count()
			resp, got := do(t, req)
			if resp.StatusCode != http.StatusOK || got != "backend ok" {
				t.Fatalf("valid delivery: %d %q", resp.StatusCode, got)
			}
			if g.backend.count() != before+1 {
				t.Fatal("valid delivery did not reach the backend once")
			}
			seen := g.backend.last(t)
			if string(seen.body) != string(body) {
				t.Fatalf("body changed on the way: got %d bytes, sent %d", len(seen.body), len(body))
			}
			want := map[string]string{
				"X-Hookgate-Verified":    "true",
				"X-Hookgate-Vendor":      string(vc.vendor),
				"X-Hookgate-Integration": id,
			}
			if vc.event != "" {
				want["X-Hookgate-Event"] = vc.event
			}
			if vc.deliv != "" {
				want["X-Hookgate-Delivery"] = vc.deliv
			}
			for k, v := range want {
				if got := seen.header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !strings.HasPrefix(seen.header.Get("X-Hookgate-Event-Id"), "evt_") {
				t.Errorf("X-Hookgate-Event-Id = %q", seen.header.Get("X-Hookgate-Event-Id"))
			}
			for _, h := range []string{"Authorization", "X-Gitlab-Token", "X-Api-Token", "X-Bamboo-Token"} {
				if seen.header.Get(h) != "" {
					t.Errorf("credential header %s reached the backend", h)
				}
			}
			if strings.Contains(seen.uri, "token=") {
				t.Errorf("token query parameter reached the backend: %s", seen.uri)
			}

			// The same request again is not refused by the gate (dedupe is
			// the outbox's job, not the pure gate's).
			refusals := []struct {
				name   string
				req    *http.Request
				status int
			}{
				{"wrong secret", signed(t, url, vc.vendor, scheme, "not-the-secret", body, vc.headers), 401},
				{"missing credential", unsignedReq(t, url, body, vc.headers), 401},
				{"other integration's secret", signed(t, url, vc.vendor, scheme, secretFor(otherID(vc.vendor)), body, vc.headers), 401},
				{"vendor mismatch", signed(t, g.base+receiver(otherVendor(vc.vendor), id), otherVendor(vc.vendor), otherVendor(vc.vendor).DefaultScheme(), secretFor(id), body, vc.headers), 401},
				{"unknown integration", signed(t, g.base+receiver(vc.vendor, "no-such-integration"), vc.vendor, scheme, secretFor(id), body, vc.headers), 401},
				{"GET", getReq(t, url), 405},
			}
			if isBodyMAC(vc.vendor, scheme) {
				tampered := append([]byte(nil), body...)
				tampered[len(tampered)/2] ^= 0x01
				r := signed(t, url, vc.vendor, scheme, secretFor(id), body, vc.headers)
				r.Body, r.ContentLength = readCloser(tampered), int64(len(tampered))
				refusals = append(refusals, struct {
					name   string
					req    *http.Request
					status int
				}{"tampered body", r, 401})
			}
			for _, rf := range refusals {
				before := g.backend.count()
				resp, got := do(t, rf.req)
				if resp.StatusCode != rf.status {
					t.Errorf("%s: status %d, want %d", rf.name, resp.StatusCode, rf.status)
				}
				if rf.status == 401 && got != unauthorizedBody {
					t.Errorf("%s: body %q, want the uniform 401 body", rf.name, got)
				}
				if g.backend.count() != before {
					t.Errorf("%s: reached the backend", rf.name)
				}
			}
		})
	}

	t.Run("gitlab signing tokens", func(t *testing.T) {
		body := readPayload(t, "gitlab/push.json")
		url := g.base + receiver(integrations.GitLab, "gitlab-signing")
		resp, _ := do(t, signed(t, url, integrations.GitLab, integrations.SchemeSigning, secretFor("gitlab-signing"), body, nil))
		if resp.StatusCode != 200 {
			t.Fatalf("valid signing-token delivery: %d", resp.StatusCode)
		}
		// A pinned scheme accepts nothing else: the plain token is refused.
		resp, got := do(t, signed(t, url, integrations.GitLab, integrations.SchemeToken, secretFor("gitlab-signing"), body, nil))
		if resp.StatusCode != 401 || got != unauthorizedBody {
			t.Fatalf("token against a signing integration: %d %q", resp.StatusCode, got)
		}
	})

	t.Run("explicit vendor and integration on any path", func(t *testing.T) {
		body := readPayload(t, "github/push.json")
		resp, _ := do(t, signed(t, g.base+"/legacy/github", integrations.GitHub, integrations.SchemeHMAC, secretFor("legacy-gh"), body, nil))
		if resp.StatusCode != 200 || g.backend.last(t).header.Get("X-Hookgate-Integration") != "legacy-gh" {
			t.Fatalf("legacy path: %d", resp.StatusCode)
		}
		resp, _ = do(t, signed(t, g.base+"/legacy/github", integrations.GitHub, integrations.SchemeHMAC, secretFor("github-main"), body, nil))
		if resp.StatusCode != 401 {
			t.Fatalf("legacy path with another integration's secret: %d", resp.StatusCode)
		}
	})

	t.Run("refusals common to every vendor", func(t *testing.T) {
		body := readPayload(t, "github/push.json")
		big := make([]byte, 64<<10+1)
		before := g.backend.count()
		cases := []struct {
			name   string
			req    *http.Request
			status int
		}{
			{"inactive", signed(t, g.base+receiver(integrations.GitHub, "github-inactive"), integrations.GitHub, integrations.SchemeHMAC, secretFor("github-inactive"), body, nil), 401},
			{"no secret, flag off", unsignedReq(t, g.base+receiver(integrations.GitHub, "github-unsigned"), body, nil), 401},
			{"oversize with length", signed(t, g.base+receiver(integrations.GitHub, "github-main"), integrations.GitHub, integrations.SchemeHMAC, secretFor("github-main"), big, nil), 413},
			{"oversize chunked", chunked(signed(t, g.base+receiver(integrations.GitHub, "github-main"), integrations.GitHub, integrations.SchemeHMAC, secretFor("github-main"), big, nil)), 413},
			{"malformed id", unsignedReq(t, g.base+"/webhooks/ci/github/-leading-dash", body, nil), 401},
			{"id with encoded slash", unsignedReq(t, g.base+"/webhooks/ci/github/a%2F..%2Fb", body, nil), 401},
			{"id too long", unsignedReq(t, g.base+"/webhooks/ci/github/"+strings.Repeat("a", 129), body, nil), 401},
			{"ticket vendor under ci", unsignedReq(t, g.base+"/webhooks/ci/jira/jira-main", body, nil), 401},
			{"unknown vendor", unsignedReq(t, g.base+"/webhooks/ci/svn/github-main", body, nil), 401},
		}
		for _, c := range cases {
			resp, got := do(t, c.req)
			if resp.StatusCode != c.status {
				t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
			}
			if c.status == 401 && got != unauthorizedBody {
				t.Errorf("%s: body %q", c.name, got)
			}
		}
		if g.backend.count() != before {
			t.Error("a refused delivery reached the backend")
		}
	})

	// Everything Caddy logged during the run: its own log, the JSON access
	// log and the process output. No secret may appear in any of them.
	g.caddy.Stop()
	logs := map[string]string{"process output": g.caddy.Log()}
	for _, name := range []string{"caddy.log", "access.log"} {
		b, err := os.ReadFile(filepath.Join(g.logDir, name))
		if err != nil {
			t.Fatal(err)
		}
		logs[name] = string(b)
	}
	if !strings.Contains(logs["access.log"], `"handled request"`) || !strings.Contains(logs["caddy.log"], "webhook refused") {
		t.Fatal("the logs do not hold the run's requests: the secret scan below would prove nothing")
	}
	for name, text := range logs {
		for _, secret := range g.secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains a secret", name)
			}
		}
	}
	for _, r := range g.backend.seen {
		for _, secret := range g.secrets {
			if strings.Contains(fmt.Sprint(r.header), secret) || strings.Contains(r.uri, secret) {
				t.Errorf("the backend received a secret in a header or the URI")
			}
		}
	}
}

// otherVendor is a vendor whose receiver path differs from v's.
func otherVendor(v integrations.Vendor) integrations.Vendor {
	switch {
	case v == integrations.GitHub:
		return integrations.GitLab
	case v.IsCI():
		return integrations.GitHub
	case v == integrations.Jira:
		return integrations.ServiceNow
	default:
		return integrations.Jira
	}
}

// otherID is another vendor-v-compatible integration's id whose secret a
// forger might hold.
func otherID(v integrations.Vendor) string {
	return string(otherVendor(v)) + "-main"
}

func isBodyMAC(v integrations.Vendor, s integrations.Scheme) bool {
	return s == integrations.SchemeHMAC || s == integrations.SchemeHMACSHA1 || s == integrations.SchemeSigning
}

func unsignedReq(t testing.TB, url string, body []byte, extra map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, readCloser(body))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	return req
}

func getReq(t testing.TB, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// chunked sends req's body without a Content-Length.
func chunked(req *http.Request) *http.Request {
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	return req
}

// TestUnsignedFlag: CI_WEBHOOK_ALLOW_UNSIGNED lets deliveries for an
// integration without a secret through, annotated `unsigned`, and never
// admits a wrong or missing signature for one that has a secret.
func TestUnsignedFlag(t *testing.T) {
	body := readPayload(t, "github/push.json")
	for _, flag := range []string{"", "false", "1", "TRUE", "true"} {
		t.Run("flag="+flag, func(t *testing.T) {
			g := startGate(t, "CI_WEBHOOK_ALLOW_UNSIGNED="+flag)
			on := strings.EqualFold(flag, "true")
			resp, _ := do(t, unsignedReq(t, g.base+receiver(integrations.GitHub, "github-unsigned"), body, nil))
			if on {
				if resp.StatusCode != 200 || g.backend.last(t).header.Get("X-Hookgate-Verified") != "unsigned" {
					t.Fatalf("flag on, no secret: %d", resp.StatusCode)
				}
				if !strings.Contains(g.caddyLog(t), "CI_WEBHOOK_ALLOW_UNSIGNED is true") {
					t.Error("no warning at start while the flag is on")
				}
			} else if resp.StatusCode != 401 {
				t.Fatalf("flag %q, no secret: %d, want 401", flag, resp.StatusCode)
			}
			url := g.base + receiver(integrations.GitHub, "github-main")
			for name, req := range map[string]*http.Request{
				"missing": unsignedReq(t, url, body, nil),
				"wrong":   signed(t, url, integrations.GitHub, integrations.SchemeHMAC, "wrong", body, nil),
			} {
				if resp, _ := do(t, req); resp.StatusCode != 401 {
					t.Errorf("flag %q, integration with a secret, %s signature: %d", flag, name, resp.StatusCode)
				}
			}
		})
	}
}

// TestVaultStoppedMidRun: with Vault gone, a cached record keeps serving
// (stale_ttl) while an integration never read answers 503 + Retry-After.
func TestVaultStoppedMidRun(t *testing.T) {
	g := startGate(t)
	body := readPayload(t, "github/push.json")
	url := g.base + receiver(integrations.GitHub, "github-main")
	if resp, _ := do(t, signed(t, url, integrations.GitHub, integrations.SchemeHMAC, secretFor("github-main"), body, nil)); resp.StatusCode != 200 {
		t.Fatalf("before the outage: %d", resp.StatusCode)
	}
	g.vault.Stop()
	time.Sleep(1200 * time.Millisecond) // past cache_ttl (1s): the next lookup must ask Vault
	if resp, _ := do(t, signed(t, url, integrations.GitHub, integrations.SchemeHMAC, secretFor("github-main"), body, nil)); resp.StatusCode != 200 {
		t.Fatalf("cached record during the outage: %d, want 200", resp.StatusCode)
	}
	if resp, _ := do(t, signed(t, url, integrations.GitHub, integrations.SchemeHMAC, "wrong", body, nil)); resp.StatusCode != 401 {
		t.Fatalf("wrong signature during the outage: %d, want 401", resp.StatusCode)
	}
	resp, got := do(t, signed(t, g.base+receiver(integrations.Bitbucket, "bitbucket-main"), integrations.Bitbucket, integrations.SchemeHMAC, secretFor("bitbucket-main"), body, nil))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("uncached integration during the outage: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if strings.Contains(got, "vault") || strings.Contains(got, "127.0.0.1") {
		t.Errorf("503 body leaks details: %q", got)
	}
}
