package fakevault

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// client is a Vault API client for s using token ("" for none).
func client(t *testing.T, s *Server, token string) *api.Client {
	t.Helper()
	conf := api.DefaultConfig()
	conf.Address = s.Addr
	conf.AgentAddress = ""
	conf.MaxRetries = 0
	conf.Timeout = 5 * time.Second
	c, err := api.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	c.ClearToken()
	if token != "" {
		c.SetToken(token)
	}
	return c
}

// status returns the HTTP status of a Vault error, 0 if err is not one.
func status(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func TestKVThroughTheClient(t *testing.T) {
	s := Start(t)
	kv := client(t, s, s.RootToken).KVv2(Mount)
	ctx := context.Background()

	s.Put(t, "hookgate/integrations/x", map[string]any{"vendor": "github"})
	s.Put(t, "hookgate/integrations/x", map[string]any{"vendor": "jira", "done_states": []any{6, 7}})
	got, err := kv.Get(ctx, "hookgate/integrations/x")
	if err != nil {
		t.Fatal(err)
	}
	states, _ := got.Data["done_states"].([]any)
	if got.Data["vendor"] != "jira" || len(states) != 2 || states[0] != json.Number("6") {
		t.Fatalf("data %#v", got.Data)
	}
	if m := got.VersionMetadata; m == nil || m.Version != 2 || m.CreatedTime.IsZero() || !m.DeletionTime.IsZero() || m.Destroyed {
		t.Fatalf("metadata %+v", got.VersionMetadata)
	}

	w, err := kv.Put(ctx, "hookgate/integrations/x", map[string]any{"vendor": "gitlab"})
	if err != nil || w.VersionMetadata == nil || w.VersionMetadata.Version != 3 {
		t.Fatalf("put through the client: %+v, %v", w, err)
	}
	if _, err := kv.Put(ctx, "hookgate/integrations/x", map[string]any{}, api.WithCheckAndSet(1)); status(err) != 400 ||
		!strings.Contains(err.Error(), "check-and-set parameter did not match the current version") {
		t.Fatalf("cas mismatch: %v", err)
	}
	if w, err := kv.Put(ctx, "hookgate/integrations/new", map[string]any{}, api.WithCheckAndSet(0)); err != nil || w.VersionMetadata.Version != 1 {
		t.Fatalf("cas 0 on a new path: %v", err)
	}
	// Vault stores "data": null as a version without data.
	if w, err := kv.Put(ctx, "hookgate/integrations/null", nil); err != nil || w.VersionMetadata.Version != 1 {
		t.Fatalf("nil data: %v", err)
	}
	if got, err := kv.Get(ctx, "hookgate/integrations/null"); err != nil || got.Data != nil || got.VersionMetadata.Version != 1 {
		t.Fatalf("read of nil data: %+v, %v", got, err)
	}

	if _, err := kv.Get(ctx, "hookgate/integrations/missing"); !errors.Is(err, api.ErrSecretNotFound) {
		t.Fatalf("missing: %v", err)
	}
	// A soft-deleted version: 404 with its metadata, which the client
	// turns into a secret without data (as with Vault), not an error.
	s.Delete(t, "hookgate/integrations/x")
	got, err = kv.Get(ctx, "hookgate/integrations/x")
	if err != nil || got.Data != nil || got.VersionMetadata == nil || got.VersionMetadata.Version != 3 || got.VersionMetadata.DeletionTime.IsZero() {
		t.Fatalf("deleted: %+v, %v", got, err)
	}
	s.Put(t, "hookgate/integrations/x", map[string]any{"vendor": "bamboo"})
	if got, err := kv.Get(ctx, "hookgate/integrations/x"); err != nil || got.VersionMetadata.Version != 4 || got.Data["vendor"] != "bamboo" {
		t.Fatalf("written after delete: %+v, %v", got, err)
	}
	if err := kv.Delete(ctx, "hookgate/integrations/new"); err != nil {
		t.Fatalf("delete through the client: %v", err)
	}
	if got, err := kv.Get(ctx, "hookgate/integrations/new"); err != nil || got.Data != nil {
		t.Fatalf("deleted through the client: %+v, %v", got, err)
	}
}

func TestListThroughTheClient(t *testing.T) {
	s := Start(t)
	logical := client(t, s, s.RootToken).Logical()
	ctx := context.Background()
	for _, p := range []string{"hookgate/integrations/b", "hookgate/integrations/a", "hookgate/integrations/sub/c", "hookgate/integrations/sub/d/e", "hookgate/other"} {
		s.Put(t, p, map[string]any{"k": "v"})
	}
	s.Delete(t, "hookgate/integrations/b") // still listed, as in Vault

	keys := func(path string) []string {
		t.Helper()
		sec, err := logical.ListWithContext(ctx, path)
		if err != nil {
			t.Fatalf("list %s: %v", path, err)
		}
		if sec == nil {
			return nil
		}
		var out []string
		for _, k := range sec.Data["keys"].([]any) {
			out = append(out, k.(string))
		}
		return out
	}
	for path, want := range map[string][]string{
		"secret/metadata/hookgate/integrations":     {"a", "b", "sub/"},
		"secret/metadata/hookgate/integrations/":    {"a", "b", "sub/"},
		"secret/metadata/hookgate/integrations/sub": {"c", "d/"},
		"secret/metadata/hookgate":                  {"integrations/", "other"},
		"secret/metadata":                           {"hookgate/"},
		"secret/metadata/nothing/here":              nil, // 404: the client answers nil, nil
	} {
		if got := keys(path); !slices.Equal(got, want) {
			t.Errorf("list %s = %v, want %v", path, got, want)
		}
	}

	// The method LIST, as curl or other clients send it.
	req, _ := http.NewRequest("LIST", s.Addr+"/v1/secret/metadata/hookgate/integrations", nil)
	req.Header.Set("X-Vault-Token", s.RootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Data struct{ Keys []string } }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !slices.Equal(body.Data.Keys, []string{"a", "b", "sub/"}) {
		t.Fatalf("LIST: %d %v", resp.StatusCode, body.Data.Keys)
	}
}

func TestTokens(t *testing.T) {
	s := Start(t)
	s.Put(t, "hookgate/integrations/x", map[string]any{"vendor": "github"})
	s.Put(t, "elsewhere/y", map[string]any{"vendor": "github"})
	ctx := context.Background()
	read := func(token, path string) error {
		_, err := client(t, s, token).KVv2(Mount).Get(ctx, path)
		return err
	}
	list := func(token string) error {
		_, err := client(t, s, token).Logical().ListWithContext(ctx, "secret/metadata/hookgate/integrations")
		return err
	}
	write := func(token string) error {
		_, err := client(t, s, token).KVv2(Mount).Put(ctx, "hookgate/integrations/w", map[string]any{"a": "b"})
		return err
	}
	forbidden := func(what string, err error, msg string) {
		t.Helper()
		var re *api.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 403 || len(re.Errors) != 1 || re.Errors[0] != msg {
			t.Fatalf("%s: %v, want 403 %q", what, err, msg)
		}
	}

	forbidden("no token", read("", "hookgate/integrations/x"), msgNoToken)
	forbidden("unknown token", read("hvs.never-issued", "hookgate/integrations/x"), msgBadToken)

	tok := s.CreateToken(t)
	if err := read(tok, "elsewhere/y"); err != nil {
		t.Fatalf("created token: %v", err)
	}
	if err := list(tok); err != nil {
		t.Fatalf("created token lists: %v", err)
	}
	s.Revoke(t, tok)
	forbidden("revoked token", read(tok, "hookgate/integrations/x"), msgBadToken)
	if err := read(s.RootToken, "hookgate/integrations/x"); err != nil {
		t.Fatalf("root after another token's revocation: %v", err)
	}

	ro := s.CreateReadOnlyToken(t)
	if err := read(ro, "hookgate/integrations/x"); err != nil {
		t.Fatalf("read-only token reads: %v", err)
	}
	if err := read(ro, "hookgate/integrations/missing"); !errors.Is(err, api.ErrSecretNotFound) {
		t.Fatalf("read-only token reads a missing record: %v", err)
	}
	forbidden("read-only token lists", list(ro), msgDenied)
	forbidden("read-only token writes", write(ro), msgDenied)
	forbidden("read-only token reads elsewhere", read(ro, "elsewhere/y"), msgDenied)
}

func TestAppRole(t *testing.T) {
	s := Start(t)
	s.Put(t, "hookgate/integrations/x", map[string]any{"vendor": "github"})
	s.Put(t, "elsewhere/y", map[string]any{"vendor": "github"})
	ctx := context.Background()
	login := func(roleID, secretID string) (*api.Secret, error) {
		return client(t, s, "").Logical().WriteWithContext(ctx, "auth/approle/login", map[string]any{"role_id": roleID, "secret_id": secretID})
	}
	if _, err := login("r", "s"); status(err) != 403 {
		t.Fatalf("login before EnableAppRole: %v", err)
	}

	roleID, secretID := s.EnableAppRole(t, "hookgate")
	again, secondSecret := s.EnableAppRole(t, "hookgate")
	if again != roleID || secondSecret == secretID {
		t.Fatalf("role id %s then %s; secret ids equal: %v", roleID, again, secondSecret == secretID)
	}
	sec, err := login(roleID, secretID)
	if err != nil || sec.Auth == nil {
		t.Fatalf("login: %+v, %v", sec, err)
	}
	a := sec.Auth
	if a.ClientToken == "" || a.Accessor == "" || a.LeaseDuration != 3600 || !a.Renewable || !slices.Equal(a.Policies, []string{"default", "hookgate"}) {
		t.Fatalf("auth %+v", a)
	}
	if _, err := login(roleID, secondSecret); err != nil {
		t.Fatalf("second secret id: %v", err)
	}

	c := client(t, s, a.ClientToken)
	if _, err := c.KVv2(Mount).Get(ctx, "hookgate/integrations/x"); err != nil {
		t.Fatalf("approle token reads: %v", err)
	}
	if _, err := c.KVv2(Mount).Put(ctx, "hookgate/integrations/w", map[string]any{"a": "b"}); err != nil {
		t.Fatalf("approle token writes: %v", err)
	}
	if _, err := c.Logical().ListWithContext(ctx, "secret/metadata/hookgate/integrations"); err != nil {
		t.Fatalf("approle token lists: %v", err)
	}
	if _, err := c.KVv2(Mount).Get(ctx, "elsewhere/y"); status(err) != 403 {
		t.Fatalf("approle token reads outside hookgate/: %v", err)
	}
	s.Revoke(t, a.ClientToken)
	if _, err := c.KVv2(Mount).Get(ctx, "hookgate/integrations/x"); status(err) != 403 {
		t.Fatalf("revoked approle token: %v", err)
	}

	var re *api.ResponseError
	if _, err := login(roleID, "wrong"); !errors.As(err, &re) || re.StatusCode != 400 || !slices.Equal(re.Errors, []string{msgBadLogin}) {
		t.Fatalf("wrong secret id: %v", err)
	}
	if _, err := login("wrong", secretID); status(err) != 400 {
		t.Fatalf("wrong role id: %v", err)
	}
	if _, err := login(roleID, ""); status(err) != 400 {
		t.Fatalf("no secret id: %v", err)
	}
}

func TestStopRefusesConnections(t *testing.T) {
	s := Start(t)
	s.Put(t, "hookgate/integrations/x", map[string]any{"vendor": "github"})
	c := client(t, s, s.RootToken)
	ctx := context.Background()
	if _, err := c.KVv2(Mount).Get(ctx, "hookgate/integrations/x"); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Stop() // idempotent
	_, err := c.KVv2(Mount).Get(ctx, "hookgate/integrations/x")
	var ue *url.Error
	if !errors.As(err, &ue) || status(err) != 0 {
		t.Fatalf("after Stop: %v, want a transport error", err)
	}
	if conn, err := net.Dial("tcp", strings.TrimPrefix(s.Addr, "http://")); err == nil {
		conn.Close()
		t.Fatal("port still accepts connections after Stop")
	}
}

func TestUnsupportedAnswers501(t *testing.T) {
	s := Start(t)
	s.Put(t, "hookgate/integrations/x", map[string]any{"vendor": "github"})
	c := client(t, s, s.RootToken)
	ctx := context.Background()
	for name, err := range map[string]error{
		"sys/health":  func() error { _, err := c.Sys().HealthWithContext(ctx); return err }(),
		"metadata":    func() error { _, err := c.KVv2(Mount).GetMetadata(ctx, "hookgate/integrations/x"); return err }(),
		"version":     func() error { _, err := c.KVv2(Mount).GetVersion(ctx, "hookgate/integrations/x", 1); return err }(),
		"other mount": func() error { _, err := c.KVv2("kv").Get(ctx, "x"); return err }(),
	} {
		if status(err) != 501 || !strings.Contains(err.Error(), "fakevault") {
			t.Errorf("%s: %v, want 501 naming fakevault", name, err)
		}
	}
}
