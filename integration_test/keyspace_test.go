package integration_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

// TestDefaultKeyspace: with a redis block that names no key_prefix, every
// key and pub/sub channel hookgate creates starts with "hookgate:"; the
// outbox, audit lists, dedupe marks, brute-force counts, the admin audit
// stream and the invalidation channel included. A private Redis holds
// nothing else, so every key it has is hookgate's.
func TestDefaultKeyspace(t *testing.T) {
	rds := testredis.Start(t)
	vault := testvault.Start(t)
	putRecord(t, vault, "ks-gh", map[string]any{"vendor": "github", "secret": secretFor("ks-gh")})
	fs := newFindingService(t)
	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	hookgate {
		max_age off # the fixtures are of many dates; max_age has its own tests (replay_test.go)
		vault {
			address %s
			token   {env.VAULT_TOKEN}
		}
		redis {
			address %s
		}
		upstream %s/v1/events {
			backoff 100ms 400ms
			header Authorization "Bearer findings-token"
		}
	}
}

:%d {
	route /webhooks/* {
		hookgate
		respond 202
	}
}
`, admin, vault.Addr, rds.Addr, fs.URL, port)
	testcaddy.Start(t, admin, cfg, []string{"VAULT_TOKEN=" + vault.RootToken}, fmt.Sprintf("127.0.0.1:%d", port))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	path := base + integrations.GitHub.ReceiverPath("ks-gh")
	push := readPayload(t, "github/push.json")

	post := func(secret, delivery string) int {
		resp, _ := do(t, signed(t, path, integrations.GitHub, integrations.SchemeHMAC, secret, push,
			map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery}))
		return resp.StatusCode
	}
	if s := post(secretFor("ks-gh"), "ks-1"); s != http.StatusAccepted {
		t.Fatalf("valid delivery: %d", s)
	}
	if s := post("wrong", "ks-2"); s != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %d", s)
	}
	if res := adminCall(t, admin, http.MethodPost, "/hookgate/integrations/ks-gh/webhook/regenerate", map[string]string{"grace": "1h"}); res.status != http.StatusOK {
		t.Fatalf("regenerate: %d %s", res.status, res.raw)
	}
	eventually(t, 20*time.Second, "the delivery's events at the finding service", func() bool { return len(fs.snapshot()) > 0 })

	c := rds.Client(t)
	ctx := context.Background()
	var channels []string
	eventually(t, 10*time.Second, "the invalidation subscriber", func() bool {
		var err error
		channels, err = c.PubSubChannels(ctx, "*").Result()
		return err == nil && len(channels) > 0
	})
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, "hookgate:") {
			t.Errorf("key %q does not start with hookgate:", k)
		}
		for _, kind := range []string{":outbox", ":audit:", ":dedupe:", ":fail:", ":admin:audit"} {
			if strings.Contains(k, kind) {
				kinds[kind] = true
			}
		}
	}
	for _, ch := range channels {
		if !strings.HasPrefix(ch, "hookgate:") {
			t.Errorf("channel %q does not start with hookgate:", ch)
		}
	}
	for _, kind := range []string{":outbox", ":audit:", ":dedupe:", ":fail:", ":admin:audit"} {
		if !kinds[kind] {
			t.Errorf("no %s key among %v: the test did not make every kind", kind, keys)
		}
	}
}
