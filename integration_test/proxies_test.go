package integration_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
)

// proxiesWarning is what hookgate logs for a server that trusts proxies
// without trusted_proxies_strict while its limiter is on.
const proxiesWarning = "trusted_proxies is set without trusted_proxies_strict"

// TestLaxTrustedProxiesWarnedInCaddysLog: real Caddy with trusted_proxies
// and no trusted_proxies_strict on the server that routes to hookgate logs
// the warning once at start, naming the server; with strict, none.
func TestLaxTrustedProxiesWarnedInCaddysLog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		strict string
		want   int
	}{
		{"lax", "", 1},
		{"strict", "\n\t\ttrusted_proxies_strict", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
			port := testcaddy.FreePort(t)
			cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	servers {
		trusted_proxies static 10.0.0.0/8%s
	}
	hookgate {
		integration tp-gh {
			vendor github
			secret {env.TP_GH_SECRET}
		}
	}
}

:%d {
	route /webhooks/* {
		hookgate
		respond 202
	}
}
`, admin, tc.strict, port)
			in := testcaddy.Start(t, admin, cfg, []string{"TP_GH_SECRET=" + secretFor("tp-gh")}, fmt.Sprintf("127.0.0.1:%d", port))
			eventually(t, 30*time.Second, "the config served", func() bool {
				return strings.Contains(in.Log(), "serving initial configuration")
			})
			n := 0
			for line := range strings.Lines(in.Log()) {
				if strings.Contains(line, proxiesWarning) {
					n++
					if !strings.Contains(line, `"server":"srv0"`) {
						t.Errorf("the warning names no server: %s", line)
					}
				}
			}
			if n != tc.want {
				t.Fatalf("%d trusted_proxies warnings in Caddy's log, want %d:\n%s", n, tc.want, in.Log())
			}
		})
	}
}
