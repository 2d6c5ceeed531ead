package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/fakevault"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

// vaultTarget is one server the conformance probes run against, with the
// tokens they use by name.
type vaultTarget struct {
	addr             string
	tokens           map[string]string
	roleID, secretID string
}

// vaultProbe is one raw request. Its body may name {{role}} and {{secret}},
// the target's AppRole ids.
type vaultProbe struct {
	name, method, path, token, body string
}

// send runs p against tg and returns the status, the Content-Type and the
// body normalised for comparison.
func (tg vaultTarget) send(t *testing.T, p vaultProbe) (int, string, string) {
	t.Helper()
	body := strings.NewReplacer("{{role}}", tg.roleID, "{{secret}}", tg.secretID).Replace(p.body)
	req, err := http.NewRequest(p.method, tg.addr+"/v1/"+p.path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if p.token != "" {
		req.Header.Set("X-Vault-Token", tg.tokens[p.token])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ctype := resp.Header.Get("Content-Type")
	if len(raw) == 0 {
		return resp.StatusCode, "", ""
	}
	return resp.StatusCode, ctype, normaliseVaultBody(t, raw)
}

// normaliseVaultBody re-encodes a JSON answer with the values that differ
// between any two servers (ids, tokens, times) replaced by placeholders.
func normaliseVaultBody(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "not JSON: " + string(raw)
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, val := range x {
				switch k {
				case "request_id", "client_token", "accessor", "entity_id", "created_time", "deletion_time":
					if s, ok := val.(string); ok && s != "" {
						x[k] = "<" + k + ">"
					}
				default:
					walk(val)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	out, _ := json.Marshal(v) // map keys sorted
	return string(out)
}

// TestFakevaultMatchesVault sends the requests secretstore makes (and the
// errors around them) to a real Vault dev server and to internal/fakevault
// set up alike, and wants the same status, Content-Type and body from both,
// up to ids, tokens and times. It keeps the fake honest as Vault changes.
func TestFakevaultMatchesVault(t *testing.T) {
	ctx := context.Background()
	seed := func(put func(string, map[string]any)) {
		put("hookgate/integrations/a", map[string]any{"vendor": "github"})
		put("hookgate/integrations/a", map[string]any{"vendor": "jira", "done_states": []any{6, 7}, "active": true})
		put("hookgate/integrations/sub/c", map[string]any{"vendor": "gitlab"})
		put("hookgate/integrations/gone", map[string]any{"vendor": "gitlab"})
		put("elsewhere/y", map[string]any{"vendor": "bamboo"})
	}

	rv := testvault.Start(t)
	root := rv.Client(t)
	seed(func(p string, d map[string]any) { rv.Put(t, p, d) })
	if err := root.KVv2("secret").Delete(ctx, "hookgate/integrations/gone"); err != nil {
		t.Fatal(err)
	}
	if err := root.Sys().PutPolicyWithContext(ctx, "read-only-hookgate", `path "secret/data/hookgate/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	rt := vaultTarget{addr: rv.Addr, tokens: map[string]string{
		"root":    rv.RootToken,
		"ro":      createVaultToken(t, root, "read-only-hookgate"),
		"revoked": createVaultToken(t, root, "root"),
		"bad":     "hvs.never-issued-by-anyone",
	}}
	rt.roleID, rt.secretID = rv.EnableAppRole(t, "hookgate")
	revokeVaultToken(t, root, rt.tokens["revoked"])

	fake := fakevault.Start(t)
	seed(func(p string, d map[string]any) { fake.Put(t, p, d) })
	fake.Delete(t, "hookgate/integrations/gone")
	ft := vaultTarget{addr: fake.Addr, tokens: map[string]string{
		"root":    fake.RootToken,
		"ro":      fake.CreateReadOnlyToken(t),
		"revoked": fake.CreateToken(t),
		"bad":     "hvs.never-issued-by-anyone",
	}}
	ft.roleID, ft.secretID = fake.EnableAppRole(t, "hookgate")
	fake.Revoke(t, ft.tokens["revoked"])

	for _, tg := range []*vaultTarget{&rt, &ft} {
		login := `{"role_id":"` + tg.roleID + `","secret_id":"` + tg.secretID + `"}`
		resp, err := http.Post(tg.addr+"/v1/auth/approle/login", "application/json", strings.NewReader(login))
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			Auth struct {
				ClientToken string `json:"client_token"`
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if ans.Auth.ClientToken == "" {
			t.Fatalf("approle login on %s: %d", tg.addr, resp.StatusCode)
		}
		tg.tokens["approle"] = ans.Auth.ClientToken
	}

	const rec = "secret/data/hookgate/integrations/"
	const dir = "secret/metadata/hookgate/integrations"
	probes := []vaultProbe{
		{"read", "GET", rec + "a", "root", ""},
		{"read missing", "GET", rec + "missing", "root", ""},
		{"read soft-deleted", "GET", rec + "gone", "root", ""},
		{"read folder", "GET", rec + "sub/c", "root", ""},
		{"write", "PUT", rec + "a", "root", `{"data":{"vendor":"gitlab","n":1}}`},
		{"write POST", "POST", rec + "a", "root", `{"data":{"vendor":"gitlab","n":[6,7]}}`},
		{"read after writes", "GET", rec + "a", "root", ""},
		{"write cas mismatch", "PUT", rec + "a", "root", `{"data":{},"options":{"cas":1}}`},
		{"write cas match", "PUT", rec + "a", "root", `{"data":{},"options":{"cas":4}}`},
		{"write cas 0 new", "PUT", rec + "cas-new", "root", `{"data":{"k":"v"},"options":{"cas":0}}`},
		{"write no data", "PUT", rec + "a", "root", `{"nodata":1}`},
		{"write null data", "PUT", rec + "a", "root", `{"data":null}`},
		{"write string data", "PUT", rec + "a", "root", `{"data":"str"}`},
		{"write not JSON", "PUT", rec + "a", "root", `not json`},
		{"write after soft delete", "PUT", rec + "gone", "root", `{"data":{"vendor":"jira"}}`},
		{"read after rewrite", "GET", rec + "gone", "root", ""},
		{"list GET", "GET", dir + "?list=true", "root", ""},
		{"list LIST", "LIST", dir, "root", ""},
		{"list trailing slash", "LIST", dir + "/", "root", ""},
		{"list sub-folder", "LIST", dir + "/sub", "root", ""},
		{"list empty", "LIST", "secret/metadata/hookgate/none", "root", ""},
		{"list mount root", "LIST", "secret/metadata", "root", ""},
		{"no token", "GET", rec + "a", "", ""},
		{"unknown token", "GET", rec + "a", "bad", ""},
		{"revoked token", "GET", rec + "a", "revoked", ""},
		{"unknown token lists", "LIST", dir, "bad", ""},
		{"read-only reads", "GET", rec + "a", "ro", ""},
		{"read-only reads missing", "GET", rec + "missing", "ro", ""},
		{"read-only lists", "LIST", dir, "ro", ""},
		{"read-only writes", "PUT", rec + "a", "ro", `{"data":{}}`},
		{"read-only reads elsewhere", "GET", "secret/data/elsewhere/y", "ro", ""},
		{"approle reads", "GET", rec + "a", "approle", ""},
		{"approle writes", "PUT", rec + "w", "approle", `{"data":{"vendor":"gitlab"}}`},
		{"approle lists", "LIST", dir, "approle", ""},
		{"approle reads elsewhere", "GET", "secret/data/elsewhere/y", "approle", ""},
		{"login wrong secret", "POST", "auth/approle/login", "", `{"role_id":"{{role}}","secret_id":"0f0e0d0c-0000-0000-0000-000000000000"}`},
		{"login wrong role", "POST", "auth/approle/login", "", `{"role_id":"0f0e0d0c-0000-0000-0000-000000000000","secret_id":"{{secret}}"}`},
		{"login no secret", "POST", "auth/approle/login", "", `{"role_id":"{{role}}"}`},
		{"login no role", "POST", "auth/approle/login", "", `{"secret_id":"{{secret}}"}`},
		{"login", "PUT", "auth/approle/login", "", `{"role_id":"{{role}}","secret_id":"{{secret}}"}`},
		{"delete", "DELETE", rec + "w", "root", ""},
		{"read deleted", "GET", rec + "w", "root", ""},
		{"list keeps deleted", "LIST", dir, "root", ""},
	}
	for _, p := range probes {
		rs, rc, rb := rt.send(t, p)
		fs, fc, fb := ft.send(t, p)
		if rs != fs || rc != fc || rb != fb {
			t.Errorf("%s (%s /v1/%s):\n  vault:     %d %s %s\n  fakevault: %d %s %s", p.name, p.method, p.path, rs, rc, rb, fs, fc, fb)
		}
	}
}
