package caddymodule

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

func TestAppUnmarshalCaddyfile(t *testing.T) {
	var a App
	in := `hookgate {
		vault {
			address   https://vault.internal:8200
			approle   role secret
			mount     kv
			prefix    hg
			cache_ttl 1m
			stale_ttl 1h
			timeout   3s
		}
		upstream http://findings.internal/v1/events {
			backoff 2s 2s
			concurrency 8
			header X-A "1"
			header X-B "2"
		}
		max_body      1MB
		max_inflight_body 64MiB
		body_timeout  3s
		body_min_rate 1KiB
		max_outbox    500
		audit_size    0
		dedupe_window 1d
		integration a {
			vendor jira
			active
			branches main
			branches dev
		}
		integration b {
			vendor gitlab
			active FALSE
		}
	}`
	if err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in)); err != nil {
		t.Fatalf("UnmarshalCaddyfile: %v", err)
	}
	if a.Vault == nil || a.Vault.AppRole == nil || a.Vault.AppRole.RoleID != "role" || a.Vault.AppRole.SecretID != "secret" ||
		a.Vault.Mount != "kv" || a.Vault.Prefix != "hg" || time.Duration(a.Vault.CacheTTL) != time.Minute ||
		time.Duration(a.Vault.StaleTTL) != time.Hour || time.Duration(a.Vault.Timeout) != 3*time.Second {
		t.Errorf("vault: %+v", a.Vault)
	}
	if u := a.Upstream; u == nil || u.URL != "http://findings.internal/v1/events" || u.BackoffFirst != u.BackoffMax || u.Concurrency != 8 ||
		u.Headers["X-A"] != "1" || u.Headers["X-B"] != "2" {
		t.Errorf("upstream: %+v", a.Upstream)
	}
	if a.MaxBody != 1000000 {
		t.Errorf("max_body 1MB = %d, want 1000000", a.MaxBody)
	}
	if a.MaxInflightBody != 64<<20 || time.Duration(a.BodyTimeout) != 3*time.Second || a.BodyMinRate != 1024 || a.MaxOutbox != 500 {
		t.Errorf("edge bounds: max_inflight_body %d, body_timeout %v, body_min_rate %d, max_outbox %d",
			a.MaxInflightBody, time.Duration(a.BodyTimeout), a.BodyMinRate, a.MaxOutbox)
	}
	if time.Duration(a.DedupeWindow) != 24*time.Hour {
		t.Errorf("dedupe_window 1d = %v", time.Duration(a.DedupeWindow))
	}
	ia, ib := a.Integrations["a"], a.Integrations["b"]
	if ia.Vendor != "jira" || ia.Active == nil || !*ia.Active || strings.Join(ia.Branches, ",") != "main,dev" {
		t.Errorf("integration a: %+v", ia)
	}
	if ib.Vendor != "gitlab" || ib.Active == nil || *ib.Active {
		t.Errorf("integration b: %+v", ib)
	}
}

func TestAppUnmarshalCaddyfileErrors(t *testing.T) {
	const arity = "wrong argument count"
	// wrap puts lines into the global hookgate block.
	wrap := func(lines ...string) string {
		return "hookgate {\n" + strings.Join(lines, "\n") + "\n}"
	}
	vault := func(lines ...string) string {
		return wrap(append(append([]string{"vault {"}, lines...), "}")...)
	}
	redis := func(lines ...string) string {
		return wrap(append(append([]string{"redis {"}, lines...), "}")...)
	}
	upstream := func(lines ...string) string {
		return wrap(append(append([]string{"upstream http://u/ {"}, lines...), "}")...)
	}
	integration := func(lines ...string) string {
		return wrap(append(append([]string{"integration x {"}, lines...), "}")...)
	}
	const addr, tok = "address http://v:8200", "token t"

	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"args after hookgate", "hookgate extra {\n}", arity},
		{"arg after hookgate, no block", "hookgate extra", arity},
		{"unknown subdirective", wrap("nope 1"), `unrecognized subdirective "nope"`},

		// vault
		{"vault with argument", wrap("vault x {", addr, tok, "}"), arity},
		{"vault without address", vault(tok), "address is required"},
		{"vault without block", wrap("vault"), "address is required"},
		{"vault without auth", vault(addr), "exactly one of token, token_file or approle"},
		{"vault token and approle", vault(addr, tok, "approle r s"), "exactly one of"},
		{"vault token and token_file", vault(addr, tok, "token_file /f"), "exactly one of"},
		{"vault token_file and approle", vault(addr, "token_file /f", "approle r s"), "exactly one of"},
		{"vault all three", vault(addr, tok, "token_file /f", "approle r s"), "exactly one of"},
		{"vault unknown", vault(addr, tok, "namespace ns"), `unrecognized subdirective "namespace"`},
		{"vault address no arg", vault("address", tok), arity},
		{"vault address two args", vault("address a b", tok), arity},
		{"vault token no arg", vault(addr, "token"), arity},
		{"vault token two args", vault(addr, "token a b"), arity},
		{"vault token_file no arg", vault(addr, "token_file"), arity},
		{"vault token_file two args", vault(addr, "token_file a b"), arity},
		{"vault approle one arg", vault(addr, "approle r"), arity},
		{"vault approle no arg", vault(addr, "approle"), arity},
		{"vault approle three args", vault(addr, "approle r s x"), arity},
		{"vault mount no arg", vault(addr, tok, "mount"), arity},
		{"vault mount two args", vault(addr, tok, "mount a b"), arity},
		{"vault prefix no arg", vault(addr, tok, "prefix"), arity},
		{"vault prefix two args", vault(addr, tok, "prefix a b"), arity},
		{"vault cache_ttl no arg", vault(addr, tok, "cache_ttl"), arity},
		{"vault cache_ttl two args", vault(addr, tok, "cache_ttl 1s 2s"), arity},
		{"vault cache_ttl bad", vault(addr, tok, "cache_ttl soon"), "not a positive duration"},
		{"vault cache_ttl zero", vault(addr, tok, "cache_ttl 0s"), "not a positive duration"},
		{"vault cache_ttl negative", vault(addr, tok, "cache_ttl -5s"), "not a positive duration"},
		{"vault cache_ttl unitless", vault(addr, tok, "cache_ttl 30"), "not a positive duration"},
		{"vault stale_ttl bad", vault(addr, tok, "stale_ttl 15"), "not a positive duration"},
		{"vault stale_ttl no arg", vault(addr, tok, "stale_ttl"), arity},
		{"vault timeout bad", vault(addr, tok, "timeout x"), "not a positive duration"},
		{"vault timeout two args", vault(addr, tok, "timeout 1s 2s"), arity},

		// redis
		{"redis with argument", wrap("redis x {", "address a:1", "}"), arity},
		{"redis without address", redis("password p"), "address is required"},
		{"redis without block", wrap("redis"), "address is required"},
		{"redis address no arg", redis("address"), arity},
		{"redis sentinel no arg", redis("address a:1", "sentinel"), arity},
		{"redis sentinel two args", redis("address a:1", "sentinel m n"), arity},
		{"redis username two args", redis("address a:1", "username a b"), arity},
		{"redis password no arg", redis("address a:1", "password"), arity},
		{"redis db not integer", redis("address a:1", "db one"), "not a non-negative integer"},
		{"redis db negative", redis("address a:1", "db -1"), "not a non-negative integer"},
		{"redis db no arg", redis("address a:1", "db"), arity},
		{"redis key_prefix two args", redis("address a:1", "key_prefix a b"), arity},
		{"redis unknown", redis("address a:1", "tls"), `unrecognized subdirective "tls"`},

		// upstream
		{"upstream without URL", wrap("upstream {", "timeout 1s", "}"), arity},
		{"upstream without URL or block", wrap("upstream"), arity},
		{"upstream two URLs", wrap("upstream http://a/ http://b/"), arity},
		{"upstream timeout bad", upstream("timeout 10"), "not a positive duration"},
		{"upstream timeout no arg", upstream("timeout"), arity},
		{"upstream max_attempts not integer", upstream("max_attempts many"), "not a non-negative integer"},
		{"upstream max_attempts fraction", upstream("max_attempts 1.5"), "not a non-negative integer"},
		{"upstream max_attempts two args", upstream("max_attempts 1 2"), arity},
		{"upstream concurrency zero", upstream("concurrency 0"), "not a positive integer"},
		{"upstream concurrency not integer", upstream("concurrency many"), "not a positive integer"},
		{"upstream backoff one arg", upstream("backoff 1s"), arity},
		{"upstream backoff no arg", upstream("backoff"), arity},
		{"upstream backoff three args", upstream("backoff 1s 2s 3s"), arity},
		{"upstream backoff first > longest", upstream("backoff 10m 1s"), "first <= longest"},
		{"upstream backoff zero first", upstream("backoff 0s 1s"), "first <= longest"},
		{"upstream backoff bad first", upstream("backoff x 1s"), "first <= longest"},
		{"upstream backoff bad longest", upstream("backoff 1s y"), "first <= longest"},
		{"upstream header one arg", upstream("header X-A"), arity},
		{"upstream header three args", upstream("header X-A 1 2"), arity},
		{"upstream unknown", upstream("retries 3"), `unrecognized subdirective "retries"`},

		// scalars
		{"public_url no arg", wrap("public_url"), arity},
		{"public_url two args", wrap("public_url https://a https://b"), arity},
		{"allow_unsigned no arg", wrap("allow_unsigned"), arity},
		{"allow_unsigned two args", wrap("allow_unsigned true false"), arity},
		{"max_body no arg", wrap("max_body"), arity},
		{"max_body two args", wrap("max_body 1MiB 2MiB"), arity},
		{"max_body not a size", wrap("max_body lots"), "max_body: invalid size"},
		{"max_body zero", wrap("max_body 0"), "max_body: invalid size"},
		{"max_body negative", wrap("max_body -1MiB"), "max_body: invalid size"},
		{"max_body over int64", wrap("max_body 10EiB"), "max_body"},
		{"max_inflight_body not a size", wrap("max_inflight_body lots"), "max_inflight_body: invalid size"},
		{"max_inflight_body zero", wrap("max_inflight_body 0"), "max_inflight_body: invalid size"},
		{"body_min_rate not a size", wrap("body_min_rate fast"), "body_min_rate: invalid size"},
		{"body_timeout zero", wrap("body_timeout 0s"), "not a positive duration"},
		{"body_timeout no arg", wrap("body_timeout"), arity},
		{"max_outbox zero", wrap("max_outbox 0"), "max_outbox"},
		{"max_outbox not integer", wrap("max_outbox lots"), "max_outbox"},
		{"audit_size not integer", wrap("audit_size many"), "not a non-negative integer"},
		{"audit_size fraction", wrap("audit_size 1.5"), "not a non-negative integer"},
		{"audit_size with unit", wrap("audit_size 200KiB"), "not a non-negative integer"},
		{"audit_size negative", wrap("audit_size -1"), "not a non-negative integer"},
		{"audit_size no arg", wrap("audit_size"), arity},
		{"audit_size two args", wrap("audit_size 1 2"), arity},
		{"dedupe_window bad", wrap("dedupe_window forever"), "not a positive duration"},
		{"dedupe_window zero", wrap("dedupe_window 0s"), "not a positive duration"},
		{"dedupe_window no arg", wrap("dedupe_window"), arity},
		{"poll_interval bad", wrap("poll_interval 5"), "not a positive duration"},
		{"poll_interval negative", wrap("poll_interval -5m"), "not a positive duration"},
		{"poll_interval two args", wrap("poll_interval 1m 2m"), arity},

		// integration
		{"integration without id", wrap("integration {", "vendor github", "}"), arity},
		{"integration two ids", wrap("integration a b {", "vendor github", "}"), arity},
		{"integration without vendor", integration("secret s"), "vendor is required"},
		{"integration without block", wrap("integration x"), "vendor is required"},
		{"integration duplicate id", wrap("integration x {", "vendor github", "}", "integration x {", "vendor gitlab", "}"), `integration "x" defined twice`},
		{"integration unknown", integration("vendor github", "color blue"), `unrecognized subdirective "color"`},
		{"integration vendor no arg", integration("vendor"), arity},
		{"integration vendor two args", integration("vendor github gitlab"), arity},
		{"integration secret no arg", integration("vendor github", "secret"), arity},
		{"integration secret two args", integration("vendor github", "secret a b"), arity},
		{"integration previous_secret no arg", integration("vendor github", "previous_secret"), arity},
		{"integration previous_valid_until two args", integration("vendor github", "previous_valid_until 2026-01-01 00:00"), arity},
		{"integration scheme no arg", integration("vendor github", "scheme"), arity},
		{"integration active bad", integration("vendor github", "active maybe"), "not true or false"},
		{"integration active two args", integration("vendor github", "active true false"), arity},
		{"integration auto_close_on_resolve bad", integration("vendor jira", "auto_close_on_resolve sometimes"), "not true or false"},
		{"integration pipeline bad", integration("vendor github", "pipeline yes please"), arity},
		{"integration branches no arg", integration("vendor github", "branches"), arity},
		{"integration scans no arg", integration("vendor github", "scans"), arity},
		{"integration done_states no arg", integration("vendor servicenow", "done_states"), arity},
		{"integration api_url no arg", integration("vendor jira", "api_url"), arity},
		{"integration api_user two args", integration("vendor jira", "api_user a b"), arity},
		{"integration api_token no arg", integration("vendor jira", "api_token"), arity},
		{"integration target two args", integration("vendor github", "target a b"), arity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a App
			err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.in))
			if err == nil {
				t.Fatalf("no error for\n%s", tc.in)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

// provisionApp provisions a in a bare Caddy context and releases it when
// the test ends.
func provisionApp(t testing.TB, a *App) error {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	err := a.Provision(ctx)
	a.logger = zap.NewNop()
	t.Cleanup(func() { _ = a.Cleanup() })
	return err
}

func TestAppProvisionDefaults(t *testing.T) {
	t.Setenv("CI_WEBHOOK_ALLOW_UNSIGNED", "")
	a := &App{}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if a.MaxBody != 25<<20 || a.AuditSize != 200 || a.allowUnsigned {
		t.Errorf("defaults: max_body %d, audit_size %d, allowUnsigned %v", a.MaxBody, a.AuditSize, a.allowUnsigned)
	}
	if err := a.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestAppProvisionAllowUnsigned(t *testing.T) {
	for _, tc := range []struct {
		name, setting, env string
		want               bool
	}{
		{"default, env unset", "", "", false},
		{"default, env true", "", "true", true},
		{"default, env TRUE", "", "TRUE", true},
		{"default, env padded", "", " True ", true},
		{"default, env 1", "", "1", false},
		{"default, env yes", "", "yes", false},
		{"default, env false", "", "false", false},
		{"literal true", "true", "", true},
		{"literal false beats env", "false", "true", false},
		{"other placeholder", "{env.HG_TEST_ALLOW}", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI_WEBHOOK_ALLOW_UNSIGNED", tc.env)
			a := &App{AllowUnsigned: tc.setting}
			if err := provisionApp(t, a); err != nil {
				t.Fatalf("Provision: %v", err)
			}
			if a.allowUnsigned != tc.want {
				t.Errorf("allowUnsigned = %v, want %v", a.allowUnsigned, tc.want)
			}
		})
	}
	t.Run("other placeholder set", func(t *testing.T) {
		t.Setenv("HG_TEST_ALLOW", "true")
		a := &App{AllowUnsigned: "{env.HG_TEST_ALLOW}"}
		if err := provisionApp(t, a); err != nil {
			t.Fatalf("Provision: %v", err)
		}
		if !a.allowUnsigned {
			t.Error("allowUnsigned from {env.HG_TEST_ALLOW}=true is false")
		}
	})
}

func TestAppProvisionResolvesSecretPlaceholders(t *testing.T) {
	t.Setenv("HG_TEST_SECRET", "from-env")
	a := &App{Integrations: map[string]IntegrationConfig{"gh": {Vendor: "github", Secret: "{env.HG_TEST_SECRET}"}}}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	rec, err := a.lookup(context.Background(), "gh")
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if rec.Secret != "from-env" {
		t.Errorf("secret not resolved from the environment")
	}
	if a.Integrations["gh"].Secret != "{env.HG_TEST_SECRET}" {
		t.Errorf("Provision rewrote the config's placeholder")
	}
}

func TestAppProvisionErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a       App
		wantErr string
	}{
		{"unknown vendor", App{Integrations: map[string]IntegrationConfig{"x": {Vendor: "githubb"}}}, "unknown vendor"},
		{"malformed id", App{Integrations: map[string]IntegrationConfig{"-x": {Vendor: "github"}}}, "malformed integration id"},
		{"scheme of another vendor", App{Integrations: map[string]IntegrationConfig{"x": {Vendor: "github", Scheme: "token"}}}, "no scheme"},
		{"bad previous_valid_until", App{Integrations: map[string]IntegrationConfig{"x": {Vendor: "github", Secret: "a", PreviousSecret: "b", PreviousValidUntil: "tomorrow"}}}, "RFC 3339"},
		{"previous_secret without until", App{Integrations: map[string]IntegrationConfig{"x": {Vendor: "github", Secret: "a", PreviousSecret: "b"}}}, "previous_valid_until"},
		{"unknown scan", App{Integrations: map[string]IntegrationConfig{"x": {Vendor: "github", Scans: []string{"dast"}}}}, "unknown scan"},
		{"vault bad address", App{Vault: &VaultConfig{Address: "vault.internal", Token: "t"}}, "vault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			err := provisionApp(t, &a)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Provision: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestAppValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    App
		ok   bool
	}{
		{"zero", App{}, true},
		{"negative max_body", App{MaxBody: -1}, false},
		{"negative audit_size", App{AuditSize: -1}, false},
		{"upstream without URL", App{Upstream: &UpstreamConfig{}}, false},
		{"upstream", App{Upstream: &UpstreamConfig{URL: "http://u/"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.a.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestAppCleanupWithoutProvision(t *testing.T) {
	var a App
	if err := a.Cleanup(); err != nil {
		t.Errorf("Cleanup before Provision: %v", err)
	}
}
