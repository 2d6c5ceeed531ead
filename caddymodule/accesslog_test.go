package caddymodule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/caddy-hookgate/verifiers"
)

// provisionCaddyfile loads a Caddyfile as Caddy does, without starting
// it: adapted, logs opened, every app provisioned. Caddy's default log
// writes to a file in the test's directory (its encoder and filters stay
// as configured), so the tests stay quiet. It returns the hookgate app,
// released when the test ends.
func provisionCaddyfile(t *testing.T, caddyfile string) *App {
	t.Helper()
	raw, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	var cfg caddy.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Logging == nil {
		cfg.Logging = new(caddy.Logging)
	}
	if cfg.Logging.Logs == nil {
		cfg.Logging.Logs = map[string]*caddy.CustomLog{}
	}
	if cfg.Logging.Logs["default"] == nil {
		cfg.Logging.Logs["default"] = new(caddy.CustomLog)
	}
	if cfg.Logging.Logs["default"].WriterRaw == nil {
		w, _ := json.Marshal(map[string]string{"output": "file", "filename": filepath.Join(t.TempDir(), "caddy.log")})
		cfg.Logging.Logs["default"].WriterRaw = w
	}
	ctx, err := caddy.ProvisionContext(&cfg)
	if err != nil {
		t.Fatalf("provision: %v\n%s", err, raw)
	}
	app, err := ctx.App("hookgate")
	if err != nil {
		t.Fatal(err)
	}
	a := app.(*App)
	t.Cleanup(func() { _ = a.Cleanup() })
	return a
}

// accessLogCaddyfile is a config with static GitLab (token header) and
// Jira (token query) integrations and the given site blocks, each
// routing /webhooks/* to hookgate unless it says otherwise.
func accessLogCaddyfile(global, sites string) string {
	return `{
	admin off
	auto_https off
	persist_config off
` + global + `
	hookgate {
		integration gl {
			vendor gitlab
			secret {env.HOOKGATE_TEST_UNSET}
		}
		integration jt {
			vendor jira
			scheme token
			secret {env.HOOKGATE_TEST_UNSET}
		}
	}
}
` + sites
}

// readmeFilters is the log block README.md shows under "Keeping tokens
// out of Caddy's access log" (Caddyfile.example's has the same fields):
// the tests check what the README tells operators to write.
func readmeFilters(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### Keeping tokens out of Caddy's access log\n")
	_, block, ok2 := strings.Cut(section, "```caddyfile\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 || !strings.HasPrefix(block, "log {") {
		t.Fatal("README.md: no caddyfile log block under \"Keeping tokens out of Caddy's access log\"")
	}
	return block
}

func hookgateSite(addr, logBlock string) string {
	return addr + " {\n" + logBlock + "\n\troute /webhooks/* {\n\t\thookgate\n\t\trespond 202\n\t}\n}\n"
}

func leaksOf(t *testing.T, a *App) []accessLogLeak {
	t.Helper()
	leaks, err := a.accessLogLeaks()
	if err != nil {
		t.Fatal(err)
	}
	return leaks
}

// What the check finds, config by config: only a log that a hookgate
// server writes to and that would write a credential is named, with
// exactly the credentials it would write.
func TestAccessLogLeaks(t *testing.T) {
	readme := readmeFilters(t)
	type want struct{ server, log, names string }
	for _, tc := range []struct {
		name   string
		global string
		sites  string
		want   []want
	}{
		{"no access log", "", hookgateSite(":18080", ""), nil},
		{"bare log: Caddy's default log, unfiltered", "", hookgateSite(":18080", "\tlog"),
			[]want{{"srv0", "default", "query parameter token, header X-Gitlab-Token"}}},
		{"README filters", "", hookgateSite(":18080", readme), nil},
		{"only the header filtered", "", hookgateSite(":18080", `
	log {
		format filter {
			fields {
				request>headers>X-Gitlab-Token hash
			}
		}
	}`), []want{{"srv0", "log0", "query parameter token"}}},
		{"only the query filtered, header name in the wrong case", "", hookgateSite(":18080", `
	log {
		format filter {
			fields {
				request>uri query {
					replace token REDACTED
				}
				request>headers>x-gitlab-token delete
			}
		}
	}`), []want{{"srv0", "log0", "header X-Gitlab-Token"}}},
		{"log discarded", "", hookgateSite(":18080", "\tlog {\n\t\toutput discard\n\t}"), nil},
		{"a server without hookgate", "", ":18080 {\n\tlog\n\trespond 200\n}\n", nil},
		{"the filtered site's host: other hosts' default log is no hookgate log", "",
			hookgateSite("hooks.example.com:18080", readme), nil},
		{"a host's unfiltered log beside a filtered one", "",
			hookgateSite("hooks.example.com:18080", readme) + hookgateSite("other.example.com:18080", "\tlog {\n\t\tformat json\n\t}"),
			[]want{{"srv0", "log1", "query parameter token, header X-Gitlab-Token"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := provisionCaddyfile(t, accessLogCaddyfile(tc.global, tc.sites))
			var got []want
			for _, l := range leaksOf(t, a) {
				got = append(got, want{l.server, l.log, strings.Join(l.names(), ", ")})
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("leaks %v, want %v", got, tc.want)
			}
		})
	}
}

// Authorization is redacted by Caddy unless the server's log_credentials
// is on; then the README's filters miss it and the warning names it.
func TestAccessLogLeaksAuthorizationWithLogCredentials(t *testing.T) {
	const bearer = `{
	admin off
	auto_https off
	persist_config off
	%s
	hookgate {
		integration sn {
			vendor servicenow
			secret {env.HOOKGATE_TEST_UNSET}
		}
	}
}
`
	site := hookgateSite(":18080", readmeFilters(t))
	if got := leaksOf(t, provisionCaddyfile(t, strings.Replace(bearer, "%s", "", 1)+site)); len(got) != 0 {
		t.Fatalf("log_credentials off: %v", got)
	}
	got := leaksOf(t, provisionCaddyfile(t, strings.Replace(bearer, "%s", "servers {\n\t\tlog_credentials\n\t}", 1)+site))
	if len(got) != 1 || !slices.Equal(got[0].names(), []string{"header Authorization"}) || !got[0].logCredentials {
		t.Fatalf("log_credentials on: %+v", got)
	}
	if c := got[0].caddyfile(); c != "request>headers>Authorization delete" {
		t.Errorf("lines %q", c)
	}
}

// With Vault, any integration may appear at any time: every credential
// header and the token query parameter the registered vendors use are
// checked (Authorization, redacted by Caddy, does not leak).
func TestAccessLogLeaksWithVaultCoverEveryVendor(t *testing.T) {
	global := `	hookgate {
		vault {
			address http://127.0.0.1:1
			token   hookgate-test-token
		}
	}
`
	cf := "{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n" + global + "}\n" + hookgateSite(":18080", "\tlog")
	got := leaksOf(t, provisionCaddyfile(t, cf))
	want := []string{"query parameter token", "header X-Api-Token", "header X-Bamboo-Token", "header X-Gitlab-Token"}
	if len(got) != 1 || !slices.Equal(got[0].names(), want) {
		t.Fatalf("leaks %+v, want %v", got, want)
	}
	for _, h := range verifiers.CredentialHeaders() {
		if h != "Authorization" && !slices.Contains(got[0].names(), "header "+h) {
			t.Errorf("credential header %s not checked", h)
		}
	}
	// The README's filters cover every vendor hookgate has.
	cf = "{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n" + global + "}\n" + hookgateSite(":18080", readmeFilters(t))
	if got := leaksOf(t, provisionCaddyfile(t, cf)); len(got) != 0 {
		t.Fatalf("README filters with vault: %+v", got)
	}
}

// The lines the warning gives are the ones that work: the whole format
// filter where the log has none (wrapping the log's own format), only
// the fields where it has one, an existing query filter's actions kept;
// and the config they make is clean.
func TestAccessLogLeakLines(t *testing.T) {
	for _, tc := range []struct {
		name, log, wantLines string
	}{
		{"console log", "\tlog {\n\t\tformat console\n\t}", "format filter {\n\twrap console\n\tfields {\n\t\trequest>uri query {\n\t\t\tdelete token\n\t\t}\n\t\trequest>headers>X-Gitlab-Token delete\n\t}\n}"},
		{"existing query filter", `
	log {
		format filter {
			fields {
				request>uri query {
					hash user
					replace sig "x y"
				}
			}
		}
	}`, "request>uri query {\n\thash user\n\treplace sig \"x y\"\n\tdelete token\n}\nrequest>headers>X-Gitlab-Token delete"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := leaksOf(t, provisionCaddyfile(t, accessLogCaddyfile("", hookgateSite(":18080", tc.log))))
			if len(got) != 1 {
				t.Fatalf("leaks %+v", got)
			}
			lines := got[0].caddyfile()
			if lines != tc.wantLines {
				t.Fatalf("lines\n%s\nwant\n%s", lines, tc.wantLines)
			}
			// Put the lines where they go: the log is then clean.
			fixed := tc.log
			if strings.HasPrefix(lines, "format") {
				fixed = strings.Replace(fixed, "format console", lines, 1)
			} else {
				fixed = strings.Replace(fixed, "fields {", "fields {\n"+lines, 1)
				fixed = strings.Replace(fixed, "\t\t\t\t\thash user\n\t\t\t\t\treplace sig \"x y\"\n", "", 1)
				fixed = strings.Replace(fixed, "\t\t\t\trequest>uri query {\n\t\t\t\t}\n", "", 1)
			}
			if again := leaksOf(t, provisionCaddyfile(t, accessLogCaddyfile("", hookgateSite(":18080", fixed)))); len(again) != 0 {
				t.Fatalf("after adding the lines:\n%s\nstill %+v", fixed, again)
			}
		})
	}
}

// Start logs one warning per leaking log, naming the server, the log, the
// credentials and the lines; none for a clean config.
func TestWarnAccessLogsLogsTheLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  string
		want int
	}{{"unfiltered", "\tlog", 1}, {"README filters", readmeFilters(t), 0}} {
		a := provisionCaddyfile(t, accessLogCaddyfile("", hookgateSite(":18080", tc.log)))
		core, logs := observer.New(zapcore.WarnLevel)
		a.logger = zap.New(core)
		a.warnAccessLogs()
		var found []observer.LoggedEntry
		for _, e := range logs.All() {
			if strings.Contains(e.Message, "access log") {
				found = append(found, e)
			}
		}
		if len(found) != tc.want {
			t.Fatalf("%s: %d warnings %v, want %d", tc.name, len(found), found, tc.want)
		}
		if tc.want == 0 {
			continue
		}
		f := found[0].ContextMap()
		if f["server"] != "srv0" || f["log"] != "default" || !strings.Contains(f["caddyfile"].(string), "request>headers>X-Gitlab-Token delete") ||
			!strings.Contains(f["caddyfile"].(string), "\t\t\tdelete token") {
			t.Fatalf("%s: fields %v", tc.name, f)
		}
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f["json"]); err != nil {
			t.Fatal(err)
		}
		js := buf.String()
		if !strings.Contains(string(js), `"request>headers>X-Gitlab-Token":{"filter":"delete"}`) ||
			!strings.Contains(string(js), `"request>uri":{"actions":[{"type":"delete","parameter":"token"}],"filter":"query"}`) {
			t.Fatalf("%s: json %s", tc.name, js)
		}
	}
}

// fieldOf reads what the check needs from this Caddy version's loaded
// config; a name or type that is not there is false, never a panic.
func TestFieldOfReadsCaddysLayout(t *testing.T) {
	a := provisionCaddyfile(t, accessLogCaddyfile("", hookgateSite(":18080", "\tlog")))
	cfg, ok := fieldOf[*caddy.Config](&a.ctx, "cfg")
	if !ok || cfg == nil || cfg.Logging == nil || cfg.Logging.Logs["default"] == nil {
		t.Fatalf("caddy.Context.cfg not read: %v %v", ok, cfg)
	}
	if _, _, err := logEncoder(cfg.Logging.Logs["default"]); err != nil {
		t.Fatalf("a log's encoder and writer: %v", err)
	}
	lax := provisionCaddyfile(t, accessLogCaddyfile("\tservers {\n\t\ttrusted_proxies static 10.0.0.0/8\n\t}\n", hookgateSite(":18080", "")))
	if got := lax.laxProxyServers(); len(got) != 1 {
		t.Fatalf("caddyhttp.Server.trustedProxies not read: lax servers %v", got)
	}
	if _, ok := fieldOf[*caddy.Config](&a.ctx, "nope"); ok {
		t.Error("a missing field was read")
	}
	if _, ok := fieldOf[string](&a.ctx, "cfg"); ok {
		t.Error("a field of another type was read")
	}
	if _, ok := fieldOf[*caddy.Config](a.ctx, "cfg"); ok {
		t.Error("a non-pointer was read")
	}
}

// The shipped Caddyfile.example, whose filters the README copies, draws
// no warning: its filters cover every credential of every registered
// vendor (it reads records from Vault). A vendor that adds a credential
// header fails this until the example and the README filter it too.
func TestCaddyfileExampleAccessLogIsClean(t *testing.T) {
	raw, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": "hookgate-test-token",
		"DEMO_GH_SECRET": "demo", "REDIS_PASSWORD": "", "FINDINGS_TOKEN": "findings", "CI_WEBHOOK_ALLOW_UNSIGNED": ""} {
		t.Setenv(k, v)
	}
	a := provisionCaddyfile(t, string(raw))
	if len(a.logged) < 4 {
		t.Fatalf("credentials checked: %v", a.logged)
	}
	if got := leaksOf(t, a); len(got) != 0 {
		t.Fatalf("Caddyfile.example's access log: %+v", got)
	}
}
