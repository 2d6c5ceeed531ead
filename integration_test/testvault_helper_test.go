package integration_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

// TestTestvaultHelper checks internal/testvault itself against the real
// Vault it starts: Put, Client, EnableAppRole (idempotent, with the policy
// the tests rely on) and Stop (idempotent, port closed afterwards). It
// lives here, not in internal/testvault, so that no unit test starts Vault.
func TestTestvaultHelper(t *testing.T) {
	s := testvault.Start(t)
	if !strings.HasPrefix(s.Addr, "http://127.0.0.1:") || s.RootToken == "" {
		t.Fatalf("server %+v", s)
	}
	s.Put(t, "hookgate/integrations/demo", map[string]any{"vendor": "github"})
	ctx := context.Background()
	got, err := s.Client(t).KVv2("secret").Get(ctx, "hookgate/integrations/demo")
	if err != nil || got.Data["vendor"] != "github" || got.VersionMetadata.Version != 1 {
		t.Fatalf("read back: %+v, %v", got, err)
	}

	roleID, secretID := s.EnableAppRole(t, "hookgate")
	again, _ := s.EnableAppRole(t, "hookgate") // idempotent per server
	if again != roleID {
		t.Fatalf("role id changed: %s != %s", again, roleID)
	}
	c := s.Client(t)
	c.ClearToken()
	login, err := c.Logical().WriteWithContext(ctx, "auth/approle/login", map[string]any{"role_id": roleID, "secret_id": secretID})
	if err != nil || login.Auth == nil {
		t.Fatalf("approle login: %v", err)
	}
	c.SetToken(login.Auth.ClientToken)
	if _, err := c.KVv2("secret").Get(ctx, "hookgate/integrations/demo"); err != nil {
		t.Fatalf("read with approle token: %v", err)
	}
	if _, err := c.KVv2("secret").Put(ctx, "hookgate/integrations/other", map[string]any{"vendor": "gitlab"}); err != nil {
		t.Fatalf("write with approle token: %v", err)
	}
	if _, err := c.Logical().ListWithContext(ctx, "secret/metadata/hookgate/integrations"); err != nil {
		t.Fatalf("list with approle token: %v", err)
	}
	if _, err := c.KVv2("secret").Get(ctx, "elsewhere"); err == nil {
		t.Fatal("approle policy allows reads outside hookgate/")
	}

	s.Stop()
	s.Stop() // idempotent
	if conn, err := net.Dial("tcp", strings.TrimPrefix(s.Addr, "http://")); err == nil {
		conn.Close()
		t.Fatal("port still accepts connections after Stop")
	}
}
