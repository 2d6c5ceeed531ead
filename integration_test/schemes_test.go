package integration_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
	"github.com/hookgate/caddy-hookgate/internal/vendorcases"
)

// TestEverySchemeEndToEnd: each vendor's every scheme (the cases in
// vendors/<v>/testdata/case.json: the default and each pinned one, Jira
// and Bitbucket Data Center `basic` among them) through real Caddy and
// Vault: a delivery signed with the integration's secret passes, one
// signed with another secret and one carrying no credential are refused
// 401 with the uniform body.
func TestEverySchemeEndToEnd(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	cases := vendorcases.MustLoad()
	for _, c := range cases {
		data := map[string]any{"vendor": string(c.Vendor), "secret": c.Secret}
		if c.Scheme != "" {
			data["scheme"] = string(c.Scheme)
		}
		putRecord(t, vault, c.ID, data)
	}
	lc := startLifecycle(t, vault, redisAddr, prefix)
	wrong := "whsec_d3Jvbmctc2VjcmV0LWZvci1ldmVyeS1zY2hlbWU="
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			url := lc.base + c.Vendor.ReceiverPath(c.ID)
			body := c.Body
			if resp, raw := do(t, signed(t, url, c.Vendor, c.EffectiveScheme(), c.Secret, body, c.Header)); resp.StatusCode/100 != 2 {
				t.Fatalf("signed with the secret (scheme %s): %d %s", c.EffectiveScheme(), resp.StatusCode, raw)
			}
			if resp, raw := do(t, signed(t, url, c.Vendor, c.EffectiveScheme(), wrong, body, c.Header)); resp.StatusCode != http.StatusUnauthorized || strings.TrimSpace(raw) != unauthorizedBody {
				t.Fatalf("signed with another secret: %d %s", resp.StatusCode, raw)
			}
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(c.Body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.Header {
				req.Header.Set(k, v)
			}
			if resp, raw := do(t, req); resp.StatusCode != http.StatusUnauthorized || strings.TrimSpace(raw) != unauthorizedBody {
				t.Fatalf("no credential: %d %s", resp.StatusCode, raw)
			}
		})
	}
}
