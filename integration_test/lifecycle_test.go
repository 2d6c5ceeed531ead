package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

// The operator lifecycle end to end: a real Vault, a real Redis, real
// Caddy processes driven through their admin endpoint, and local HTTP
// servers standing in for vendor APIs (no vendor SaaS is reachable from
// the tests).

const staticSecret = "static-secret-4c1d9e"

// lifecycleCaddy is one Caddy instance of the lifecycle tests: records in
// Vault trusted for an hour (so only invalidation explains a change being
// seen sooner), state in Redis, receivers as a pure gate.
type lifecycleCaddy struct {
	caddy *testcaddy.Instance
	base  string // receiver base URL, also the public_url
	admin string // host:port
}

func startLifecycle(t *testing.T, vault *testvault.Server, redisAddr, prefix string) *lifecycleCaddy {
	t.Helper()
	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	debug
	hookgate {
		max_age off # the fixtures are of many dates; max_age has its own tests (replay_test.go)
		vault {
			address   %s
			token     {env.VAULT_TOKEN}
			cache_ttl 1h
			stale_ttl 1h
			timeout   2s
		}
		redis {
			address    %s
			key_prefix %s
		}
		public_url %s
		integration static-gh {
			vendor github
			secret {env.STATIC_SECRET}
		}
	}
}

:%d {
	route /webhooks/* {
		hookgate
		respond 202
	}
}
`, admin, vault.Addr, redisAddr, prefix, base, port)
	in := testcaddy.Start(t, admin, cfg, []string{"VAULT_TOKEN=" + vault.RootToken, "STATIC_SECRET=" + staticSecret}, fmt.Sprintf("127.0.0.1:%d", port))
	return &lifecycleCaddy{caddy: in, base: base, admin: admin}
}

// adminResult is one admin answer.
type adminResult struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func adminCall(t *testing.T, admin, method, path string, in any) adminResult {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+admin+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	res := adminResult{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &res.body)
	return res
}

func (c *lifecycleCaddy) call(t *testing.T, method, path string, in any, want int) adminResult {
	t.Helper()
	res := adminCall(t, c.admin, method, path, in)
	if res.status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, res.status, want, res.raw)
	}
	return res
}

var deliverySeq int

// postGitHub posts a signed GitHub push for integration id, with a fresh
// delivery id, and returns the status.
func (c *lifecycleCaddy) postGitHub(t *testing.T, id, secret string) int {
	t.Helper()
	deliverySeq++
	delivery := fmt.Sprintf("lifecycle-%d-%d", time.Now().UnixNano(), deliverySeq)
	body := ownBody(readPayload(t, "github/push.json"), delivery)
	extra := map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery}
	resp, _ := do(t, signed(t, c.base+integrations.GitHub.ReceiverPath(id), integrations.GitHub, integrations.SchemeHMAC, secret, body, extra))
	return resp.StatusCode
}

// withinSecond asserts cond holds within one second of since.
func withinSecond(t *testing.T, since time.Time, what string, cond func() bool) {
	t.Helper()
	deadline := since.Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within a second: %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// vaultSecret reads the current secret straight from Vault.
func vaultSecret(t *testing.T, vault *testvault.Server, id string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := vault.Client(t).KVv2("secret").Get(ctx, "hookgate/integrations/"+id)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := s.Data["secret"].(string)
	return secret, s.VersionMetadata.Version
}

// adminAuditEntries reads the admin audit stream from Redis.
func adminAuditEntries(t *testing.T, redisAddr, prefix string) []map[string]any {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer c.Close()
	msgs, err := c.XRange(context.Background(), prefix+"{hg}:admin:audit", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = m.Values
	}
	return out
}

func assertNoSecretIn(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains a secret value (%d chars)", what, len(s))
		}
	}
}

// TestRotationGraceRevocationAndInvalidation: after regenerate the old
// secret is valid during the grace and refused after it; grace 0s refuses
// it at once, on the instance that rotated and, through Redis
// invalidation, on a second instance within a second although its cache
// trusts records for an hour.
func TestRotationGraceRevocationAndInvalidation(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	const id = "rot-gh"
	s0 := "rotation-secret-0-9b2f"
	putRecord(t, vault, id, map[string]any{"vendor": "github", "secret": s0})
	a := startLifecycle(t, vault, redisAddr, prefix)
	b := startLifecycle(t, vault, redisAddr, prefix)

	for _, c := range []*lifecycleCaddy{a, b} { // both caches now hold s0 for an hour
		if st := c.postGitHub(t, id, s0); st != http.StatusAccepted {
			t.Fatalf("s0 before rotation: %d", st)
		}
	}

	// Rotate with a grace: the new secret works everywhere at once, the
	// old one until previous_valid_until.
	res := a.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/regenerate", map[string]string{"grace": "3s"}, http.StatusOK)
	rotated := time.Now()
	s1, _ := res.body["secret"].(string)
	untilText, _ := res.body["previous_valid_until"].(string)
	until, err := time.Parse(time.RFC3339, untilText)
	if len(s1) != 64 || err != nil || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("regenerate answered %d chars of secret, previous_valid_until %q, Cache-Control %q", len(s1), untilText, res.header.Get("Cache-Control"))
	}
	if cur, _ := vaultSecret(t, vault, id); cur != s1 {
		t.Fatal("Vault does not hold the regenerated secret")
	}
	for _, c := range []*lifecycleCaddy{a, b} {
		if st := c.postGitHub(t, id, s0); st != http.StatusAccepted {
			t.Fatalf("old secret within the grace: %d", st)
		}
	}
	if st := a.postGitHub(t, id, s1); st != http.StatusAccepted {
		t.Fatalf("new secret on the rotating instance: %d", st)
	}
	withinSecond(t, rotated, "the second instance accepts the new secret", func() bool { return b.postGitHub(t, id, s1) == http.StatusAccepted })

	time.Sleep(time.Until(until) + 200*time.Millisecond)
	for _, c := range []*lifecycleCaddy{a, b} {
		if st := c.postGitHub(t, id, s0); st != http.StatusUnauthorized {
			t.Fatalf("old secret after the grace: %d, want 401", st)
		}
		if st := c.postGitHub(t, id, s1); st != http.StatusAccepted {
			t.Fatalf("current secret after the grace: %d", st)
		}
	}

	// Revoke: grace 0s. The rotating instance refuses s1 at once, the
	// other one within a second.
	res = b.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/regenerate", map[string]string{"grace": "0s"}, http.StatusOK)
	revoked := time.Now()
	s2, _ := res.body["secret"].(string)
	if res.body["previous_valid_until"] != nil || s2 == "" || s2 == s1 {
		t.Fatalf("grace 0s answered %s", strings.ReplaceAll(res.raw, s2, "<secret>"))
	}
	if st := b.postGitHub(t, id, s1); st != http.StatusUnauthorized {
		t.Fatalf("revoked secret on the rotating instance: %d, want 401", st)
	}
	withinSecond(t, revoked, "the second instance refuses the revoked secret", func() bool { return a.postGitHub(t, id, s1) == http.StatusUnauthorized })
	for _, c := range []*lifecycleCaddy{a, b} {
		if st := c.postGitHub(t, id, s2); st != http.StatusAccepted {
			t.Fatalf("new secret after revocation: %d", st)
		}
	}

	entries := adminAuditEntries(t, redisAddr, prefix)
	regenerates := 0
	for _, e := range entries {
		if e["action"] == "regenerate" && e["integration"] == id && strings.HasPrefix(fmt.Sprint(e["who"]), "127.0.0.1:") {
			regenerates++
		}
		raw, _ := json.Marshal(e)
		assertNoSecretIn(t, "the admin audit stream", string(raw), s0, s1, s2)
	}
	if regenerates != 2 {
		t.Fatalf("admin audit has %d regenerate entries, want 2: %v", regenerates, entries)
	}
	for _, c := range []*lifecycleCaddy{a, b} {
		log := c.caddy.Log()
		if !strings.Contains(log, `"action":"regenerate"`) {
			t.Error("the regenerate is not in Caddy's log")
		}
		assertNoSecretIn(t, "Caddy's log", log, s0, s1, s2)
	}
}

// TestRevealViewAndSettings: reveal answers Vault's current value and
// leaves no trace of it in logs; the view never shows a secret or API
// token; PUT changes settings and leaves the secret; static integrations
// belong to the config; regenerate uses each vendor's secret form.
func TestRevealViewAndSettings(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	const id = "view-gh"
	secret, token := "view-secret-51e0c7", "api-token-6a2d93"
	putRecord(t, vault, id, map[string]any{"vendor": "github", "secret": secret, "api_token": token,
		"api_url": "http://127.0.0.1:1", "target": "acme/payments-api"})
	putRecord(t, vault, "bamboo-1", map[string]any{"vendor": "bamboo", "secret": "bamboo-secret-0"})
	c := startLifecycle(t, vault, redisAddr, prefix)
	path := "/hookgate/integrations/" + id

	list := c.call(t, http.MethodGet, "/hookgate/integrations", nil, http.StatusOK)
	ids := fmt.Sprint(list.body["integrations"])
	for _, want := range []string{id, "bamboo-1", "static-gh"} {
		if !strings.Contains(ids, want) {
			t.Fatalf("list %s lacks %s", list.raw, want)
		}
	}

	view := c.call(t, http.MethodGet, path, nil, http.StatusOK)
	assertNoSecretIn(t, "the view", view.raw, secret, token)
	if strings.Contains(view.raw, `"secret"`) || strings.Contains(view.raw, `"api_token"`) {
		t.Fatalf("view names a secret field: %s", view.raw)
	}
	_, version := vaultSecret(t, vault, id)
	if view.body["has_secret"] != true || view.body["has_api_token"] != true || view.body["secret_version"] != float64(version) ||
		view.body["receiver_path"] != "/webhooks/ci/github/"+id || view.body["receiver_url"] != c.base+"/webhooks/ci/github/"+id ||
		view.body["target"] != "acme/payments-api" {
		t.Fatalf("view %s", view.raw)
	}

	// Reveal reads Vault, not the cache: change the secret behind
	// hookgate's back (the cache trusts its copy for an hour).
	if st := c.postGitHub(t, id, secret); st != http.StatusAccepted {
		t.Fatalf("delivery before the reveal: %d", st)
	}
	changed := "changed-in-vault-8f3e21"
	putRecord(t, vault, id, map[string]any{"vendor": "github", "secret": changed, "api_token": token, "api_url": "http://127.0.0.1:1", "target": "acme/payments-api"})
	rev := c.call(t, http.MethodPost, path+"/webhook/reveal", nil, http.StatusOK)
	if cur, _ := vaultSecret(t, vault, id); rev.body["secret"] != cur || cur != changed {
		t.Fatal("reveal did not answer Vault's current secret")
	}
	if rev.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal Cache-Control %q", rev.header.Get("Cache-Control"))
	}

	// PUT changes settings, never the secret.
	put := c.call(t, http.MethodPut, path, map[string]any{"branches": []string{"main", "release/*"}, "scans": []string{"sast"}, "target": "acme/other"}, http.StatusOK)
	cur, newVersion := vaultSecret(t, vault, id)
	if cur != changed || newVersion <= version {
		t.Fatalf("PUT changed the secret or wrote no version (%d → %d)", version, newVersion)
	}
	if put.body["target"] != "acme/other" || fmt.Sprint(put.body["branches"]) != "[main release/*]" || put.body["has_secret"] != true {
		t.Fatalf("PUT answered %s", put.raw)
	}
	view = c.call(t, http.MethodGet, path, nil, http.StatusOK)
	if view.body["target"] != "acme/other" || view.body["has_api_token"] != true {
		t.Fatalf("view after PUT %s", view.raw)
	}
	for _, bad := range []map[string]any{{"secret": "x"}, {"previous_secret": "x"}, {"vendor": "nosuch"}, {"scans": []string{"dast"}}, {"branchs": "main"}} {
		c.call(t, http.MethodPut, path, bad, http.StatusBadRequest)
	}

	// Created by PUT, then given a secret in the vendor's form.
	created := c.call(t, http.MethodPut, "/hookgate/integrations/gl-sign", map[string]any{"vendor": "gitlab", "scheme": "signing"}, http.StatusCreated)
	if created.body["has_secret"] != false {
		t.Fatalf("created %s", created.raw)
	}
	forms := map[string]*regexp.Regexp{
		"gl-sign":  regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`),
		"bamboo-1": regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
		id:         regexp.MustCompile(`^[0-9a-f]{64}$`),
	}
	var generated []string
	for rid, form := range forms {
		res := c.call(t, http.MethodPost, "/hookgate/integrations/"+rid+"/webhook/regenerate", nil, http.StatusOK)
		s, _ := res.body["secret"].(string)
		generated = append(generated, s)
		if !form.MatchString(s) {
			t.Errorf("%s: regenerated secret not in the vendor's form (%d chars)", rid, len(s))
		}
		if got, _ := vaultSecret(t, vault, rid); got != s {
			t.Errorf("%s: Vault does not hold the regenerated secret", rid)
		}
	}

	// Static integrations belong to the config.
	for _, r := range []struct{ method, path string }{
		{http.MethodPut, "/hookgate/integrations/static-gh"},
		{http.MethodPost, "/hookgate/integrations/static-gh/webhook/regenerate"},
		{http.MethodPost, "/hookgate/integrations/static-gh/webhook/reveal"},
	} {
		res := c.call(t, r.method, r.path, map[string]any{}, http.StatusConflict)
		if res.body["error"] == nil {
			t.Fatalf("%s %s: %s", r.method, r.path, res.raw)
		}
	}
	static := c.call(t, http.MethodGet, "/hookgate/integrations/static-gh", nil, http.StatusOK)
	assertNoSecretIn(t, "the static view", static.raw, staticSecret)
	if static.body["static"] != true || static.body["has_secret"] != true {
		t.Fatalf("static view %s", static.raw)
	}
	if res := c.call(t, http.MethodGet, "/hookgate/integrations/nosuch", nil, http.StatusNotFound); res.body["error"] == nil {
		t.Fatalf("missing: %s", res.raw)
	}
	c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/nosuch", nil, http.StatusNotFound)
	c.call(t, http.MethodGet, path+"/webhook/reveal", nil, http.StatusMethodNotAllowed)
	// The audit route under the same prefix still answers.
	c.call(t, http.MethodGet, path+"/events", nil, http.StatusOK)

	reveals := 0
	for _, e := range adminAuditEntries(t, redisAddr, prefix) {
		if e["action"] == "reveal" && e["integration"] == id {
			reveals++
		}
		raw, _ := json.Marshal(e)
		assertNoSecretIn(t, "the admin audit stream", string(raw), append(generated, secret, changed, token, staticSecret)...)
	}
	if reveals != 1 {
		t.Fatalf("%d reveal entries in the admin audit stream, want 1", reveals)
	}
	log := c.caddy.Log()
	if !strings.Contains(log, `"action":"reveal"`) || !strings.Contains(log, `"action":"update"`) {
		t.Error("reveal and update are not in Caddy's log")
	}
	assertNoSecretIn(t, "Caddy's log", log, append(generated, secret, changed, token, staticSecret)...)
}

// TestCaddyHookgateCommand: the `caddy hookgate` subcommands call the
// running instance's admin API (by --admin, and by CADDY_ADMIN).
func TestCaddyHookgateCommand(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	const id = "cli-gh"
	putRecord(t, vault, id, map[string]any{"vendor": "github", "secret": "cli-secret-3f9a0d"})
	c := startLifecycle(t, vault, redisAddr, prefix)
	run := func(env []string, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(testcaddy.Binary(t), append([]string{"hookgate"}, args...)...)
		cmd.Env = append(cmd.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("caddy hookgate %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("caddy hookgate %s printed no JSON: %v", args[0], err)
		}
		return v
	}
	list := run(nil, "list", "--admin", c.admin)
	if !strings.Contains(fmt.Sprint(list["integrations"]), id) {
		t.Fatalf("list: %v", list)
	}
	show := run(nil, "show", id, "--admin", c.admin)
	if show["has_secret"] != true || show["receiver_url"] != c.base+"/webhooks/ci/github/"+id {
		t.Fatalf("show: %v", show)
	}
	if _, ok := show["secret"]; ok {
		t.Fatal("show printed a secret")
	}
	reveal := run([]string{"CADDY_ADMIN=" + c.admin}, "reveal", id)
	if cur, _ := vaultSecret(t, vault, id); reveal["secret"] != cur {
		t.Fatal("reveal did not print Vault's current secret")
	}
	rotated := run(nil, "rotate", id, "--grace", "0s", "--admin", c.admin)
	s1, _ := rotated["secret"].(string)
	if cur, _ := vaultSecret(t, vault, id); s1 == "" || cur != s1 {
		t.Fatal("rotate did not print the new secret")
	}
	// send-test signs with the secret from the named variable.
	sent := run([]string{"HOOKGATE_TEST_SECRET=" + s1}, "send-test", id, "--secret-env", "HOOKGATE_TEST_SECRET", "--url", c.base, "--admin", c.admin)
	if sent["status"] != float64(http.StatusAccepted) {
		t.Fatalf("send-test: %v", sent)
	}
	cmd := exec.Command(testcaddy.Binary(t), "hookgate", "send-test", id, "--secret-env", "HOOKGATE_TEST_SECRET", "--admin", c.admin)
	cmd.Env = append(cmd.Environ(), "HOOKGATE_TEST_SECRET=not-the-secret")
	if out, err := cmd.Output(); err == nil || !strings.Contains(string(out), `"status": 401`) {
		t.Fatalf("send-test with a wrong secret: err %v, output %s", err, out)
	}
}
