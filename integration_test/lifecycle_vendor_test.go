package integration_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// fakeGitHubAPI is a local HTTP server speaking GitHub's repository
// webhook API (REST 2022-11-28: list, create, update, ping). No vendor SaaS
// is reachable from the tests, so register and setup talk to this. Like
// GitHub, a ping makes it POST a signed `ping` delivery to the hook's URL
// with the hook's secret, after answering 204; signWith, when set, signs
// with another secret instead, as a vendor holding a stale secret would.
// beforePing, when set, runs between the answer and the ping's delivery;
// pingIDs are the delivery ids of the pings sent.
type fakeGitHubAPI struct {
	*httptest.Server
	token      string
	signWith   string
	beforePing func()
	pingIDs    []string

	mu      sync.Mutex
	hooks   map[int64]*fakeGitHubHook
	nextID  int64
	creates int
	updates int
	pings   int
	authBad int
}

type fakeGitHubHook struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Active bool     `json:"active"`
	Events []string `json:"events"`
	Config struct {
		URL         string `json:"url"`
		ContentType string `json:"content_type"`
		Secret      string `json:"secret,omitempty"`
		InsecureSSL string `json:"insecure_ssl"`
	} `json:"config"`
}

func newFakeGitHubAPI(t *testing.T, token string) *fakeGitHubAPI {
	f := &fakeGitHubAPI{token: token, hooks: map[int64]*fakeGitHubHook{}, nextID: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}/hooks", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		list := []map[string]any{}
		for _, h := range f.hooks {
			// GitHub never shows the secret back.
			list = append(list, map[string]any{"id": h.ID, "name": h.Name, "active": h.Active, "events": h.Events,
				"config": map[string]any{"url": h.Config.URL, "content_type": h.Config.ContentType, "secret": "********"}})
		}
		writeFakeJSON(w, http.StatusOK, list)
	})
	mux.HandleFunc("POST /repos/{owner}/{repo}/hooks", func(w http.ResponseWriter, r *http.Request) {
		var h fakeGitHubHook
		if err := json.NewDecoder(r.Body).Decode(&h); err != nil || h.Name != "web" || h.Config.URL == "" {
			writeFakeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
			return
		}
		f.mu.Lock()
		f.nextID++
		h.ID = f.nextID
		f.hooks[h.ID] = &h
		f.creates++
		f.mu.Unlock()
		writeFakeJSON(w, http.StatusCreated, map[string]any{"id": h.ID, "name": h.Name, "config": map[string]any{"url": h.Config.URL}})
	})
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/hooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		var upd fakeGitHubHook
		if err := json.NewDecoder(r.Body).Decode(&upd); err != nil {
			writeFakeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
			return
		}
		f.mu.Lock()
		h, ok := f.hooks[id]
		if ok {
			upd.ID, upd.Name = h.ID, h.Name
			f.hooks[id] = &upd
			f.updates++
		}
		f.mu.Unlock()
		if !ok {
			writeFakeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		writeFakeJSON(w, http.StatusOK, map[string]any{"id": id})
	})
	mux.HandleFunc("POST /repos/{owner}/{repo}/hooks/{id}/pings", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		f.mu.Lock()
		h, ok := f.hooks[id]
		var hook fakeGitHubHook
		if ok {
			hook = *h
			f.pings++
		}
		secret := hook.Config.Secret
		if f.signWith != "" {
			secret = f.signWith
		}
		before := f.beforePing
		f.mu.Unlock()
		if !ok {
			writeFakeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
		go func() {
			time.Sleep(100 * time.Millisecond) // GitHub delivers after answering
			if before != nil {
				before()
			}
			f.deliverPing(t, hook, secret, r.PathValue("owner")+"/"+r.PathValue("repo"))
		}()
	})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			f.mu.Lock()
			f.authBad++
			f.mu.Unlock()
			writeFakeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// deliverPing POSTs GitHub's ping delivery to the hook's URL.
func (f *fakeGitHubAPI) deliverPing(t *testing.T, hook fakeGitHubHook, secret, repo string) {
	body, _ := json.Marshal(map[string]any{
		"zen": "Design for failure.", "hook_id": hook.ID,
		"hook":       map[string]any{"type": "Repository", "id": hook.ID, "name": "web", "active": true, "events": hook.Events, "config": map[string]any{"url": hook.Config.URL, "content_type": "json"}},
		"repository": map[string]any{"id": 1, "name": strings.SplitN(repo, "/", 2)[1], "full_name": repo},
		"sender":     map[string]any{"login": "octocat", "id": 1},
	})
	h, _, err := verifiers.Sign(integrations.GitHub, integrations.SchemeHMAC, []byte(secret), body, time.Now(), "")
	if err != nil {
		t.Errorf("fakeGitHubAPI: signing the ping: %v", err)
		return
	}
	req, _ := http.NewRequest(http.MethodPost, hook.Config.URL, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "ping")
	delivery := fmt.Sprintf("ping-%d-%d", hook.ID, time.Now().UnixNano())
	f.mu.Lock()
	f.pingIDs = append(f.pingIDs, delivery)
	f.mu.Unlock()
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-GitHub-Hook-ID", strconv.FormatInt(hook.ID, 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("fakeGitHubAPI: delivering the ping: %v", err)
		return
	}
	resp.Body.Close()
}

func (f *fakeGitHubAPI) snapshot() (hooks []fakeGitHubHook, creates, updates, authBad int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range f.hooks {
		hooks = append(hooks, *h)
	}
	return hooks, f.creates, f.updates, f.authBad
}

func writeFakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// TestRegisterCreatesThenUpdatesOnFakeGitHubAPINoVendorSaaS: register
// creates hookgate's hook with the receiver URL and current secret, and
// the second call (after a rotation) updates that hook instead of adding
// one. The GitHub API is a local fake: no vendor SaaS is reachable here.
func TestRegisterCreatesThenUpdatesOnFakeGitHubAPINoVendorSaaS(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	api := newFakeGitHubAPI(t, "gh-api-token-2b7c")
	const id = "reg-gh"
	putRecord(t, vault, id, map[string]any{"vendor": "github", "secret": "reg-secret-1d4e", "api_url": api.URL, "api_token": api.token, "target": "acme/payments"})
	putRecord(t, vault, "reg-bamboo", map[string]any{"vendor": "bamboo", "secret": "bamboo-reg-secret"})
	putRecord(t, vault, "reg-no-api", map[string]any{"vendor": "github", "secret": "x-secret", "api_url": api.URL, "target": "acme/payments"})
	c := startLifecycle(t, vault, redisAddr, prefix)
	path := "/hookgate/integrations/" + id + "/webhook/register"
	receiver := c.base + "/webhooks/ci/github/" + id

	first := c.call(t, http.MethodPost, path, nil, http.StatusOK)
	if first.body["registered"] != true || first.body["created"] != true || first.body["hook_id"] == "" {
		t.Fatalf("first register: %s", first.raw)
	}
	hooks, creates, updates, _ := api.snapshot()
	if len(hooks) != 1 || creates != 1 || updates != 0 || hooks[0].Config.URL != receiver || hooks[0].Config.Secret != "reg-secret-1d4e" {
		t.Fatalf("after the first register: %d hooks, %d creates, %d updates", len(hooks), creates, updates)
	}

	rot := c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/regenerate", map[string]string{"grace": "1h"}, http.StatusOK)
	second := c.call(t, http.MethodPost, path, nil, http.StatusOK)
	if second.body["registered"] != true || second.body["created"] != false || second.body["hook_id"] != first.body["hook_id"] {
		t.Fatalf("second register: %s", second.raw)
	}
	hooks, creates, updates, authBad := api.snapshot()
	if len(hooks) != 1 || creates != 1 || updates != 1 || hooks[0].Config.Secret != rot.body["secret"] || authBad != 0 {
		t.Fatalf("after the second register: %d hooks, %d creates, %d updates, %d bad auth; secret updated: %v",
			len(hooks), creates, updates, authBad, hooks[0].Config.Secret == rot.body["secret"])
	}

	// A vendor without a hook API answers the manual steps.
	manual := c.call(t, http.MethodPost, "/hookgate/integrations/reg-bamboo/webhook/register", nil, http.StatusOK)
	steps, _ := manual.body["manual_steps"].(string)
	if manual.body["registered"] != false || !strings.Contains(steps, "X-Bamboo-Token") || !strings.Contains(steps, c.base+"/webhooks/ci/bamboo/reg-bamboo") {
		t.Fatalf("bamboo register: %s", manual.raw)
	}
	assertNoSecretIn(t, "manual steps", steps, "bamboo-reg-secret")
	// A record without api_token cannot be registered: a 400 saying so.
	bad := c.call(t, http.MethodPost, "/hookgate/integrations/reg-no-api/webhook/register", nil, http.StatusBadRequest)
	if !strings.Contains(fmt.Sprint(bad.body["error"]), "api_token") {
		t.Fatalf("register without api_token: %s", bad.raw)
	}

	registers := 0
	for _, e := range adminAuditEntries(t, redisAddr, prefix) {
		if e["action"] == "register" {
			registers++
		}
	}
	if registers != 4 {
		t.Fatalf("%d register entries in the admin audit stream, want 4", registers)
	}
	assertNoSecretIn(t, "Caddy's log", c.caddy.Log(), "reg-secret-1d4e", fmt.Sprint(rot.body["secret"]), api.token, "bamboo-reg-secret")
}

// TestSetupEndToEndThroughFakeGitHubAPINoVendorSaaS: setup registers the
// hook on a local fake GitHub API, which then sends a signed ping back
// through Caddy's receiver; setup answers verified. With the fake signing
// with a wrong secret, setup answers precisely that the delivery was seen
// but its signature was invalid. No vendor SaaS is reachable here.
func TestSetupEndToEndThroughFakeGitHubAPINoVendorSaaS(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	api := newFakeGitHubAPI(t, "gh-api-token-8e1f")
	c := startLifecycle(t, vault, redisAddr, prefix)

	t.Run("verified", func(t *testing.T) {
		const id = "setup-gh"
		putRecord(t, vault, id, map[string]any{"vendor": "github", "api_url": api.URL, "api_token": api.token, "target": "acme/setup"})
		// A new integration: give it its first secret, then set it up.
		c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/regenerate", nil, http.StatusOK)
		res := c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/setup", map[string]string{"timeout": "20s"}, http.StatusOK)
		if delivery, _ := res.body["delivery"].(string); res.body["registered"] != true || res.body["test_sent"] != true || res.body["verified"] != true ||
			res.body["error"] != "" || res.body["event"] != "ping" || !strings.HasPrefix(delivery, "ping-") {
			t.Fatalf("setup: %s", res.raw)
		}
		events := c.call(t, http.MethodGet, "/hookgate/integrations/"+id+"/events", nil, http.StatusOK)
		if !strings.Contains(events.raw, `"event":"ping"`) || !strings.Contains(events.raw, `"signature":"valid"`) {
			t.Fatalf("audit after setup: %s", events.raw)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		const id = "setup-gh-wrong"
		putRecord(t, vault, id, map[string]any{"vendor": "github", "secret": "setup-secret-c3a1", "api_url": api.URL, "api_token": api.token, "target": "acme/setup-wrong"})
		api.mu.Lock()
		api.signWith = "not-the-registered-secret"
		api.mu.Unlock()
		res := c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/setup", map[string]string{"timeout": "20s"}, http.StatusOK)
		errText, _ := res.body["error"].(string)
		if res.body["registered"] != true || res.body["test_sent"] != true || res.body["verified"] != false ||
			errText != "delivery seen but signature invalid: signature mismatch" {
			t.Fatalf("setup with a wrong secret: %s", res.raw)
		}
	})

	t.Run("vendor API error", func(t *testing.T) {
		const id = "setup-gh-badtoken"
		putRecord(t, vault, id, map[string]any{"vendor": "github", "secret": "setup-secret-77d0", "api_url": api.URL, "api_token": "wrong-token", "target": "acme/x"})
		res := c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/setup", map[string]string{"timeout": "2s"}, http.StatusOK)
		errText, _ := res.body["error"].(string)
		if res.body["registered"] != false || res.body["verified"] != false || !strings.Contains(errText, "vendor API error") || !strings.Contains(errText, "401") {
			t.Fatalf("setup with a refused API token: %s", res.raw)
		}
		assertNoSecretIn(t, "the setup answer", res.raw, "wrong-token", "setup-secret-77d0")
	})

	t.Run("no delivery", func(t *testing.T) {
		const id = "setup-jenkins"
		putRecord(t, vault, id, map[string]any{"vendor": "jenkins", "secret": "jenkins-secret-5e2b"})
		res := c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/setup", map[string]string{"timeout": "1s"}, http.StatusOK)
		errText, _ := res.body["error"].(string)
		if res.body["registered"] != false || res.body["test_sent"] != false || !strings.HasPrefix(errText, "no delivery seen within 1s") || res.body["manual_steps"] == nil {
			t.Fatalf("setup of a vendor without API: %s", res.raw)
		}
	})
	assertNoSecretIn(t, "Caddy's log", c.caddy.Log(), api.token, "setup-secret-c3a1")
}

// TestSetupTakesOnlyItsOwnPingNoVendorSaaS: while setup waits, deliveries
// that are not its test arrive before the ping, each verified: someone
// else's push (unique body, valid signature), a replayed copy of it, and a
// ping of another hook holding the same secret. Setup takes none of them
// for its test; it answers verified with the ping's delivery id once the
// ping of its own hook arrives, and counts what it ignored. Before issue 13
// it answered verified on the foreign push.
func TestSetupTakesOnlyItsOwnPingNoVendorSaaS(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	api := newFakeGitHubAPI(t, "gh-api-token-own-ping-3b")
	c := startLifecycle(t, vault, redisAddr, prefix)
	const id, secret = "setup-own-ping", "setup-own-ping-secret-9e4d"
	putRecord(t, vault, id, map[string]any{"vendor": "github", "secret": secret, "api_url": api.URL, "api_token": api.token, "target": "acme/payments-api"})
	receiver := c.base + integrations.GitHub.ReceiverPath(id)
	foreign := make(chan []int, 1)
	api.mu.Lock()
	api.beforePing = func() {
		body := ownBody(readPayload(t, "github/push.json"), "own-ping-foreign")
		var got []int
		for _, d := range []struct{ event, delivery string }{{"push", "foreign-push-1"}, {"push", "foreign-push-copy"}} {
			resp, _ := do(t, signed(t, receiver, integrations.GitHub, integrations.SchemeHMAC, secret, body,
				map[string]string{"X-GitHub-Event": d.event, "X-GitHub-Delivery": d.delivery}))
			got = append(got, resp.StatusCode)
		}
		other := []byte(`{"zen":"Anything added dilutes everything else.","hook_id":4711,"hook":{"id":4711},"repository":{"full_name":"acme/payments-api"}}`)
		resp, _ := do(t, signed(t, receiver, integrations.GitHub, integrations.SchemeHMAC, secret, other,
			map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "other-hook-ping", "X-GitHub-Hook-ID": "4711"}))
		got = append(got, resp.StatusCode)
		foreign <- got
		time.Sleep(time.Second) // setup's wait reads the audit log with only these in it
	}
	api.mu.Unlock()

	res := c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/setup", map[string]string{"timeout": "20s"}, http.StatusOK)
	if got := <-foreign; !slices.Equal(got, []int{http.StatusAccepted, http.StatusOK, http.StatusAccepted}) {
		t.Fatalf("the foreign deliveries were answered %v, want 202 (push), 200 (replayed copy), 202 (other hook's ping)", got)
	}
	api.mu.Lock()
	pings := slices.Clone(api.pingIDs)
	api.mu.Unlock()
	if len(pings) != 1 {
		t.Fatalf("%d pings sent when setup answered %s", len(pings), res.raw)
	}
	if res.body["verified"] != true || res.body["test_sent"] != true || res.body["delivery"] != pings[0] || res.body["event"] != "ping" ||
		res.body["error"] != "" || res.body["ignored"] != 3.0 {
		t.Fatalf("setup: %s; want verified with delivery %s and 3 ignored", res.raw, pings[0])
	}
	events := c.call(t, http.MethodGet, "/hookgate/integrations/"+id+"/events", nil, http.StatusOK)
	for _, want := range []string{`"delivery":"foreign-push-1"`, `"delivery":"foreign-push-copy"`, `"action":"replay"`, `"hook_id":"4711"`, `"delivery":"` + pings[0] + `"`} {
		if !strings.Contains(events.raw, want) {
			t.Errorf("audit lacks %s: %s", want, events.raw)
		}
	}
	assertNoSecretIn(t, "Caddy's log", c.caddy.Log(), api.token, secret)
}
