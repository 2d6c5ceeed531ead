package integration_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// The attacks of issue 12, each against real Caddy on a real Redis: an
// attacker who once saw a signed delivery replays it under new, missing
// or chosen delivery ids, sends copies at once, relabels its event,
// smuggles a second reading into the body, signs for a secretless
// integration, speaks for another repository, or brings back an old
// ticket change. Gate mode passes to a local backend, forward mode
// delivers to a local finding service.

// replayRig is one Caddy process with the integrations below, in gate or
// forward mode.
type replayRig struct {
	base, admin       string
	redisAddr, prefix string
	backend           *slowBackend    // gate mode
	findings          *findingService // forward mode
}

// replayIntegrations are the static integrations every rig has.
func replayIntegrations() string {
	var b strings.Builder
	b.WriteString("\t\tdedupe_window 1h\n\t\tmax_age off\n")
	add := func(id, lines string) {
		fmt.Fprintf(&b, "\t\tintegration %s {\n%s\t\t}\n", id, lines)
	}
	add("gh", "\t\t\tvendor github\n\t\t\tsecret "+secretFor("gh")+"\n\t\t\tscans sast\n")
	add("bb", "\t\t\tvendor bitbucket\n\t\t\tsecret "+secretFor("bb")+"\n\t\t\tscans sast\n")
	add("jira-hmac", "\t\t\tvendor jira\n\t\t\tscheme hmac\n\t\t\tsecret "+secretFor("jira-hmac")+"\n")
	add("gl", "\t\t\tvendor gitlab\n\t\t\tsecret "+secretFor("gl")+"\n")
	add("gl-gitlab-signing", "\t\t\tvendor gitlab\n\t\t\tscheme signing\n\t\t\tsecret "+secretFor("gl-gitlab-signing")+"\n")
	add("gh-target", "\t\t\tvendor github\n\t\t\tsecret "+secretFor("gh-target")+"\n\t\t\ttarget acme/payments-api\n")
	add("gh-elsewhere", "\t\t\tvendor github\n\t\t\tsecret "+secretFor("gh-elsewhere")+"\n\t\t\ttarget acme/billing\n")
	add("gh-nosecret", "\t\t\tvendor github\n")
	add("gh-fresh", "\t\t\tvendor github\n\t\t\tsecret "+secretFor("gh-fresh")+"\n\t\t\tmax_age 72h\n")
	return b.String()
}

// startReplayRig runs Caddy in mode "gate" (reverse_proxy to a backend
// that takes backendDelay per request) or "forward" (events to a finding
// service), on the shared Redis under a fresh prefix.
func startReplayRig(t *testing.T, mode string, backendDelay time.Duration, env ...string) *replayRig {
	t.Helper()
	redisAddr, prefix := testredis.Shared(t)
	rig := &replayRig{redisAddr: redisAddr, prefix: prefix}
	if mode == "forward" {
		rig.findings = newFindingService(t)
		f := startForwardCaddy(t, redisAddr, prefix, rig.findings.URL, replayIntegrations())
		rig.base, rig.admin = f.base, f.admin
		return rig
	}
	rig.backend = newSlowBackend(t, backendDelay)
	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	hookgate {
		redis {
			address    %s
			key_prefix %s
		}
%s	}
}

:%d {
	route /webhooks/* {
		hookgate
		reverse_proxy %s
	}
}
`, admin, redisAddr, prefix, replayIntegrations(), port, strings.TrimPrefix(rig.backend.URL, "http://"))
	testcaddy.Start(t, admin, cfg, env, fmt.Sprintf("127.0.0.1:%d", port))
	rig.base, rig.admin = fmt.Sprintf("http://127.0.0.1:%d", port), "http://"+admin
	return rig
}

// slowBackend answers 200 after a delay and counts what it received.
type slowBackend struct {
	*httptest.Server
	n      atomic.Int64
	mu     sync.Mutex
	bodies [][]byte
}

func newSlowBackend(t *testing.T, delay time.Duration) *slowBackend {
	b := &slowBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		b.n.Add(1)
		b.mu.Lock()
		b.bodies = append(b.bodies, buf.Bytes())
		b.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(b.Close)
	return b
}

// reached is how many deliveries moved something: requests at the
// backend (gate), events at the finding service (forward).
func (r *replayRig) reached(t *testing.T, settle time.Duration) int {
	t.Helper()
	time.Sleep(settle)
	if r.backend != nil {
		return int(r.backend.n.Load())
	}
	return len(r.findings.snapshot())
}

// send posts body to integration id of vendor, signed under scheme with
// the integration's test secret, with headers; it returns the answer.
func (r *replayRig) send(t *testing.T, v integrations.Vendor, s integrations.Scheme, id string, body []byte, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req := signed(t, r.base+v.ReceiverPath(id), v, s, secretFor(id), body, nil)
	for k, val := range headers {
		if val == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, val)
		}
	}
	return do(t, req)
}

// auditEntry is one audit entry as GET /hookgate/integrations/{id}/events
// shows it.
type auditEntry struct {
	Event     string `json:"event"`
	Delivery  string `json:"delivery"`
	Action    string `json:"action"`
	Signature string `json:"signature"`
	Reason    string `json:"reason"`
}

// audit reads an integration's accepted and rejected lists.
func (r *replayRig) audit(t *testing.T, id string) (accepted, rejected []auditEntry) {
	t.Helper()
	resp, err := http.Get(r.admin + "/hookgate/integrations/" + id + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Accepted []auditEntry `json:"accepted"`
		Rejected []auditEntry `json:"rejected"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Accepted, v.Rejected
}

func countAction(es []auditEntry, action string) int {
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}

// wantHandedOn checks a delivery was passed on: the backend's 200 (gate)
// or the receiver's 202 (forward).
func wantHandedOn(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted) || resp.Header.Get("X-Hookgate-Duplicate") != "" {
		t.Fatalf("%s: %d %q (duplicate %q), want it handed on", what, resp.StatusCode, body, resp.Header.Get("X-Hookgate-Duplicate"))
	}
}

func wantDuplicate(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Hookgate-Duplicate") != "true" {
		t.Fatalf("%s: %d %q (duplicate %q), want 200 with X-Hookgate-Duplicate", what, resp.StatusCode, body, resp.Header.Get("X-Hookgate-Duplicate"))
	}
}

func wantStatus(t *testing.T, what string, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: %d %q, want %d", what, resp.StatusCode, body, status)
	}
}

// jiraChange is a Jira issue_updated webhook body moving key from one
// status to another at the given time, shaped like the fixture.
func jiraChange(t *testing.T, key, from, to, category string, at time.Time) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(readPayload(t, "jira/issue-updated.json"), &d); err != nil {
		t.Fatal(err)
	}
	d["timestamp"] = at.UnixMilli()
	issue := d["issue"].(map[string]any)
	issue["key"] = key
	fields := issue["fields"].(map[string]any)
	fields["status"] = map[string]any{"name": to, "id": "1" + to[:1], "statusCategory": map[string]any{"id": 3, "key": category, "name": to}}
	d["changelog"] = map[string]any{"id": fmt.Sprint(at.UnixMilli()), "items": []any{
		map[string]any{"field": "status", "fieldtype": "jira", "from": "1", "fromString": from, "to": "2", "toString": to},
	}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withField is a JSON body with one top-level field set (or, with a dotted
// path of two, one nested field).
func withField(t *testing.T, body []byte, path string, value any) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	obj, key := d, path
	if outer, inner, ok := strings.Cut(path, "."); ok {
		obj, key = d[outer].(map[string]any), inner
	}
	obj[key] = value
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplaysRefused: one signed body sent again under a new delivery id,
// with none, or with the id the vendor will use next moves nothing, is
// answered 200 X-Hookgate-Duplicate and audited replay; the genuine
// delivery with the chosen id still goes through. Gate and forward mode;
// GitHub, Bitbucket and Jira hmac (their MACs leave the id unsigned).
func TestReplaysRefused(t *testing.T) {
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	type vendorReplay struct {
		vendor  integrations.Vendor
		scheme  integrations.Scheme
		id      string
		idHdr   string
		headers map[string]string
		first   []byte
		genuine []byte // the vendor's next delivery, under the chosen id
	}
	for _, mode := range []string{"gate", "forward"} {
		t.Run(mode, func(t *testing.T) {
			rig := startReplayRig(t, mode, 0)
			gh := readPayload(t, "github/push.json")
			bb := readPayload(t, "bitbucket/repo-push.json")
			cases := []vendorReplay{
				{integrations.GitHub, integrations.SchemeHMAC, "gh", "X-GitHub-Delivery", map[string]string{"X-GitHub-Event": "push"},
					gh, append(append([]byte(nil), gh...), '\n')},
				{integrations.Bitbucket, integrations.SchemeHMAC, "bb", "X-Request-UUID", map[string]string{"X-Event-Key": "repo:push"},
					bb, append(append([]byte(nil), bb...), '\n')},
				{integrations.Jira, integrations.SchemeHMAC, "jira-hmac", "X-Atlassian-Webhook-Identifier", nil,
					jiraChange(t, "SEC-42", "In Progress", "Done", "done", t0), jiraChange(t, "SEC-42", "Done", "In Progress", "indeterminate", t0.Add(time.Minute))},
			}
			for _, c := range cases {
				hdr := func(id string) map[string]string {
					h := map[string]string{c.idHdr: id}
					for k, v := range c.headers {
						h[k] = v
					}
					return h
				}
				before := rig.reached(t, 0)
				resp, body := rig.send(t, c.vendor, c.scheme, c.id, c.first, hdr("real-1"))
				wantHandedOn(t, string(c.vendor)+" first delivery", resp, body)
				moved := rig.reached(t, 2*time.Second) - before
				if moved == 0 {
					t.Fatalf("%s: the first delivery moved nothing", c.vendor)
				}
				for _, id := range []string{"fresh-id-1", "fresh-id-2", "", "next-id"} {
					resp, body := rig.send(t, c.vendor, c.scheme, c.id, c.first, hdr(id))
					wantDuplicate(t, fmt.Sprintf("%s replay with id %q", c.vendor, id), resp, body)
				}
				// The genuine delivery the attacker chose the id of.
				resp, body = rig.send(t, c.vendor, c.scheme, c.id, c.genuine, hdr("next-id"))
				wantHandedOn(t, string(c.vendor)+" genuine delivery under the id a replay used", resp, body)
				if got := rig.reached(t, 2*time.Second) - before; got != 2*moved {
					t.Errorf("%s: %d moved after one delivery, four replays and the genuine next one; want %d", c.vendor, got, 2*moved)
				}
				_, rejected := rig.audit(t, c.id)
				if n := countAction(rejected, "replay"); n != 4 {
					t.Errorf("%s: %d replay entries in the rejected list, want 4: %+v", c.vendor, n, rejected)
				}
				for _, e := range rejected {
					if e.Action == "replay" && e.Signature != "valid" {
						t.Errorf("%s: replay entry %+v, want signature valid", c.vendor, e)
					}
				}
			}
		})
	}
}

// TestConcurrentCopiesReachTheBackendOnce: ten copies of one delivery at
// once, while the backend takes 1.5 s: one reaches it, the others are 409
// with Retry-After; afterwards a copy is a 200 duplicate. A GitHub
// delivery and a Standard Webhooks message alike.
func TestConcurrentCopiesReachTheBackendOnce(t *testing.T) {
	rig := startReplayRig(t, "gate", 1500*time.Millisecond)
	gh := readPayload(t, "github/push.json")
	gl := readPayload(t, "gitlab/merge_request.json")
	now := time.Now()
	for _, c := range []struct {
		name string
		req  func() *http.Request
	}{
		{"github", func() *http.Request {
			return signed(t, rig.base+integrations.GitHub.ReceiverPath("gh"), integrations.GitHub, integrations.SchemeHMAC, secretFor("gh"), gh,
				map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "concurrent-1"})
		}},
		{"standard webhooks", func() *http.Request {
			return signedStandardWebhooks(t, rig.base+integrations.GitLab.ReceiverPath("gl-gitlab-signing"), secretFor("gl-gitlab-signing"), gl, now, "msg_concurrent",
				map[string]string{"X-Gitlab-Event": "Merge Request Hook"})
		}},
	} {
		before := rig.backend.n.Load()
		var wg sync.WaitGroup
		statuses := make([]int, 10)
		retryAfter := make([]string, 10)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _ := do(t, c.req())
				statuses[i], retryAfter[i] = resp.StatusCode, resp.Header.Get("Retry-After")
			}()
		}
		wg.Wait()
		if got := rig.backend.n.Load() - before; got != 1 {
			t.Errorf("%s: ten concurrent copies reached the backend %d times, want once (statuses %v)", c.name, got, statuses)
		}
		passed, inFlight := 0, 0
		for i, s := range statuses {
			switch s {
			case http.StatusOK:
				passed++
			case http.StatusConflict:
				inFlight++
				if retryAfter[i] == "" {
					t.Errorf("%s: 409 without Retry-After", c.name)
				}
			default:
				t.Errorf("%s: a copy answered %d", c.name, s)
			}
		}
		if passed != 1 || inFlight != 9 {
			t.Errorf("%s: %d passed, %d in flight; want 1 and 9 (%v)", c.name, passed, inFlight, statuses)
		}
		resp, body := do(t, c.req())
		wantDuplicate(t, c.name+" copy after the first passed", resp, body)
	}
}

// signedStandardWebhooks is a Standard Webhooks message with the given id
// and time, signed with secret.
func signedStandardWebhooks(t *testing.T, url, secret string, body []byte, at time.Time, msgID string, extra map[string]string) *http.Request {
	t.Helper()
	h, _, err := verifiers.Sign(integrations.GitLab, integrations.SchemeSigning, []byte(secret), body, at, msgID)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	return req
}

// TestFailedHandOnReleasesTheClaim: in gate mode a backend that fails
// releases the claim, so the vendor's retry of the same delivery passes.
func TestFailedHandOnReleasesTheClaim(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	var fail atomic.Bool
	fail.Store(true)
	var hits atomic.Int64
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if fail.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(be.Close)
	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	cfg := fmt.Sprintf("{\n\tadmin %s\n\tauto_https off\n\tpersist_config off\n\thookgate {\n\t\tredis {\n\t\t\taddress %s\n\t\t\tkey_prefix %s\n\t\t}\n%s\t}\n}\n\n:%d {\n\troute /webhooks/* {\n\t\thookgate\n\t\treverse_proxy %s\n\t}\n}\n",
		admin, redisAddr, prefix, replayIntegrations(), port, strings.TrimPrefix(be.URL, "http://"))
	testcaddy.Start(t, admin, cfg, nil, fmt.Sprintf("127.0.0.1:%d", port))
	url := fmt.Sprintf("http://127.0.0.1:%d", port) + integrations.GitHub.ReceiverPath("gh")
	send := func() *http.Response {
		resp, _ := do(t, signed(t, url, integrations.GitHub, integrations.SchemeHMAC, secretFor("gh"), readPayload(t, "github/push.json"),
			map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "retry-me"}))
		return resp
	}
	if resp := send(); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("backend failing: %d, want its 502", resp.StatusCode)
	}
	fail.Store(false)
	if resp := send(); resp.StatusCode != http.StatusOK || resp.Header.Get("X-Hookgate-Duplicate") != "" {
		t.Fatalf("the vendor's retry after a failure: %d (duplicate %q), want it passed", resp.StatusCode, resp.Header.Get("X-Hookgate-Duplicate"))
	}
	if resp := send(); resp.Header.Get("X-Hookgate-Duplicate") != "true" {
		t.Fatalf("after success: %d, want a duplicate", resp.StatusCode)
	}
	if hits.Load() != 2 {
		t.Errorf("backend saw %d requests, want 2 (the failure and the retry)", hits.Load())
	}
}

// TestRelabelledEventsRefused: a signed push body under another event
// name (the name travels outside the signature) is 400 and moves nothing.
func TestRelabelledEventsRefused(t *testing.T) {
	rig := startReplayRig(t, "forward", 0)
	gh := readPayload(t, "github/push.json")
	for i, event := range []string{"ping", "pull_request", "workflow_run", "check_suite"} {
		resp, body := rig.send(t, integrations.GitHub, integrations.SchemeHMAC, "gh", gh,
			map[string]string{"X-GitHub-Event": event, "X-GitHub-Delivery": fmt.Sprintf("relabel-%d", i)})
		wantStatus(t, "push body as "+event, resp, body, http.StatusBadRequest)
	}
	bb := readPayload(t, "bitbucket/repo-push.json")
	resp, body := rig.send(t, integrations.Bitbucket, integrations.SchemeHMAC, "bb", bb,
		map[string]string{"X-Event-Key": "pullrequest:created", "X-Request-UUID": "relabel-bb"})
	wantStatus(t, "bitbucket push body as pullrequest:created", resp, body, http.StatusBadRequest)
	gl := readPayload(t, "gitlab/push.json")
	resp, body = rig.send(t, integrations.GitLab, integrations.SchemeToken, "gl", gl,
		map[string]string{"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Event-UUID": "relabel-gl"})
	wantStatus(t, "gitlab push body as Merge Request Hook", resp, body, http.StatusBadRequest)
	if n := rig.reached(t, time.Second); n != 0 {
		t.Errorf("relabelled deliveries moved %d events", n)
	}
	_, rejected := rig.audit(t, "gh")
	for _, e := range rejected {
		if !strings.HasPrefix(e.Reason, "malformed body") || e.Signature != "valid" {
			t.Errorf("relabelled delivery audited %+v, want a valid signature and reason malformed body: …", e)
		}
	}
	if len(rejected) != 4 {
		t.Errorf("%d rejected entries for gh, want 4", len(rejected))
	}
}

// TestAmbiguousBodiesRefused: a body two parsers would read differently is
// 400 after its valid signature: a key in another case beside the real
// one, a key twice in one object (top level or nested), a form with two
// payload fields.
func TestAmbiguousBodiesRefused(t *testing.T) {
	rig := startReplayRig(t, "forward", 0)
	push := readPayload(t, "github/push.json")
	inject := func(after, extra string) []byte {
		i := bytes.Index(push, []byte(after))
		if i < 0 {
			t.Fatalf("fixture lacks %q", after)
		}
		i += len(after)
		return append(append(append([]byte(nil), push[:i]...), extra...), push[i:]...)
	}
	formJSON := url.QueryEscape(string(push))
	for i, c := range []struct {
		name        string
		body        []byte
		contentType string
	}{
		{"case-colliding ref", inject("{", `"REF":"refs/heads/evil",`), ""},
		{"duplicate ref", inject("{", `"ref":"refs/heads/evil",`), ""},
		{"case-colliding full_name", inject(`"repository": {`, `"FULL_NAME":"evil/repo",`), ""},
		{"duplicate nested full_name", inject(`"repository": {`, `"full_name":"evil/repo",`), ""},
		{"doubled form payload", []byte("payload=" + formJSON + "&payload=" + url.QueryEscape(`{"ref":"refs/heads/evil"}`)), "application/x-www-form-urlencoded"},
	} {
		req := signed(t, rig.base+integrations.GitHub.ReceiverPath("gh"), integrations.GitHub, integrations.SchemeHMAC, secretFor("gh"), c.body,
			map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": fmt.Sprintf("ambiguous-%d", i)})
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		resp, body := do(t, req)
		wantStatus(t, c.name, resp, body, http.StatusBadRequest)
	}
	if n := rig.reached(t, time.Second); n != 0 {
		t.Errorf("ambiguous bodies moved %d events", n)
	}
}

// TestCredentialToSecretlessIntegration: with CI_WEBHOOK_ALLOW_UNSIGNED
// true, a request that carries a signature to an integration without a
// secret is 401 missing (its secret went missing); one without is let in
// unsigned.
func TestCredentialToSecretlessIntegration(t *testing.T) {
	rig := startReplayRig(t, "gate", 0, "CI_WEBHOOK_ALLOW_UNSIGNED=true")
	body := readPayload(t, "github/push.json")
	resp, got := rig.send(t, integrations.GitHub, integrations.SchemeHMAC, "gh-nosecret", body,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "signed-to-secretless"})
	wantStatus(t, "signed delivery to a secretless integration", resp, got, http.StatusUnauthorized)
	if got != unauthorizedBody+"\n" && got != unauthorizedBody {
		t.Errorf("401 body %q", got)
	}
	req := unsignedReq(t, rig.base+integrations.GitHub.ReceiverPath("gh-nosecret"), body,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "unsigned"})
	resp, got = do(t, req)
	wantHandedOn(t, "unsigned delivery with the flag", resp, got)
	if n := rig.backend.n.Load(); n != 1 {
		t.Errorf("backend saw %d requests, want the unsigned one only", n)
	}
	_, rejected := rig.audit(t, "gh-nosecret")
	if len(rejected) != 1 || rejected[0].Signature != "missing" || rejected[0].Reason != "credential sent but integration has no secret" {
		t.Errorf("rejected %+v", rejected)
	}
}

// TestLongStandardWebhooksIDs: two signed messages with one body and ids
// over 256 characters that differ only at the end are two deliveries.
func TestLongStandardWebhooksIDs(t *testing.T) {
	rig := startReplayRig(t, "gate", 0)
	body := readPayload(t, "gitlab/merge_request.json")
	long := "msg_" + strings.Repeat("x", 300)
	for _, id := range []string{long + "1", long + "2"} {
		req := signedStandardWebhooks(t, rig.base+integrations.GitLab.ReceiverPath("gl-gitlab-signing"), secretFor("gl-gitlab-signing"), body, time.Now(), id,
			map[string]string{"X-Gitlab-Event": "Merge Request Hook"})
		resp, got := do(t, req)
		wantHandedOn(t, "long id "+id[len(id)-1:], resp, got)
	}
	if n := rig.backend.n.Load(); n != 2 {
		t.Errorf("backend saw %d messages, want 2", n)
	}
}

// TestWrongTargetRefused: an integration bound to acme/billing refuses a
// push of acme/payments-api signed with its secret; the one bound to
// acme/payments-api takes it.
func TestWrongTargetRefused(t *testing.T) {
	rig := startReplayRig(t, "forward", 0)
	body := readPayload(t, "github/push.json")
	resp, got := rig.send(t, integrations.GitHub, integrations.SchemeHMAC, "gh-elsewhere", body,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "target-1"})
	wantStatus(t, "push of another repository", resp, got, http.StatusUnauthorized)
	_, rejected := rig.audit(t, "gh-elsewhere")
	if len(rejected) != 1 || rejected[0].Reason != "wrong target" || rejected[0].Signature != "valid" {
		t.Errorf("rejected %+v, want one wrong target entry", rejected)
	}
	resp, got = rig.send(t, integrations.GitHub, integrations.SchemeHMAC, "gh-target", body,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "target-2"})
	wantHandedOn(t, "push of the target repository", resp, got)
}

// TestOlderThanMaxAgeRefused: with max_age 72h, a push whose signed
// pushed_at is four days old is 401 and audited stale; one from an hour
// ago passes.
func TestOlderThanMaxAgeRefused(t *testing.T) {
	rig := startReplayRig(t, "forward", 0)
	push := readPayload(t, "github/push.json")
	old := withField(t, push, "repository.pushed_at", time.Now().Add(-96*time.Hour).Unix())
	resp, got := rig.send(t, integrations.GitHub, integrations.SchemeHMAC, "gh-fresh", old,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "old-push"})
	wantStatus(t, "push older than max_age", resp, got, http.StatusUnauthorized)
	_, rejected := rig.audit(t, "gh-fresh")
	if len(rejected) != 1 || rejected[0].Action != "stale" || rejected[0].Signature != "valid" {
		t.Errorf("rejected %+v, want one stale entry", rejected)
	}
	fresh := withField(t, push, "repository.pushed_at", time.Now().Add(-time.Hour).Unix())
	resp, got = rig.send(t, integrations.GitHub, integrations.SchemeHMAC, "gh-fresh", fresh,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "fresh-push"})
	wantHandedOn(t, "push within max_age", resp, got)
}

// TestStaleTicketChangeByWebhook: a ticket moved Done at 10:59; the late
// retry of its move to In Progress at 10:50 is not forwarded (200, audited
// stale). Reopened at 11:05, a replay of the Done change after its dedupe
// mark expired does not close it again.
func TestStaleTicketChangeByWebhook(t *testing.T) {
	rig := startReplayRig(t, "forward", 0)
	at := func(hm string) time.Time {
		tm, _ := time.Parse("15:04", hm)
		d := time.Now().Add(-2 * time.Hour)
		return time.Date(d.Year(), d.Month(), d.Day(), tm.Hour(), tm.Minute(), 0, 0, time.UTC)
	}
	done := jiraChange(t, "SEC-9", "In Progress", "Done", "done", at("10:59"))
	late := jiraChange(t, "SEC-9", "To Do", "In Progress", "indeterminate", at("10:50"))
	reopen := jiraChange(t, "SEC-9", "Done", "Reopened", "new", at("11:05"))
	send := func(body []byte, id string) (*http.Response, string) {
		return rig.send(t, integrations.Jira, integrations.SchemeHMAC, "jira-hmac", body, map[string]string{"X-Atlassian-Webhook-Identifier": id})
	}
	resp, got := send(done, "j-done")
	wantHandedOn(t, "done", resp, got)
	resp, got = send(late, "j-late")
	wantStatus(t, "late in progress", resp, got, http.StatusOK)
	if resp.Header.Get("X-Hookgate-Duplicate") != "" || !strings.Contains(got, "stale") {
		t.Errorf("late change answered %q (duplicate %q), want the stale answer", got, resp.Header.Get("X-Hookgate-Duplicate"))
	}
	resp, got = send(reopen, "j-reopen")
	wantHandedOn(t, "reopen", resp, got)
	// The dedupe window passes for the Done change: its marks go.
	for _, k := range redisKeys(t, rig.redisAddr, rig.prefix) {
		if strings.Contains(k, "{hg}:dedupe:") {
			if _, err := execRedisCLI(rig.redisAddr, "DEL", k); err != nil {
				t.Fatal(err)
			}
		}
	}
	resp, got = send(done, "j-done-replayed")
	wantStatus(t, "replayed done after the window", resp, got, http.StatusOK)
	eventually(t, 10*time.Second, "two status changes at the finding service", func() bool {
		return len(ticketChanges(rig.findings, "jira-hmac", "SEC-9")) >= 2
	})
	time.Sleep(time.Second)
	var statuses []string
	for _, ev := range ticketChanges(rig.findings, "jira-hmac", "SEC-9") {
		statuses = append(statuses, ev["ticket"].(map[string]any)["status"].(string))
	}
	if len(statuses) != 2 {
		t.Fatalf("finding service got status changes %v, want Done and Reopened only", statuses)
	}
	_, rejected := rig.audit(t, "jira-hmac")
	if n := countAction(rejected, "stale"); n != 2 {
		t.Errorf("%d stale entries, want 2 (the late change and the replay): %+v", n, rejected)
	}
}

// TestStaleTicketChangeByPoll: a ticket moved Done (webhook, forwarded);
// the poller then finds an older change of it (the search lags, or pages
// overlap): it is not forwarded, and audited stale.
func TestStaleTicketChangeByPoll(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	jira := newFakeJiraCloudSearchAPI(t)
	const id = "jira-order"
	c := startPollingCaddy(t, redisAddr, prefix, fs.URL, jiraPollIntegration(id, jira.URL))
	eventually(t, 30*time.Second, "the first poll", func() bool {
		r, ok := c.pollerRow(id)
		return ok && !r.Cursor.IsZero()
	})
	now := time.Now().UTC().Truncate(time.Second)
	done := jiraChange(t, "SEC-77", "In Progress", "Done", "done", now.Add(2*time.Minute))
	req := signed(t, c.base+integrations.Jira.ReceiverPath(id), integrations.Jira, integrations.SchemeHMAC, secretFor(id), done,
		map[string]string{"X-Atlassian-Webhook-Identifier": "poll-order-1"})
	resp, got := do(t, req)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("done by webhook: %d %q", resp.StatusCode, got)
	}
	jira.Transition("SEC-77", "In Progress", "3", "indeterminate", now.Add(time.Minute))
	mark := jira.CallCount()
	eventually(t, 30*time.Second, "two more polls", func() bool { return jira.CallCount() >= mark+2 })
	rig := &replayRig{admin: c.admin}
	deadline := time.Now().Add(10 * time.Second)
	for {
		accepted, rejected := rig.audit(t, id)
		if countAction(rejected, "stale") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stale entry for the older polled change: accepted %+v, rejected %+v, at the finding service %v",
				accepted, rejected, ticketChanges(fs, id, "SEC-77"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var statuses []string
	for _, ev := range ticketChanges(fs, id, "SEC-77") {
		statuses = append(statuses, ev["ticket"].(map[string]any)["status"].(string))
	}
	if len(statuses) != 1 || statuses[0] != "Done" {
		t.Errorf("finding service got %v, want the Done change only", statuses)
	}
}
