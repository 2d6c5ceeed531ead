package integration_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

// TestShippedCaddyfilesRunUnchanged runs the contract's Caddyfile (kept
// verbatim in testdata) and Caddyfile.example, as they are, on their own
// ports (:8080, admin localhost:2019, backend 127.0.0.1:9100), with only
// the environment they name set.
func TestShippedCaddyfilesRunUnchanged(t *testing.T) {
	for _, file := range []string{"testdata/contract.Caddyfile", "../Caddyfile.example"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			vault := testvault.Start(t)
			putRecord(t, vault, "legacy-gh", map[string]any{"vendor": "github", "secret": secretFor("legacy-gh")})

			l, err := net.Listen("tcp", "127.0.0.1:9100")
			if err != nil {
				t.Fatalf("the Caddyfile's backend port: %v", err)
			}
			be := newBackendOn(t, l)
			fl, err := net.Listen("tcp", "127.0.0.1:9000")
			if err != nil {
				t.Fatalf("the Caddyfile's upstream port: %v", err)
			}
			fs := newFindingServiceOn(t, fl)

			env := []string{
				"VAULT_ADDR=" + vault.Addr, "VAULT_TOKEN=" + vault.RootToken,
				"DEMO_GH_SECRET=" + secretFor("demo-gh"), "REDIS_PASSWORD=", "FINDINGS_TOKEN=findings-token",
				"CI_WEBHOOK_ALLOW_UNSIGNED=",
			}
			testcaddy.Start(t, "localhost:2019", string(raw), env, "127.0.0.1:8080")
			// The Caddyfile's Redis is the shared one: a delivery id and a
			// body of this run's own keep an earlier run's dedupe and
			// replay marks out of the way; a push of now passes the
			// default max_age.
			deliveryID := fmt.Sprintf("contract-%d", time.Now().UnixNano())
			body := ownBody(withField(t, readPayload(t, "github/push.json"), "repository.pushed_at", time.Now().Unix()), deliveryID)
			delivery := map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": deliveryID}
			resp, _ := do(t, signed(t, "http://127.0.0.1:8080/webhooks/ci/github/demo-gh", integrations.GitHub, integrations.SchemeHMAC, secretFor("demo-gh"), body, delivery))
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("static integration on the receiver: %d, want 202", resp.StatusCode)
			}
			// demo-gh scans main with sast and sca: ci.push, scan.requested
			// and runbook.trigger reach the Caddyfile's upstream.
			eventually(t, 30*time.Second, "events at the upstream on :9000", func() bool { return len(fs.snapshot()) >= 3 })
			resp, got := do(t, signed(t, "http://127.0.0.1:8080/webhooks/ci/github/demo-gh", integrations.GitHub, integrations.SchemeHMAC, "forged", body, nil))
			if resp.StatusCode != http.StatusUnauthorized || got != unauthorizedBody {
				t.Fatalf("forged delivery: %d %q", resp.StatusCode, got)
			}
			resp, got = do(t, signed(t, "http://127.0.0.1:8080/legacy/github", integrations.GitHub, integrations.SchemeHMAC, secretFor("legacy-gh"), body, delivery))
			if resp.StatusCode != http.StatusOK || got != "backend ok" || be.last(t).header.Get("X-Hookgate-Integration") != "legacy-gh" {
				t.Fatalf("Vault integration through reverse_proxy: %d %q", resp.StatusCode, got)
			}
		})
	}
}
