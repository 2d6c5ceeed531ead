package secretstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakevault"
)

const (
	vaultSecret    = "whsec-current-8d1f0c7e"
	vaultPrevious  = "whsec-previous-55aa21"
	vaultAPIToken  = "api-token-9f3e"
	integrationDir = "hookgate/integrations/"
)

// noLeak fails the test if err's message contains any of the secrets.
func noLeak(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(secrets, vaultSecret, vaultPrevious, vaultAPIToken, testSecret) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks a secret value: %v", err)
		}
	}
}

func TestNewVaultValidates(t *testing.T) {
	const tok, sid = "hvs.TOKEN-VALUE", "SECRET-ID-VALUE"
	for name, cfg := range map[string]VaultConfig{
		"no address":     {Token: tok},
		"bad address":    {Address: "vault:8200", Token: tok},
		"no auth":        {Address: "http://127.0.0.1:1"},
		"token and file": {Address: "http://127.0.0.1:1", Token: tok, TokenFile: "/x"},
		"token and role": {Address: "http://127.0.0.1:1", Token: tok, RoleID: "r", SecretID: sid},
		"role alone":     {Address: "http://127.0.0.1:1", RoleID: "r"},
		"secret alone":   {Address: "http://127.0.0.1:1", SecretID: sid},
	} {
		_, err := NewVault(cfg)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		noLeak(t, err, tok, sid)
	}
	// No network I/O and no file read in the constructor.
	v, err := NewVault(VaultConfig{Address: "http://127.0.0.1:1", TokenFile: "/nonexistent/token"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.cfg.Mount != DefaultMount || v.cfg.Prefix != DefaultPrefix || v.cfg.Timeout != DefaultVaultTimeout {
		t.Fatalf("defaults: %+v", v.cfg)
	}
	if _, err := NewVault(VaultConfig{Address: "http://127.0.0.1:1", RoleID: "r", SecretID: sid}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_TOKEN", "from-env")
	v2, err := NewVault(VaultConfig{Address: "http://127.0.0.1:1", TokenFile: "/x"})
	if err != nil || v2.client.Token() != "" {
		t.Fatalf("VAULT_TOKEN from the environment was picked up: %v", err)
	}
}

// newVault builds a Vault fetcher against s and closes it with the test.
func newVault(t *testing.T, cfg VaultConfig) *Vault {
	t.Helper()
	v, err := NewVault(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

func fullRecord() map[string]any {
	return map[string]any{
		"vendor":               "github",
		"secret":               vaultSecret,
		"previous_secret":      vaultPrevious,
		"previous_valid_until": "2030-01-02T03:04:05Z",
		"branches":             []any{"main", "release/*"},
		"scans":                "sast, sca",
		"active":               false,
		"pipeline":             true,
		"api_token":            vaultAPIToken,
		"notes":                "unknown fields are ignored",
	}
}

// TestVaultOverHTTP drives Vault against internal/fakevault, which answers
// as Vault does; integration_test/secretstore_vault_test.go runs the same
// checks against a real Vault dev server.
func TestVaultOverHTTP(t *testing.T) {
	srv := fakevault.Start(t)
	ctx := context.Background()

	srv.Put(t, integrationDir+"demo-gh", map[string]any{"vendor": "github", "secret": "first"})
	srv.Put(t, integrationDir+"demo-gh", fullRecord()) // version 2
	srv.Put(t, integrationDir+"snow", map[string]any{
		"vendor": "servicenow", "secret": vaultSecret, "branches": "main release/*",
		"done_states": []any{6, 7}, "auto_close_on_resolve": "true",
	})
	srv.Put(t, integrationDir+"broken", map[string]any{"vendor": "myspace", "secret": vaultSecret})
	srv.Put(t, integrationDir+"bad-active", map[string]any{"vendor": "github", "secret": vaultSecret, "active": "maybe"})
	srv.Put(t, integrationDir+"gone", map[string]any{"vendor": "github", "secret": vaultSecret})
	srv.Delete(t, integrationDir+"gone")

	t.Run("token", func(t *testing.T) {
		v := newVault(t, VaultConfig{Address: srv.Addr, Token: srv.RootToken})
		r, err := v.Fetch(ctx, "demo-gh")
		noLeak(t, err, srv.RootToken)
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		switch {
		case r.ID != "demo-gh", r.Vendor != integrations.GitHub, r.Version != 2:
			t.Fatalf("id/vendor/version: %s %s %d", r.ID, r.Vendor, r.Version)
		case r.Secret != vaultSecret, r.PreviousSecret != vaultPrevious, !r.PreviousValidUntil.Equal(want):
			t.Fatal("secrets or rotation window wrong")
		case r.Active, !r.Pipeline, r.APIToken != vaultAPIToken:
			t.Fatalf("flags: active %v pipeline %v", r.Active, r.Pipeline)
		case !slices.Equal(r.Branches, []string{"main", "release/*"}), !slices.Equal(r.Scans, []string{"sast", "sca"}):
			t.Fatalf("lists: %v %v", r.Branches, r.Scans)
		}
		r, err = v.Fetch(ctx, "snow")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Branches, []string{"main", "release/*"}) || !slices.Equal(r.DoneStates, []string{"6", "7"}) ||
			!r.Active || !r.AutoCloseOnResolve || r.Version != 1 {
			t.Fatalf("snow: %v %v %v %v %d", r.Branches, r.DoneStates, r.Active, r.AutoCloseOnResolve, r.Version)
		}
	})

	t.Run("not found", func(t *testing.T) {
		v := newVault(t, VaultConfig{Address: srv.Addr, Token: srv.RootToken})
		for _, id := range []string{"missing", "gone", "../etc"} {
			_, err := v.Fetch(ctx, id)
			noLeak(t, err, srv.RootToken)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: err = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("malformed", func(t *testing.T) {
		v := newVault(t, VaultConfig{Address: srv.Addr, Token: srv.RootToken})
		for _, id := range []string{"broken", "bad-active"} {
			_, err := v.Fetch(ctx, id)
			noLeak(t, err, srv.RootToken)
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, integrations.ErrInvalidRecord) || errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: err = %v, want ErrInvalid", id, err)
			}
		}
		c := NewCache(v, CacheOptions{})
		if _, err := c.Lookup(ctx, "broken"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("through cache: %v", err)
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		const wrong = "hvs.this-token-does-not-exist-4711"
		v := newVault(t, VaultConfig{Address: srv.Addr, Token: wrong})
		_, err := v.Fetch(ctx, "demo-gh")
		if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want an unreachable error", err)
		}
		noLeak(t, err, wrong, srv.RootToken)
		_, err = NewCache(v, CacheOptions{}).Lookup(ctx, "demo-gh")
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("through cache: %v", err)
		}
		noLeak(t, err, wrong, srv.RootToken)
		t.Logf("wrong token answers: %v", err)
	})

	t.Run("token file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "token")
		first := srv.CreateToken(t)
		if err := os.WriteFile(file, []byte(first+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		v := newVault(t, VaultConfig{Address: srv.Addr, TokenFile: file})
		if _, err := v.Fetch(ctx, "demo-gh"); err != nil {
			t.Fatal(err)
		}
		// An agent rotates the token: the old one is revoked, the file
		// holds the new one, and the next request re-reads it after a 403.
		second := srv.CreateToken(t)
		if err := os.WriteFile(file, []byte(second), 0o600); err != nil {
			t.Fatal(err)
		}
		srv.Revoke(t, first)
		r, err := v.Fetch(ctx, "demo-gh")
		noLeak(t, err, first, second)
		if err != nil || r.Version != 2 {
			t.Fatalf("after rotation: %v", err)
		}
		// A file holding a dead token is an error, not "not found".
		srv.Revoke(t, second)
		_, err = v.Fetch(ctx, "demo-gh")
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("dead token: %v", err)
		}
		noLeak(t, err, first, second)
	})

	t.Run("approle", func(t *testing.T) {
		roleID, secretID := srv.EnableAppRole(t, "hookgate")
		v := newVault(t, VaultConfig{Address: srv.Addr, RoleID: roleID, SecretID: secretID})
		if v.token != "" {
			t.Fatal("logged in before first use")
		}
		r, err := v.Fetch(ctx, "demo-gh")
		if err != nil || r.Secret != vaultSecret {
			t.Fatalf("fetch: %v", err)
		}
		first := v.token
		if first == "" || first == srv.RootToken || v.renewAt.IsZero() {
			t.Fatal("no approle token or lease")
		}
		if _, err := v.Write(ctx, "approle-written", map[string]any{"vendor": "gitlab"}); err != nil {
			t.Fatalf("write: %v", err)
		}
		if ids, err := v.List(ctx); err != nil || !slices.Contains(ids, "approle-written") {
			t.Fatalf("list: %v %v", ids, err)
		}

		// The token is revoked behind our back: 403, log in again, retry.
		srv.Revoke(t, first)
		if _, err := v.Fetch(ctx, "demo-gh"); err != nil {
			t.Fatalf("after revocation: %v", err)
		}
		second := v.token
		if second == first {
			t.Fatal("did not log in again after 403")
		}
		// The lease nears its end: log in again before using it.
		v.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		if _, err := v.Fetch(ctx, "demo-gh"); err != nil {
			t.Fatalf("after lease end: %v", err)
		}
		if v.token == second {
			t.Fatal("did not log in again at the end of the lease")
		}

		bad := newVault(t, VaultConfig{Address: srv.Addr, RoleID: roleID, SecretID: "0f0e0d0c-wrong-secret-id"})
		_, err = bad.Fetch(ctx, "demo-gh")
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("wrong secret id: %v", err)
		}
		noLeak(t, err, "0f0e0d0c-wrong-secret-id", secretID, roleID)
		t.Logf("wrong secret id answers: %v", err)
	})

	t.Run("write and list", func(t *testing.T) {
		v := newVault(t, VaultConfig{Address: srv.Addr, Token: srv.RootToken, Prefix: "/hookgate/rt/"})
		if ids, err := v.List(ctx); err != nil || len(ids) != 0 || ids == nil {
			t.Fatalf("empty prefix: %v %v", ids, err)
		}
		for want := 1; want <= 3; want++ {
			data := fullRecord()
			data["target"] = "org/repo"
			got, err := v.Write(ctx, "round-trip", data)
			noLeak(t, err)
			if err != nil || got != want {
				t.Fatalf("write #%d: version %d, %v", want, got, err)
			}
			r, err := v.Fetch(ctx, "round-trip")
			if err != nil || r.Version != want || r.Secret != vaultSecret || r.Target != "org/repo" {
				t.Fatalf("fetch after write #%d: version %d, %v", want, r.Version, err)
			}
		}
		if _, err := v.Write(ctx, "b-second", map[string]any{"vendor": "jira"}); err != nil {
			t.Fatal(err)
		}
		srv.Put(t, "hookgate/rt/sub/nested", map[string]any{"vendor": "jira"})
		ids, err := v.List(ctx)
		if err != nil || !slices.Equal(ids, []string{"b-second", "round-trip"}) {
			t.Fatalf("list = %v, %v", ids, err)
		}
		if _, err := v.Write(ctx, "../escape", map[string]any{}); err == nil {
			t.Fatal("wrote under a malformed id")
		}
		v.Close()
		if _, err := v.Fetch(ctx, "round-trip"); err == nil {
			t.Fatal("fetch after Close")
		}
	})
}

func TestVaultOutageServesCache(t *testing.T) {
	srv := fakevault.Start(t)
	srv.Put(t, integrationDir+"demo-gh", fullRecord())
	v := newVault(t, VaultConfig{Address: srv.Addr, Token: srv.RootToken, Timeout: 2 * time.Second})
	clk := newClock()
	c := NewCache(v, CacheOptions{TTL: 30 * time.Second, StaleTTL: 15 * time.Minute, Now: clk.Now})
	ctx := context.Background()
	if _, err := c.Lookup(ctx, "demo-gh"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(ctx, "unknown"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}

	srv.Stop()
	clk.Advance(31 * time.Second)
	r, err := c.Lookup(ctx, "demo-gh")
	if err != nil || r.Secret != vaultSecret || r.Version != 1 {
		t.Fatalf("within stale window: %v", err)
	}
	_, err = c.Lookup(ctx, "never-seen")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Fatalf("uncached id: err = %v, want ErrUnavailable", err)
	}
	noLeak(t, err, srv.RootToken)
	t.Logf("outage answers: %v", err)

	clk.Advance(10 * time.Minute) // past RetryInterval: Vault is asked again and still down
	if _, err := c.Lookup(ctx, "demo-gh"); err != nil {
		t.Fatalf("still within stale window: %v", err)
	}
	clk.Advance(6 * time.Minute) // 16m31s after the fetch
	_, err = c.Lookup(ctx, "demo-gh")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("past stale window: err = %v, want ErrUnavailable", err)
	}
	noLeak(t, err, srv.RootToken)
}
