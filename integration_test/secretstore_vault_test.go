package integration_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
	"github.com/hookgate/caddy-hookgate/secretstore"
)

// These tests drive package secretstore, through its exported API only,
// against a real Vault dev server: the unit tests in secretstore run the
// same checks against internal/fakevault.

const (
	storeSecret   = "whsec-current-8d1f0c7e"
	storePrevious = "whsec-previous-55aa21"
	storeAPIToken = "api-token-9f3e"
	storeDir      = "hookgate/integrations/"
)

// storeNoLeak fails the test if err's message contains a record's secret
// values or any of secrets (tokens, secret ids).
func storeNoLeak(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(secrets, storeSecret, storePrevious, storeAPIToken) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks a secret value: %v", err)
		}
	}
}

// storeVault builds a secretstore.Vault and closes it with the test.
func storeVault(t *testing.T, cfg secretstore.VaultConfig) *secretstore.Vault {
	t.Helper()
	v, err := secretstore.NewVault(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

func storeFullRecord() map[string]any {
	return map[string]any{
		"vendor":               "github",
		"secret":               storeSecret,
		"previous_secret":      storePrevious,
		"previous_valid_until": "2030-01-02T03:04:05Z",
		"branches":             []any{"main", "release/*"},
		"scans":                "sast, sca",
		"active":               false,
		"pipeline":             true,
		"api_token":            storeAPIToken,
		"notes":                "unknown fields are ignored",
	}
}

// createVaultToken makes a child token of root with the given policies.
func createVaultToken(t *testing.T, root *api.Client, policies ...string) string {
	t.Helper()
	s, err := root.Auth().Token().CreateWithContext(context.Background(), &api.TokenCreateRequest{Policies: policies})
	if err != nil {
		t.Fatal(err)
	}
	return s.Auth.ClientToken
}

func revokeVaultToken(t *testing.T, root *api.Client, token string) {
	t.Helper()
	if err := root.Auth().Token().RevokeTreeWithContext(context.Background(), token); err != nil {
		t.Fatal(err)
	}
}

// appRoleAccessors lists the accessors of the live tokens AppRole issued
// for role.
func appRoleAccessors(t *testing.T, root *api.Client, role string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := root.Logical().ListWithContext(ctx, "auth/token/accessors")
	if err != nil || s == nil {
		t.Fatalf("listing accessors: %v", err)
	}
	var out []string
	for _, a := range s.Data["keys"].([]any) {
		info, err := root.Auth().Token().LookupAccessorWithContext(ctx, a.(string))
		if err != nil {
			t.Fatalf("looking up an accessor: %v", err)
		}
		meta, _ := info.Data["meta"].(map[string]any)
		if meta["role_name"] == role {
			out = append(out, a.(string))
		}
	}
	slices.Sort(out)
	return out
}

func TestSecretstoreVaultRecords(t *testing.T) {
	srv := testvault.Start(t)
	root := srv.Client(t)
	ctx := context.Background()

	srv.Put(t, storeDir+"demo-gh", map[string]any{"vendor": "github", "secret": "first"})
	srv.Put(t, storeDir+"demo-gh", storeFullRecord()) // version 2
	srv.Put(t, storeDir+"snow", map[string]any{
		"vendor": "servicenow", "secret": storeSecret, "branches": "main release/*",
		"done_states": []any{6, 7}, "auto_close_on_resolve": "true",
	})
	srv.Put(t, storeDir+"broken", map[string]any{"vendor": "myspace", "secret": storeSecret})
	srv.Put(t, storeDir+"bad-active", map[string]any{"vendor": "github", "secret": storeSecret, "active": "maybe"})
	srv.Put(t, storeDir+"gone", map[string]any{"vendor": "github", "secret": storeSecret})
	if err := root.KVv2("secret").Delete(ctx, storeDir+"gone"); err != nil {
		t.Fatal(err)
	}

	t.Run("token", func(t *testing.T) {
		v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, Token: srv.RootToken})
		r, err := v.Fetch(ctx, "demo-gh")
		storeNoLeak(t, err, srv.RootToken)
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		switch {
		case r.ID != "demo-gh", r.Vendor != integrations.GitHub, r.Version != 2:
			t.Fatalf("id/vendor/version: %s %s %d", r.ID, r.Vendor, r.Version)
		case r.Secret != storeSecret, r.PreviousSecret != storePrevious, !r.PreviousValidUntil.Equal(want):
			t.Fatal("secrets or rotation window wrong")
		case r.Active, !r.Pipeline, r.APIToken != storeAPIToken:
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
		v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, Token: srv.RootToken})
		for _, id := range []string{"missing", "gone", "../etc"} {
			_, err := v.Fetch(ctx, id)
			storeNoLeak(t, err, srv.RootToken)
			if !errors.Is(err, secretstore.ErrNotFound) {
				t.Fatalf("%s: err = %v, want ErrNotFound", id, err)
			}
			t.Logf("%s answers: %v", id, err)
		}
	})

	t.Run("malformed", func(t *testing.T) {
		v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, Token: srv.RootToken})
		for _, id := range []string{"broken", "bad-active"} {
			_, err := v.Fetch(ctx, id)
			storeNoLeak(t, err, srv.RootToken)
			if !errors.Is(err, secretstore.ErrInvalid) || !errors.Is(err, integrations.ErrInvalidRecord) || errors.Is(err, secretstore.ErrNotFound) {
				t.Fatalf("%s: err = %v, want ErrInvalid", id, err)
			}
		}
		c := secretstore.NewCache(v, secretstore.CacheOptions{})
		if _, err := c.Lookup(ctx, "broken"); !errors.Is(err, secretstore.ErrInvalid) {
			t.Fatalf("through cache: %v", err)
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		const wrong = "hvs.this-token-does-not-exist-4711"
		v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, Token: wrong})
		_, err := v.Fetch(ctx, "demo-gh")
		if err == nil || errors.Is(err, secretstore.ErrNotFound) || errors.Is(err, secretstore.ErrInvalid) {
			t.Fatalf("err = %v, want an unreachable error", err)
		}
		storeNoLeak(t, err, wrong, srv.RootToken)
		_, err = secretstore.NewCache(v, secretstore.CacheOptions{}).Lookup(ctx, "demo-gh")
		if !errors.Is(err, secretstore.ErrUnavailable) {
			t.Fatalf("through cache: %v", err)
		}
		storeNoLeak(t, err, wrong, srv.RootToken)
		t.Logf("wrong token answers: %v", err)
	})
}

func TestSecretstoreVaultTokenFile(t *testing.T) {
	srv := testvault.Start(t)
	root := srv.Client(t)
	ctx := context.Background()
	srv.Put(t, storeDir+"demo-gh", storeFullRecord())

	file := filepath.Join(t.TempDir(), "token")
	first := createVaultToken(t, root, "root")
	if err := os.WriteFile(file, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, TokenFile: file})
	if _, err := v.Fetch(ctx, "demo-gh"); err != nil {
		t.Fatal(err)
	}
	// An agent rotates the token: the old one is revoked, the file holds
	// the new one, and the next request re-reads it after a 403.
	second := createVaultToken(t, root, "root")
	if err := os.WriteFile(file, []byte(second), 0o600); err != nil {
		t.Fatal(err)
	}
	revokeVaultToken(t, root, first)
	r, err := v.Fetch(ctx, "demo-gh")
	storeNoLeak(t, err, first, second)
	if err != nil || r.Version != 1 || r.Secret != storeSecret {
		t.Fatalf("after rotation: %v", err)
	}
	// A file holding a dead token is an error, not "not found".
	revokeVaultToken(t, root, second)
	_, err = v.Fetch(ctx, "demo-gh")
	if err == nil || errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("dead token: %v", err)
	}
	storeNoLeak(t, err, first, second)
	t.Logf("dead token file answers: %v", err)
}

func TestSecretstoreVaultAppRole(t *testing.T) {
	srv := testvault.Start(t)
	root := srv.Client(t)
	ctx := context.Background()
	srv.Put(t, storeDir+"demo-gh", storeFullRecord())

	roleID, secretID := srv.EnableAppRole(t, "hookgate")
	v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, RoleID: roleID, SecretID: secretID})
	if got := appRoleAccessors(t, root, "hookgate"); len(got) != 0 {
		t.Fatalf("logged in before first use: %d tokens", len(got))
	}
	r, err := v.Fetch(ctx, "demo-gh")
	if err != nil || r.Secret != storeSecret {
		t.Fatalf("fetch: %v", err)
	}
	first := appRoleAccessors(t, root, "hookgate")
	if len(first) != 1 {
		t.Fatalf("%d approle tokens after the first fetch, want 1", len(first))
	}
	if _, err := v.Write(ctx, "approle-written", map[string]any{"vendor": "gitlab"}); err != nil {
		t.Fatalf("write: %v", err)
	}
	if ids, err := v.List(ctx); err != nil || !slices.Equal(ids, []string{"approle-written", "demo-gh"}) {
		t.Fatalf("list: %v %v", ids, err)
	}
	if got := appRoleAccessors(t, root, "hookgate"); !slices.Equal(got, first) {
		t.Fatal("logged in again while the token was valid")
	}

	// The token is revoked behind the client's back: 403, log in again, retry.
	if err := root.Auth().Token().RevokeAccessorWithContext(ctx, first[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Fetch(ctx, "demo-gh"); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	second := appRoleAccessors(t, root, "hookgate")
	if len(second) != 1 || second[0] == first[0] {
		t.Fatalf("did not log in again after 403: %d tokens", len(second))
	}

	bad := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, RoleID: roleID, SecretID: "0f0e0d0c-wrong-secret-id"})
	_, err = bad.Fetch(ctx, "demo-gh")
	if err == nil || errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("wrong secret id: %v", err)
	}
	storeNoLeak(t, err, "0f0e0d0c-wrong-secret-id", secretID, roleID)
	if !strings.Contains(err.Error(), "400") {
		t.Fatalf("wrong secret id: %v, want Vault's 400", err)
	}
	t.Logf("wrong secret id answers: %v", err)
}

func TestSecretstoreVaultWriteAndList(t *testing.T) {
	srv := testvault.Start(t)
	ctx := context.Background()
	v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, Token: srv.RootToken, Prefix: "/hookgate/rt/"})
	if ids, err := v.List(ctx); err != nil || len(ids) != 0 || ids == nil {
		t.Fatalf("empty prefix: %v %v", ids, err)
	}
	for want := 1; want <= 3; want++ {
		data := storeFullRecord()
		data["target"] = "org/repo"
		got, err := v.Write(ctx, "round-trip", data)
		storeNoLeak(t, err, srv.RootToken)
		if err != nil || got != want {
			t.Fatalf("write #%d: version %d, %v", want, got, err)
		}
		r, err := v.Fetch(ctx, "round-trip")
		if err != nil || r.Version != want || r.Secret != storeSecret || r.Target != "org/repo" {
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
}

// countingStore counts reads and listings that reach Vault.
type countingStore struct {
	v             *secretstore.Vault
	reads, listed atomic.Int64
}

func (c *countingStore) Fetch(ctx context.Context, id string) (integrations.Record, error) {
	c.reads.Add(1)
	return c.v.Fetch(ctx, id)
}

func (c *countingStore) List(ctx context.Context) ([]string, error) {
	c.listed.Add(1)
	return c.v.List(ctx)
}

func TestSecretstoreVaultListing(t *testing.T) {
	srv := testvault.Start(t)
	root := srv.Client(t)
	ctx := context.Background()
	srv.Put(t, storeDir+"listed-gh", map[string]any{"vendor": "github", "secret": storeSecret})
	srv.Put(t, storeDir+"listed-other", map[string]any{"vendor": "gitlab", "secret": storeSecret})

	t.Run("list allowed", func(t *testing.T) {
		cs := &countingStore{v: storeVault(t, secretstore.VaultConfig{Address: srv.Addr, Token: srv.RootToken, Timeout: 2 * time.Second})}
		clk := newStoreClock()
		c := secretstore.NewCache(cs, secretstore.CacheOptions{Lister: cs, Now: clk.Now})
		if _, err := c.Lookup(ctx, "listed-gh"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "Vault's listing installed", func() bool { return c.Known("listed-other") })
		before := cs.reads.Load()
		for i := range 1000 {
			if _, err := c.Lookup(ctx, fmt.Sprintf("forged-%04d", i)); !errors.Is(err, secretstore.ErrNotFound) {
				t.Fatalf("forged-%04d: %v", i, err)
			}
		}
		if got := cs.reads.Load() - before; got > secretstore.DefaultUnlistedBurst {
			t.Fatalf("1000 distinct unknown ids cost %d Vault reads, want at most %d", got, secretstore.DefaultUnlistedBurst)
		}
		// Written straight into Vault (no admin, no invalidation), after the
		// budget is spent: found once the bucket refills a little.
		srv.Put(t, storeDir+"direct-gh", map[string]any{"vendor": "github", "secret": storeSecret})
		if _, err := c.Lookup(ctx, "direct-gh"); !errors.Is(err, secretstore.ErrNotFound) {
			t.Fatalf("direct-gh with the budget spent: %v", err)
		}
		clk.Advance(time.Second)
		r, err := c.Lookup(ctx, "direct-gh")
		storeNoLeak(t, err, srv.RootToken)
		if err != nil || r.Secret != storeSecret {
			t.Fatalf("direct-gh: %v", err)
		}
	})

	t.Run("list denied", func(t *testing.T) {
		policy := `path "secret/data/hookgate/*" { capabilities = ["read"] }`
		if err := root.Sys().PutPolicyWithContext(ctx, "read-only-hookgate", policy); err != nil {
			t.Fatal(err)
		}
		tok := createVaultToken(t, root, "read-only-hookgate")
		v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, Token: tok, Timeout: 2 * time.Second})
		_, err := v.List(ctx)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("list with a read-only token: %v, want 403", err)
		}
		storeNoLeak(t, err, tok, srv.RootToken)
		t.Logf("list denied answers: %v", err)
		if r, err := v.Fetch(ctx, "listed-gh"); err != nil || r.Secret != storeSecret {
			t.Fatalf("fetch with a read-only token: %v", err)
		}

		cs := &countingStore{v: v}
		var mu sync.Mutex
		var told []error
		c := secretstore.NewCache(cs, secretstore.CacheOptions{Lister: cs, OnListError: func(err error) {
			mu.Lock()
			told = append(told, err)
			mu.Unlock()
		}})
		if _, err := c.Lookup(ctx, "listed-gh"); err != nil {
			t.Fatalf("a valid id fails closed when listing is denied: %v", err)
		}
		eventually(t, 10*time.Second, "the denied listing reported", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(told) > 0
		})
		mu.Lock()
		err = told[0]
		n := len(told)
		mu.Unlock()
		if n != 1 || !strings.Contains(err.Error(), "403") {
			t.Fatalf("told %d times: %v", n, err)
		}
		storeNoLeak(t, err, tok, srv.RootToken)
		before := cs.reads.Load()
		for i := range 50 {
			if _, err := c.Lookup(ctx, fmt.Sprintf("forged-%02d", i)); !errors.Is(err, secretstore.ErrNotFound) {
				t.Fatalf("forged-%02d: %v", i, err)
			}
		}
		if got := cs.reads.Load() - before; got != 50 {
			t.Fatalf("fallback: %d reads for 50 distinct unknown ids, want 50 (one each)", got)
		}
		if r, err := c.Lookup(ctx, "listed-other"); err != nil || r.Vendor != integrations.GitLab {
			t.Fatalf("lookup with listing denied: %v", err)
		}
	})
}

// storeClock is a manual clock for CacheOptions.Now.
type storeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newStoreClock() *storeClock { return &storeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *storeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *storeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSecretstoreVaultOutageServesCache(t *testing.T) {
	srv := testvault.Start(t)
	srv.Put(t, storeDir+"demo-gh", storeFullRecord())
	v := storeVault(t, secretstore.VaultConfig{Address: srv.Addr, Token: srv.RootToken, Timeout: 2 * time.Second})
	clk := newStoreClock()
	c := secretstore.NewCache(v, secretstore.CacheOptions{TTL: 30 * time.Second, StaleTTL: 15 * time.Minute, Now: clk.Now})
	ctx := context.Background()
	if _, err := c.Lookup(ctx, "demo-gh"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(ctx, "unknown"); !errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}

	srv.Stop()
	clk.Advance(31 * time.Second)
	r, err := c.Lookup(ctx, "demo-gh")
	if err != nil || r.Secret != storeSecret || r.Version != 1 {
		t.Fatalf("within stale window: %v", err)
	}
	_, err = c.Lookup(ctx, "never-seen")
	if !errors.Is(err, secretstore.ErrUnavailable) || errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("uncached id: err = %v, want ErrUnavailable", err)
	}
	storeNoLeak(t, err, srv.RootToken)
	t.Logf("outage answers: %v", err)

	clk.Advance(10 * time.Minute) // past RetryInterval: Vault is asked again and still down
	if _, err := c.Lookup(ctx, "demo-gh"); err != nil {
		t.Fatalf("still within stale window: %v", err)
	}
	clk.Advance(6 * time.Minute) // 16m31s after the fetch
	_, err = c.Lookup(ctx, "demo-gh")
	if !errors.Is(err, secretstore.ErrUnavailable) {
		t.Fatalf("past stale window: err = %v, want ErrUnavailable", err)
	}
	storeNoLeak(t, err, srv.RootToken)
}
