package caddymodule

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

// contractCaddyfile is the Caddyfile of CONTRACT.md, comments included.
const contractCaddyfile = `{
	hookgate {
		vault {
			address   {env.VAULT_ADDR}
			token     {env.VAULT_TOKEN}      # or: approle <role_id> <secret_id>, or token_file <path>
			mount     secret                 # KV v2 mount
			prefix    hookgate/integrations
			cache_ttl 30s                    # how long a record is trusted without asking Vault
			stale_ttl 15m                    # how long a cached record serves while Vault is down
		}
		redis {
			address    127.0.0.1:6379        # several addresses: cluster; ` + "`sentinel <master>`" + `: sentinel
			password   {env.REDIS_PASSWORD}
			key_prefix hookgate:
		}
		upstream http://127.0.0.1:9000/v1/events {
			timeout      10s
			max_attempts 12
			backoff      1s 10m              # first and longest wait between attempts
			header Authorization "Bearer {env.FINDINGS_TOKEN}"
		}
		public_url     https://hooks.example.com   # receiver URLs given to vendors
		allow_unsigned {env.CI_WEBHOOK_ALLOW_UNSIGNED}
		max_body       25MiB
		audit_size     200
		dedupe_window  72h
		poll_interval  5m
		integration demo-gh {                # static integration: no Vault needed
			vendor   github
			secret   {env.DEMO_GH_SECRET}
			branches main release/*
			scans    sast sca
		}
	}
}

:8080 {
	route /webhooks/* {
		hookgate
		respond 202
	}
	route /legacy/github {
		hookgate {
			vendor      github
			integration legacy-gh
		}
		reverse_proxy 127.0.0.1:9100
	}
}
`

// adapt turns a Caddyfile into its JSON config, decoded.
func adapt(t *testing.T, caddyfile string) (raw []byte, cfg map[string]any) {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("decoding adapted config: %v\n%s", err, out)
	}
	return out, cfg
}

// decode parses expected JSON written in a test.
func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad expected JSON: %v\n%s", err, s)
	}
	return v
}

func assertJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	w := decode(t, want)
	if !reflect.DeepEqual(got, w) {
		g, _ := json.MarshalIndent(got, "", "  ")
		e, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, e)
	}
}

func jsonAt(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %q: not an object: %v", k, v)
		}
		v, ok = m[k]
		if !ok {
			t.Fatalf("no key %q in %v", k, m)
		}
	}
	return v
}

func serverRoutes(t *testing.T, cfg map[string]any) []any {
	t.Helper()
	return jsonAt(t, cfg, "apps", "http", "servers", "srv0", "routes").([]any)
}

// routeHandlers returns the handle list of the server route whose path
// matcher is exactly matchPath, looking inside its subroute.
func routeHandlers(t *testing.T, cfg map[string]any, matchPath string) any {
	t.Helper()
	for _, r := range serverRoutes(t, cfg) {
		rm := r.(map[string]any)
		match, _ := rm["match"].([]any)
		if len(match) != 1 {
			continue
		}
		paths, _ := match[0].(map[string]any)["path"].([]any)
		if len(paths) != 1 || paths[0] != matchPath {
			continue
		}
		handle := rm["handle"].([]any)
		if len(handle) != 1 || handle[0].(map[string]any)["handler"] != "subroute" {
			t.Fatalf("route %s: expected one subroute, got %v", matchPath, handle)
		}
		sub := handle[0].(map[string]any)["routes"].([]any)
		if len(sub) != 1 {
			t.Fatalf("route %s: expected one inner route, got %v", matchPath, sub)
		}
		return sub[0].(map[string]any)["handle"]
	}
	t.Fatalf("no route matching %s", matchPath)
	return nil
}

// handlerOrder flattens the server's routes (and subroutes) into the order
// their handlers run.
func handlerOrder(routes []any) []string {
	var out []string
	for _, r := range routes {
		for _, h := range r.(map[string]any)["handle"].([]any) {
			hm := h.(map[string]any)
			name := hm["handler"].(string)
			if name == "subroute" {
				out = append(out, handlerOrder(hm["routes"].([]any))...)
				continue
			}
			out = append(out, name)
		}
	}
	return out
}

func TestAdaptContractCaddyfile(t *testing.T) {
	// Secrets that happen to be in the environment at adapt time must not
	// end up in the JSON: {env.*} is resolved at provision time only.
	t.Setenv("VAULT_TOKEN", "hvs.adapt-time-leak")
	t.Setenv("REDIS_PASSWORD", "redis-adapt-time-leak")
	t.Setenv("DEMO_GH_SECRET", "demo-adapt-time-leak")
	t.Setenv("FINDINGS_TOKEN", "findings-adapt-time-leak")

	raw, cfg := adapt(t, contractCaddyfile)
	for _, leak := range []string{"hvs.adapt-time-leak", "redis-adapt-time-leak", "demo-adapt-time-leak", "findings-adapt-time-leak"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("adapted JSON contains the environment value %q", leak)
		}
	}

	assertJSON(t, "apps.hookgate", jsonAt(t, cfg, "apps", "hookgate"), `{
		"vault": {
			"address": "{env.VAULT_ADDR}",
			"token": "{env.VAULT_TOKEN}",
			"mount": "secret",
			"prefix": "hookgate/integrations",
			"cache_ttl": 30000000000,
			"stale_ttl": 900000000000
		},
		"redis": {
			"addresses": ["127.0.0.1:6379"],
			"password": "{env.REDIS_PASSWORD}",
			"key_prefix": "hookgate:"
		},
		"upstream": {
			"url": "http://127.0.0.1:9000/v1/events",
			"timeout": 10000000000,
			"max_attempts": 12,
			"backoff_first": 1000000000,
			"backoff_max": 600000000000,
			"headers": {"Authorization": "Bearer {env.FINDINGS_TOKEN}"}
		},
		"public_url": "https://hooks.example.com",
		"allow_unsigned": "{env.CI_WEBHOOK_ALLOW_UNSIGNED}",
		"max_body": 26214400,
		"audit_size": 200,
		"dedupe_window": 259200000000000,
		"poll_interval": 300000000000,
		"integrations": {
			"demo-gh": {
				"vendor": "github",
				"secret": "{env.DEMO_GH_SECRET}",
				"branches": ["main", "release/*"],
				"scans": ["sast", "sca"]
			}
		}
	}`)

	assertJSON(t, "route /webhooks/*", routeHandlers(t, cfg, "/webhooks/*"), `[
		{"handler": "hookgate"},
		{"handler": "static_response", "status_code": 202}
	]`)
	assertJSON(t, "route /legacy/github", routeHandlers(t, cfg, "/legacy/github"), `[
		{"handler": "hookgate", "vendor": "github", "integration": "legacy-gh"},
		{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:9100"}]}
	]`)
}

func TestAdaptVaultAuthForms(t *testing.T) {
	for _, tc := range []struct {
		name, block, want string
	}{
		{
			name: "approle",
			block: `vault {
				address https://vault.internal:8200
				approle {env.ROLE_ID} {file./run/secrets/secret-id}
				timeout 2s
			}`,
			want: `{"address": "https://vault.internal:8200",
				"approle": {"role_id": "{env.ROLE_ID}", "secret_id": "{file./run/secrets/secret-id}"},
				"timeout": 2000000000}`,
		},
		{
			name: "token_file",
			block: `vault {
				address   {env.VAULT_ADDR}
				token_file /run/secrets/vault-token
			}`,
			want: `{"address": "{env.VAULT_ADDR}", "token_file": "/run/secrets/vault-token"}`,
		},
		{
			name: "token",
			block: `vault {
				address http://127.0.0.1:8200
				token   {env.VAULT_TOKEN}
			}`,
			want: `{"address": "http://127.0.0.1:8200", "token": "{env.VAULT_TOKEN}"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ROLE_ID", "role-adapt-time-leak")
			raw, cfg := adapt(t, "{\n\thookgate {\n"+tc.block+"\n\t}\n}\n:8080 {\n\troute /webhooks/* {\n\t\thookgate\n\t}\n}\n")
			if bytes.Contains(raw, []byte("role-adapt-time-leak")) {
				t.Error("adapted JSON contains the resolved role id")
			}
			assertJSON(t, "apps.hookgate.vault", jsonAt(t, cfg, "apps", "hookgate", "vault"), tc.want)
		})
	}
}

func TestAdaptRedisAndIntegrationForms(t *testing.T) {
	_, cfg := adapt(t, `{
	hookgate {
		redis {
			address  10.0.0.1:26379 10.0.0.2:26379
			sentinel mymaster
			username hookgate
			password {env.REDIS_PASSWORD}
			db       3
		}
		integration jira-prod {
			vendor                jira
			scheme                hmac
			secret                {file./run/secrets/jira}
			previous_secret       {env.JIRA_OLD}
			previous_valid_until  2026-01-01T00:00:00Z
			active                false
			auto_close_on_resolve
			pipeline              true
			done_states           Done Closed
			api_url               https://acme.atlassian.net
			api_user              bot@example.com
			api_token             {env.JIRA_API_TOKEN}
			target                SEC
		}
	}
}
:8080 {
	hookgate
}
`)
	assertJSON(t, "apps.hookgate", jsonAt(t, cfg, "apps", "hookgate"), `{
		"redis": {
			"addresses": ["10.0.0.1:26379", "10.0.0.2:26379"],
			"sentinel": "mymaster",
			"username": "hookgate",
			"password": "{env.REDIS_PASSWORD}",
			"db": 3
		},
		"integrations": {
			"jira-prod": {
				"vendor": "jira",
				"scheme": "hmac",
				"secret": "{file./run/secrets/jira}",
				"previous_secret": "{env.JIRA_OLD}",
				"previous_valid_until": "2026-01-01T00:00:00Z",
				"active": false,
				"auto_close_on_resolve": true,
				"pipeline": true,
				"done_states": ["Done", "Closed"],
				"api_url": "https://acme.atlassian.net",
				"api_user": "bot@example.com",
				"api_token": "{env.JIRA_API_TOKEN}",
				"target": "SEC"
			}
		}
	}`)
}

func TestAdaptKeepCredentials(t *testing.T) {
	_, cfg := adapt(t, `:8080 {
	route /webhooks/* {
		hookgate {
			keep_credentials
		}
		respond 202
	}
}
`)
	assertJSON(t, "route /webhooks/*", routeHandlers(t, cfg, "/webhooks/*"), `[
		{"handler": "hookgate", "keep_credentials": true},
		{"handler": "static_response", "status_code": 202}
	]`)
	if _, ok := jsonAt(t, cfg, "apps").(map[string]any)["hookgate"]; ok {
		t.Error("no global hookgate block, yet apps.hookgate was emitted")
	}
}

func TestAdaptPlaceholderVendorAndIntegration(t *testing.T) {
	_, cfg := adapt(t, `:8080 {
	route /hooks/* {
		hookgate {
			vendor      {http.request.header.X-Vendor}
			integration {http.request.uri.path.1}
		}
		respond 202
	}
}
`)
	assertJSON(t, "route /hooks/*", routeHandlers(t, cfg, "/hooks/*"), `[
		{"handler": "hookgate", "vendor": "{http.request.header.X-Vendor}", "integration": "{http.request.uri.path.1}"},
		{"handler": "static_response", "status_code": 202}
	]`)
}

// Outside a route the directive order applies: hookgate is registered
// before redir, so it runs before anything that rewrites, answers or
// proxies, whatever order the Caddyfile lists them in.
func TestAdaptDirectiveOrder(t *testing.T) {
	_, cfg := adapt(t, `:8080 {
	reverse_proxy /api/* 127.0.0.1:9100
	file_server
	respond /ping 200
	rewrite /old /new
	redir /moved /elsewhere
	hookgate
}
`)
	order := handlerOrder(serverRoutes(t, cfg))
	hg := slices.Index(order, "hookgate")
	if hg < 0 {
		t.Fatalf("no hookgate handler in %v", order)
	}
	for _, later := range []string{"reverse_proxy", "file_server", "static_response", "rewrite"} {
		i := slices.Index(order, later)
		if i < 0 {
			t.Fatalf("no %s handler in %v", later, order)
		}
		if i < hg {
			t.Errorf("%s runs before hookgate: %v", later, order)
		}
	}
	if order[0] != "hookgate" {
		t.Errorf("hookgate is not the first handler: %v", order)
	}
}

func TestAdaptDirectiveOrderSimple(t *testing.T) {
	_, cfg := adapt(t, `:8080 {
	reverse_proxy 127.0.0.1:9100
	hookgate
}
`)
	routes := serverRoutes(t, cfg)
	var handles []any
	for _, r := range routes {
		handles = append(handles, r.(map[string]any)["handle"].([]any)...)
	}
	assertJSON(t, "handlers in order", handles, `[
		{"handler": "hookgate"},
		{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:9100"}]}
	]`)
}

func TestAdaptErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"handler argument", ":8080 {\n\thookgate github\n}\n"},
		{"handler unknown subdirective", ":8080 {\n\thookgate {\n\t\tsecret x\n\t}\n}\n"},
		{"global unknown subdirective", "{\n\thookgate {\n\t\tnope 1\n\t}\n}\n:8080 {\n\thookgate\n}\n"},
		{"global vault without address", "{\n\thookgate {\n\t\tvault {\n\t\t\ttoken x\n\t\t}\n\t}\n}\n:8080 {\n\thookgate\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(tc.in), map[string]any{"filename": "Caddyfile"})
			if err == nil {
				t.Fatal("adapt succeeded, want an error")
			}
		})
	}
}
