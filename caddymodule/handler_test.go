package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/limiter"
	"github.com/hookgate/caddy-hookgate/state"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// testNow is the handler's clock in these tests.
var testNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// testMaxBody keeps oversize tests small.
const testMaxBody = 4096

const (
	// signingSecret is a Standard Webhooks secret (GitLab signing tokens).
	signingSecret      = "whsec_c2VjcmV0LWN1cnJlbnQtMDEyMzQ1Njc4OWFiY2RlZg=="
	otherSigningSecret = "whsec_b3RoZXItc2VjcmV0LXRoYXQtaXMtbm90LXJpZ2h0"
)

// vendorCase is one integration and a delivery its vendor would send.
type vendorCase struct {
	id       string
	vendor   integrations.Vendor
	scheme   integrations.Scheme // "" for the vendor's default
	secret   string
	body     string            // the payload file, then (after init) its bytes
	header   map[string]string // identity headers the vendor sends
	event    string            // expected X-Hookgate-Event
	delivery string            // expected X-Hookgate-Delivery
	bodyMAC  bool              // the credential covers the body
}

func (vc vendorCase) path() string { return vc.vendor.ReceiverPath(vc.id) }

func (vc vendorCase) effectiveScheme() integrations.Scheme {
	if vc.scheme != "" {
		return vc.scheme
	}
	return vc.vendor.DefaultScheme()
}

// vendorCases has one integration per vendor with its default scheme, and
// the other schemes worth covering. Bodies are the payloads written for
// hookgate under testdata/payloads (file), read by init.
var vendorCases = []vendorCase{
	{
		id: "gh-1", vendor: integrations.GitHub, secret: "gh-secret-1", bodyMAC: true, body: "github/push.json",
		header: map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		event:  "push", delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
	},
	{
		id: "gl-1", vendor: integrations.GitLab, secret: "gl-secret-1", body: "gitlab/push.json",
		header: map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "gl-uuid-1"},
		event:  "Push Hook", delivery: "gl-uuid-1",
	},
	{
		id: "jira-1", vendor: integrations.Jira, secret: "jira-secret-1", body: "jira/issue-updated.json",
		header: map[string]string{"X-Atlassian-Webhook-Identifier": "jira-del-1"},
		event:  "jira:issue_updated", delivery: "jira-del-1",
	},
	{
		id: "sn-1", vendor: integrations.ServiceNow, secret: "sn-secret-1", body: "servicenow/incident-resolved.json",
		event: "ticket",
	},
	{
		id: "me-1", vendor: integrations.ManageEngine, secret: "me-secret-1", body: "manageengine/request-closed.json",
		event: "ticket",
	},
	{
		id: "jk-1", vendor: integrations.Jenkins, secret: "jk-secret-1", body: "jenkins/build-finalized.json",
		event: "build",
	},
	{
		id: "ado-1", vendor: integrations.AzureDevOps, secret: "ado-secret-1", body: "azuredevops/git-push.json",
		event: "git.push", delivery: "0f3b5d7a-9c1e-4b3d-8f5a-7c9e1b3d5f7a",
	},
	{
		id: "bam-1", vendor: integrations.Bamboo, secret: "bam-secret-1", body: "bamboo/build-completed.json",
		event: "build",
	},
	{
		id: "bb-1", vendor: integrations.Bitbucket, secret: "bb-secret-1", bodyMAC: true, body: "bitbucket/repo-push.json",
		header: map[string]string{"X-Event-Key": "repo:push", "X-Request-UUID": "bb-uuid-1"},
		event:  "repo:push", delivery: "bb-uuid-1",
	},
	// Other schemes.
	{
		id: "gl-signing", vendor: integrations.GitLab, scheme: integrations.SchemeSigning, secret: signingSecret, bodyMAC: true,
		body:   "gitlab/merge_request.json",
		header: map[string]string{"X-Gitlab-Event": "Merge Request Hook"},
		event:  "Merge Request Hook", delivery: "msg_hg1",
	},
	{
		id: "jira-hmac", vendor: integrations.Jira, scheme: integrations.SchemeHMAC, secret: "jira-hmac-secret", bodyMAC: true,
		body: "jira/comment-created.json", event: "comment_created",
	},
	{
		id: "sn-hmac", vendor: integrations.ServiceNow, scheme: integrations.SchemeHMAC, secret: "sn-hmac-secret", bodyMAC: true,
		body: "servicenow/incident-commented.json", event: "incident.updated",
	},
	{
		id: "sn-basic", vendor: integrations.ServiceNow, scheme: integrations.SchemeBasic, secret: "sn-basic-secret",
		body: "servicenow/incident-in-progress.json", event: "incident.updated",
	},
	{
		id: "me-token", vendor: integrations.ManageEngine, scheme: integrations.SchemeToken, secret: "me-token-secret",
		body: "manageengine/request-in-progress.json", event: "request.updated",
	},
	{
		id: "gh-sha1", vendor: integrations.GitHub, scheme: integrations.SchemeHMACSHA1, secret: "gh-sha1-secret", bodyMAC: true,
		body: "github/ping.json", header: map[string]string{"X-GitHub-Event": "ping"}, event: "ping",
	},
}

// payloadDir holds the payloads written for hookgate's tests.
const payloadDir = "../testdata/payloads/"

func init() {
	for i := range vendorCases {
		b, err := os.ReadFile(payloadDir + vendorCases[i].body)
		if err != nil {
			panic(err)
		}
		vendorCases[i].body = string(b)
	}
}

// padJSON pads a JSON body with trailing spaces (still the same JSON) to
// exactly n bytes.
func padJSON(t testing.TB, body string, n int) []byte {
	t.Helper()
	if len(body) > n {
		t.Fatalf("body of %d bytes is over %d", len(body), n)
	}
	return []byte(body + strings.Repeat(" ", n-len(body)))
}

func caseByID(t testing.TB, id string) vendorCase {
	t.Helper()
	for _, vc := range vendorCases {
		if vc.id == id {
			return vc
		}
	}
	t.Fatalf("no vendor case %s", id)
	return vendorCase{}
}

// wrongSecret is a secret of the right shape that is not vc's.
func (vc vendorCase) wrongSecret() string {
	if vc.effectiveScheme() == integrations.SchemeSigning {
		return otherSigningSecret
	}
	return vc.secret + "-wrong"
}

// testIntegrations is the static config: one integration per vendor case,
// a second GitHub one, one without secret per vendor kind, an inactive one,
// and one in a rotation overlap.
func testIntegrations() map[string]IntegrationConfig {
	m := make(map[string]IntegrationConfig)
	for _, vc := range vendorCases {
		m[vc.id] = IntegrationConfig{Vendor: string(vc.vendor), Scheme: string(vc.scheme), Secret: vc.secret}
	}
	inactive := false
	m["gh-2"] = IntegrationConfig{Vendor: "github", Secret: "gh-secret-2"}
	m["gh-nosecret"] = IntegrationConfig{Vendor: "github"}
	m["jira-nosecret"] = IntegrationConfig{Vendor: "jira"}
	m["gh-inactive"] = IntegrationConfig{Vendor: "github", Secret: "gh-inactive-secret", Active: &inactive}
	m["gh-rotated"] = IntegrationConfig{
		Vendor: "github", Secret: "gh-new-secret",
		PreviousSecret: "gh-old-secret", PreviousValidUntil: testNow.Add(time.Hour).Format(time.RFC3339),
	}
	return m
}

// newTestApp provisions an App with the static test integrations.
func newTestApp(t testing.TB, allowUnsigned bool) *App {
	t.Helper()
	a := &App{AllowUnsigned: "false", MaxBody: testMaxBody, Integrations: testIntegrations()}
	if allowUnsigned {
		a.AllowUnsigned = "true"
	}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("App.Provision: %v", err)
	}
	isolateState(a)
	return a
}

// isolateState gives a its own in-memory state and failure counts: the
// pooled ones are shared by every App of the process, and dedupe marks and
// brute-force counts would leak between tests.
func isolateState(a *App) *state.Memory {
	m := state.NewMemory(state.MemoryOptions{Now: func() time.Time { return testNow }})
	a.state = &pooledState{deliveries: m, outbox: m, failures: limiter.NewMemory(limiter.Options{})}
	if a.limit != nil {
		a.limit.counter = a.state.failures
	}
	return m
}

// newTestHandler wires a Handler to app as Provision would, with a fixed
// clock and a logger that records.
func newTestHandler(app *App) (*Handler, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := &Handler{app: app, logger: zap.New(core), now: func() time.Time { return testNow }}
	h.checks = &sync.Pool{New: func() any { return new(verifiers.Check) }}
	h.inbound = &sync.Pool{New: func() any { return new(inbound) }}
	return h, logs
}

// seen is what the next handler got.
type seen struct {
	called        bool
	body          []byte
	header        http.Header
	contentLength int64
	rawQuery      string
	requestURI    string
	transferEnc   []string
}

// result is one ServeHTTP run.
type result struct {
	rec  *httptest.ResponseRecorder
	err  error
	next seen
	repl *caddy.Replacer
	req  *http.Request // the request as the handler left it
}

func serve(t testing.TB, h *Handler, r *http.Request) result {
	t.Helper()
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	var res result
	res.rec, res.repl, res.req = httptest.NewRecorder(), repl, r
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		res.next.called = true
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("next: reading body: %v", err)
		}
		res.next.body = b
		res.next.header = r.Header.Clone()
		res.next.contentLength = r.ContentLength
		res.next.rawQuery = r.URL.RawQuery
		res.next.requestURI = r.RequestURI
		res.next.transferEnc = r.TransferEncoding
		w.WriteHeader(http.StatusAccepted)
		return nil
	})
	res.err = h.ServeHTTP(res.rec, r, next)
	return res
}

// signedRequest builds vc's delivery signed with secret (none when secret
// is empty) and posted to target.
func signedRequest(t testing.TB, vc vendorCase, secret, target string, body []byte) *http.Request {
	t.Helper()
	var hdr http.Header
	var query string
	if secret != "" {
		var err error
		hdr, query, err = verifiers.Sign(vc.vendor, vc.effectiveScheme(), []byte(secret), body, testNow, "msg_hg1")
		if err != nil {
			t.Fatalf("%s: Sign: %v", vc.id, err)
		}
	}
	if query != "" {
		target += "?" + query
	}
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for k, v := range vc.header {
		r.Header.Set(k, v)
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	return r
}

func validRequest(t testing.TB, vc vendorCase) *http.Request {
	return signedRequest(t, vc, vc.secret, vc.path(), []byte(vc.body))
}

// wantUnauthorized checks the uniform 401.
func wantUnauthorized(t *testing.T, res result) {
	t.Helper()
	if res.err != nil {
		t.Errorf("ServeHTTP returned %v", res.err)
	}
	if res.rec.Code != http.StatusUnauthorized {
		t.Errorf("status %d, want 401 (body %s)", res.rec.Code, res.rec.Body)
	}
	if got := res.rec.Body.String(); got != `{"error":"unauthorized"}` {
		t.Errorf("body %q, want the uniform 401 body", got)
	}
	if ct := res.rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	wantNotPassed(t, res)
}

// wantNotPassed checks that nothing reached the next handler and that no
// annotation was left on the request.
func wantNotPassed(t *testing.T, res result) {
	t.Helper()
	if res.next.called {
		t.Error("the next handler was called")
	}
	for k := range res.req.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-hookgate-") {
			t.Errorf("annotation header %s left on a refused request", k)
		}
	}
	if v, _ := res.repl.GetString("http.hookgate.verified"); v != "" {
		t.Errorf("{http.hookgate.verified} = %q on a refusal", v)
	}
	if reason, _ := res.repl.GetString("http.hookgate.reason"); reason == "" {
		t.Error("{http.hookgate.reason} empty on a refusal")
	}
}

// wantPassed checks a delivery that went through, annotated.
func wantPassed(t *testing.T, res result, vc vendorCase, verified string, body []byte) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("ServeHTTP returned %v", res.err)
	}
	if !res.next.called {
		reason, _ := res.repl.GetString("http.hookgate.reason")
		t.Fatalf("refused with %d %s (reason %q)", res.rec.Code, res.rec.Body, reason)
	}
	if res.rec.Code != http.StatusAccepted {
		t.Errorf("status %d, want the next handler's 202", res.rec.Code)
	}
	if !bytes.Equal(res.next.body, body) {
		t.Errorf("next got body %q, want %q", res.next.body, body)
	}
	if res.next.contentLength != int64(len(body)) {
		t.Errorf("next got ContentLength %d, want %d", res.next.contentLength, len(body))
	}
	if len(res.next.transferEnc) != 0 {
		t.Errorf("next got TransferEncoding %v", res.next.transferEnc)
	}
	eventID := res.next.header.Get("X-Hookgate-Event-Id")
	if !eventIDPattern.MatchString(eventID) {
		t.Errorf("X-Hookgate-Event-Id %q is not an event id", eventID)
	}
	want := map[string]string{
		"X-Hookgate-Verified":    verified,
		"X-Hookgate-Vendor":      string(vc.vendor),
		"X-Hookgate-Integration": vc.id,
		"X-Hookgate-Event":       vc.event,
		"X-Hookgate-Delivery":    vc.delivery,
		"X-Hookgate-Event-Id":    eventID,
	}
	placeholders := map[string]string{
		"X-Hookgate-Verified": "verified", "X-Hookgate-Vendor": "vendor", "X-Hookgate-Integration": "integration",
		"X-Hookgate-Event": "event", "X-Hookgate-Delivery": "delivery", "X-Hookgate-Event-Id": "event_id",
	}
	for k, v := range want {
		got := res.next.header.Values(k)
		switch {
		case v == "" && len(got) != 0:
			t.Errorf("%s = %q, want absent", k, got)
		case v != "" && (len(got) != 1 || got[0] != v):
			t.Errorf("%s = %q, want exactly %q", k, got, v)
		}
		if p, _ := res.repl.GetString("http.hookgate." + placeholders[k]); p != v {
			t.Errorf("{http.hookgate.%s} = %q, want %q", placeholders[k], p, v)
		}
	}
}

var eventIDPattern = regexp.MustCompile(`^evt_[0-9a-f]{32}$`)

// wantNoCredentials checks the next handler saw no bearer-like credential.
func wantNoCredentials(t *testing.T, res result, secret string) {
	t.Helper()
	for _, k := range []string{"Authorization", "X-Gitlab-Token", "X-Api-Token", "X-Bamboo-Token"} {
		if v := res.next.header.Values(k); len(v) != 0 {
			t.Errorf("next got %s: %q", k, v)
		}
	}
	q, _ := url.ParseQuery(res.next.rawQuery)
	if q.Has("token") {
		t.Errorf("next got a token query parameter: %q", res.next.rawQuery)
	}
	for k, vs := range res.next.header {
		for _, v := range vs {
			if strings.Contains(v, secret) {
				t.Errorf("next got the secret in header %s", k)
			}
		}
	}
	if strings.Contains(res.next.rawQuery, url.QueryEscape(secret)) || strings.Contains(res.next.requestURI, url.QueryEscape(secret)) {
		t.Errorf("next got the secret in the URL: %q", res.next.requestURI)
	}
}

// wantNoSecretInLogs checks that no log entry mentions a secret.
func wantNoSecretInLogs(t *testing.T, logs *observer.ObservedLogs, secrets ...string) {
	t.Helper()
	for _, e := range logs.All() {
		text := e.Message
		for k, v := range e.ContextMap() {
			text += " " + k + "=" + fmt.Sprint(v)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("log entry %q contains a secret", e.Message)
			}
		}
	}
}

func TestHandlerValidDeliveries(t *testing.T) {
	app := newTestApp(t, false)
	for _, vc := range vendorCases {
		t.Run(vc.id, func(t *testing.T) {
			h, logs := newTestHandler(app)
			r := validRequest(t, vc)
			r.Header.Set("X-Hookgate-Verified", "forged")
			r.Header["x-hookgate-integration"] = []string{"forged"}
			r.Header.Set("X-Hookgate-Delivery", "forged")
			res := serve(t, h, r)
			wantPassed(t, res, vc, "true", []byte(vc.body))
			wantNoCredentials(t, res, vc.secret)
			wantNoSecretInLogs(t, logs, vc.secret)
			if vc.bodyMAC {
				// Body MAC headers are no secret and stay for the backend.
				for k := range r.Header {
					if strings.Contains(k, "Signature") && res.next.header.Get(k) == "" {
						t.Errorf("MAC header %s removed", k)
					}
				}
			}
		})
	}
}

func TestHandlerKeepCredentials(t *testing.T) {
	app := newTestApp(t, false)
	for _, id := range []string{"gl-1", "jira-1", "sn-1", "jk-1", "bam-1"} {
		vc := caseByID(t, id)
		t.Run(id, func(t *testing.T) {
			h, _ := newTestHandler(app)
			h.KeepCredentials = true
			r := validRequest(t, vc)
			wantRaw := r.URL.RawQuery
			res := serve(t, h, r)
			wantPassed(t, res, vc, "true", []byte(vc.body))
			if res.next.rawQuery != wantRaw {
				t.Errorf("query %q, want %q kept", res.next.rawQuery, wantRaw)
			}
			found := wantRaw != ""
			for _, k := range credentialHeaders() {
				if res.next.header.Get(k) != "" {
					found = true
				}
			}
			if !found {
				t.Error("keep_credentials: the credential was removed anyway")
			}
		})
	}
}

func TestHandlerRefusals(t *testing.T) {
	app := newTestApp(t, false)
	for _, vc := range vendorCases {
		t.Run(vc.id, func(t *testing.T) {
			body := []byte(vc.body)
			cases := map[string]*http.Request{
				"wrong secret":       signedRequest(t, vc, vc.wrongSecret(), vc.path(), body),
				"missing credential": signedRequest(t, vc, "", vc.path(), body),
			}
			// Another integration's secret: the next vendor case's.
			for i, o := range vendorCases {
				if o.id == vc.id {
					other := vendorCases[(i+1)%len(vendorCases)]
					if other.effectiveScheme() == integrations.SchemeSigning || vc.effectiveScheme() == integrations.SchemeSigning {
						other = vendorCases[(i+2)%len(vendorCases)]
					}
					if vc.effectiveScheme() == integrations.SchemeSigning {
						cases["another integration's secret"] = signedRequest(t, vc, otherSigningSecret, vc.path(), body)
					} else {
						cases["another integration's secret"] = signedRequest(t, vc, other.secret, vc.path(), body)
					}
				}
			}
			if vc.bodyMAC {
				r := signedRequest(t, vc, vc.secret, vc.path(), body)
				tampered := bytes.Replace(body, []byte("{"), []byte("{ "), 1)
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(tampered)), int64(len(tampered))
				cases["tampered body"] = r
				r = signedRequest(t, vc, vc.secret, vc.path(), body)
				appended := append(append([]byte{}, body...), '\n')
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(appended)), int64(len(appended))
				cases["appended byte"] = r
			}
			// The same valid delivery through another vendor's receiver.
			for _, v := range integrations.Vendors() {
				if v != vc.vendor {
					cases["via "+string(v)+" receiver"] = signedRequest(t, vc, vc.secret, v.ReceiverPath(vc.id), body)
				}
			}
			for name, r := range cases {
				t.Run(name, func(t *testing.T) {
					h, logs := newTestHandler(app)
					r.Header.Set("X-Hookgate-Verified", "true")
					res := serve(t, h, r)
					wantUnauthorized(t, res)
					wantNoSecretInLogs(t, logs, vc.secret, vc.wrongSecret())
					reason, _ := res.repl.GetString("http.hookgate.reason")
					wantReason := "signature invalid"
					switch {
					case name == "missing credential":
						wantReason = "signature missing"
					case strings.HasPrefix(name, "via "):
						wantReason = "vendor mismatch"
					}
					if !strings.HasPrefix(reason, wantReason) {
						t.Errorf("reason %q, want %q", reason, wantReason)
					}
				})
			}
		})
	}
}

// A GitHub integration reached through the GitLab receiver with a GitLab
// style token equal to its secret must not pass: the path never chooses a
// weaker scheme.
func TestHandlerVendorMismatchWeakerScheme(t *testing.T) {
	app := newTestApp(t, false)
	h, _ := newTestHandler(app)
	gl := caseByID(t, "gl-1")
	gl.secret = "gh-secret-1"
	res := serve(t, h, signedRequest(t, gl, gl.secret, "/webhooks/ci/gitlab/gh-1", []byte(gl.body)))
	wantUnauthorized(t, res)
	if reason, _ := res.repl.GetString("http.hookgate.reason"); reason != "vendor mismatch" {
		t.Errorf("reason %q", reason)
	}
}

func TestHandlerUnknownAndMalformedIDs(t *testing.T) {
	app := newTestApp(t, false)
	gh := caseByID(t, "gh-1")
	for _, target := range []string{
		"/webhooks/ci/github/nope",
		"/webhooks/ci/github/-gh-1",
		"/webhooks/ci/github/.gh",
		"/webhooks/ci/github/gh-1/",
		"/webhooks/ci/github/a%2Fb",
		"/webhooks/ci/github/%2E%2E",
		"/webhooks/ci/github/" + strings.Repeat("a", 129),
		"/webhooks/ci/github/",
		"/webhooks/ci/github",
		"/webhooks/github/gh-1",
		"/webhooks/ci/jira/jira-1",
		"/other",
	} {
		t.Run(target, func(t *testing.T) {
			h, logs := newTestHandler(app)
			r := signedRequest(t, gh, gh.secret, target, []byte(gh.body))
			r.Header.Set("X-Hookgate-Verified", "true")
			res := serve(t, h, r)
			wantUnauthorized(t, res)
			reason, _ := res.repl.GetString("http.hookgate.reason")
			if want := "no receiver for path or malformed integration id"; target == "/webhooks/ci/github/nope" {
				if reason != "unknown integration" {
					t.Errorf("reason %q", reason)
				}
			} else if reason != want {
				t.Errorf("reason %q, want %q", reason, want)
			}
			// The caller's id is never logged for an unknown integration.
			for _, e := range logs.All() {
				if id, ok := e.ContextMap()["integration"]; ok && id != "" {
					t.Errorf("log entry %q names integration %q", e.Message, id)
				}
			}
		})
	}
}

func TestHandlerInactive(t *testing.T) {
	app := newTestApp(t, true)
	h, _ := newTestHandler(app)
	vc := caseByID(t, "gh-1")
	vc.id, vc.secret = "gh-inactive", "gh-inactive-secret"
	res := serve(t, h, validRequest(t, vc))
	wantUnauthorized(t, res)
}

func TestHandlerMethodNotAllowed(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "post"} {
		t.Run(m, func(t *testing.T) {
			h, _ := newTestHandler(app)
			r := validRequest(t, vc)
			r.Method = m
			r.Header.Set("X-Hookgate-Verified", "true")
			res := serve(t, h, r)
			if res.rec.Code != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405", res.rec.Code)
			}
			if a := res.rec.Header().Get("Allow"); a != "POST" {
				t.Errorf("Allow %q, want POST", a)
			}
			if b := res.rec.Body.String(); b != `{"error":"method not allowed"}` {
				t.Errorf("body %q", b)
			}
			wantNotPassed(t, res)
		})
	}
}

func TestHandlerTooLarge(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	big := padJSON(t, vc.body, 2*testMaxBody)
	exact := padJSON(t, vc.body, testMaxBody)

	t.Run("content-length over max_body", func(t *testing.T) {
		h, _ := newTestHandler(app)
		res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), big))
		want413(t, res)
	})
	t.Run("content-length over max_body, unsigned", func(t *testing.T) {
		h, _ := newTestHandler(app)
		res := serve(t, h, signedRequest(t, vc, "", vc.path(), big))
		want413(t, res)
	})
	t.Run("chunked over max_body", func(t *testing.T) {
		h, _ := newTestHandler(app)
		r := signedRequest(t, vc, vc.secret, vc.path(), big)
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		r.Body = io.NopCloser(iotest.OneByteReader(bytes.NewReader(big)))
		res := serve(t, h, r)
		want413(t, res)
	})
	t.Run("content-length understated", func(t *testing.T) {
		h, _ := newTestHandler(app)
		r := signedRequest(t, vc, vc.secret, vc.path(), big)
		r.ContentLength = 10
		res := serve(t, h, r)
		want413(t, res)
	})
	t.Run("MaxBytesReader below max_body", func(t *testing.T) {
		h, _ := newTestHandler(app)
		r := signedRequest(t, vc, vc.secret, vc.path(), exact)
		r.ContentLength = -1
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
		res := serve(t, h, r)
		want413(t, res)
	})
	t.Run("exactly max_body", func(t *testing.T) {
		h, _ := newTestHandler(newTestApp(t, false))
		res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), exact))
		wantPassed(t, res, vc, "true", exact)
	})
	t.Run("exactly max_body, chunked", func(t *testing.T) {
		h, _ := newTestHandler(newTestApp(t, false))
		r := signedRequest(t, vc, vc.secret, vc.path(), exact)
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		res := serve(t, h, r)
		wantPassed(t, res, vc, "true", exact)
	})
}

func want413(t *testing.T, res result) {
	t.Helper()
	if res.rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413 (body %s)", res.rec.Code, res.rec.Body)
	}
	if b := res.rec.Body.String(); b != `{"error":"payload too large"}` {
		t.Errorf("body %q", b)
	}
	wantNotPassed(t, res)
}

func TestHandlerBodyReadError(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	h, _ := newTestHandler(app)
	r := validRequest(t, vc)
	r.ContentLength = -1
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"ref"`), errReader{}))
	res := serve(t, h, r)
	if res.rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", res.rec.Code)
	}
	wantNotPassed(t, res)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestHandlerUnsigned(t *testing.T) {
	gh := caseByID(t, "gh-1")
	gh.id = "gh-nosecret"
	jira := caseByID(t, "jira-1")
	jira.id = "jira-nosecret"

	t.Run("not allowed", func(t *testing.T) {
		app := newTestApp(t, false)
		for _, vc := range []vendorCase{gh, jira} {
			h, _ := newTestHandler(app)
			res := serve(t, h, signedRequest(t, vc, "", vc.path(), []byte(vc.body)))
			wantUnauthorized(t, res)
			// A signature made with some key changes nothing.
			h, _ = newTestHandler(app)
			res = serve(t, h, signedRequest(t, vc, "anything", vc.path(), []byte(vc.body)))
			wantUnauthorized(t, res)
		}
	})
	t.Run("allowed", func(t *testing.T) {
		app := newTestApp(t, true)
		for _, vc := range []vendorCase{gh, jira} {
			h, _ := newTestHandler(app)
			r := signedRequest(t, vc, "", vc.path(), []byte(vc.body))
			r.Header.Set("X-Hookgate-Verified", "true")
			res := serve(t, h, r)
			wantPassed(t, res, vc, "unsigned", []byte(vc.body))
		}
	})
	t.Run("allowed never admits a bad credential where a secret exists", func(t *testing.T) {
		app := newTestApp(t, true)
		for _, vc := range vendorCases {
			for name, secret := range map[string]string{"wrong": vc.wrongSecret(), "missing": ""} {
				h, _ := newTestHandler(app)
				res := serve(t, h, signedRequest(t, vc, secret, vc.path(), []byte(vc.body)))
				t.Run(vc.id+" "+name, func(t *testing.T) { wantUnauthorized(t, res) })
			}
		}
		h, _ := newTestHandler(app)
		vc := caseByID(t, "gh-1")
		vc.id, vc.secret = "gh-inactive", "gh-inactive-secret"
		res := serve(t, h, validRequest(t, vc))
		t.Run("inactive", func(t *testing.T) { wantUnauthorized(t, res) })
	})
}

func TestHandlerRotation(t *testing.T) {
	vc := caseByID(t, "gh-1")
	vc.id = "gh-rotated"
	until := testNow.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		now    time.Time
		secret string
		ok     bool
	}{
		{"current before until", testNow, "gh-new-secret", true},
		{"previous before until", testNow, "gh-old-secret", true},
		{"previous just before until", until.Add(-time.Second), "gh-old-secret", true},
		{"previous at until", until, "gh-old-secret", false},
		{"previous after until", until.Add(time.Second), "gh-old-secret", false},
		{"previous long after", until.Add(30 * 24 * time.Hour), "gh-old-secret", false},
		{"current after until", until.Add(time.Hour), "gh-new-secret", true},
		{"unrelated secret", testNow, "gh-secret-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(newTestApp(t, false))
			h.now = func() time.Time { return tc.now }
			res := serve(t, h, signedRequest(t, vc, tc.secret, vc.path(), []byte(vc.body)))
			if tc.ok {
				wantPassed(t, res, vc, "true", []byte(vc.body))
			} else {
				wantUnauthorized(t, res)
			}
		})
	}
}

// GitLab signing (Standard Webhooks) checks its timestamp against the
// handler's clock, not the wall clock.
func TestHandlerSigningWindowUsesClock(t *testing.T) {
	vc := caseByID(t, "gl-signing")
	for _, tc := range []struct {
		name string
		skew time.Duration
		ok   bool
	}{
		{"on time", 0, true},
		{"4m late", 4 * time.Minute, true},
		{"6m late", 6 * time.Minute, false},
		{"6m early", -6 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(newTestApp(t, false))
			h.now = func() time.Time { return testNow.Add(tc.skew) }
			res := serve(t, h, validRequest(t, vc))
			if tc.ok {
				wantPassed(t, res, vc, "true", []byte(vc.body))
			} else {
				wantUnauthorized(t, res)
			}
		})
	}
}

// Every refusal reason answers the same bytes and headers.
func TestHandlerUniform401(t *testing.T) {
	app := newTestApp(t, false)
	gh := caseByID(t, "gh-1")
	nosecret := gh
	nosecret.id = "gh-nosecret"
	inactive := gh
	inactive.id, inactive.secret = "gh-inactive", "gh-inactive-secret"
	body := []byte(gh.body)
	tampered := signedRequest(t, gh, gh.secret, gh.path(), body)
	tampered.Body = io.NopCloser(strings.NewReader(strings.ToUpper(gh.body)))
	reqs := map[string]*http.Request{
		"wrong secret":    signedRequest(t, gh, "nope", gh.path(), body),
		"missing":         signedRequest(t, gh, "", gh.path(), body),
		"tampered":        tampered,
		"vendor mismatch": signedRequest(t, gh, gh.secret, "/webhooks/ci/gitlab/gh-1", body),
		"inactive":        validRequest(t, inactive),
		"unknown id":      signedRequest(t, gh, gh.secret, "/webhooks/ci/github/unknown-id", body),
		"malformed id":    signedRequest(t, gh, gh.secret, "/webhooks/ci/github/..", body),
		"no receiver":     signedRequest(t, gh, gh.secret, "/elsewhere", body),
		"no secret":       signedRequest(t, nosecret, "", nosecret.path(), body),
		"other secret":    signedRequest(t, gh, "gh-secret-2", gh.path(), body),
	}
	var firstName string
	var first *httptest.ResponseRecorder
	reasons := map[string]string{}
	for name, r := range reqs {
		h, _ := newTestHandler(app)
		res := serve(t, h, r)
		t.Run(name, func(t *testing.T) { wantUnauthorized(t, res) })
		reason, _ := res.repl.GetString("http.hookgate.reason")
		reasons[reason] = name
		if first == nil {
			firstName, first = name, res.rec
			continue
		}
		if !bytes.Equal(res.rec.Body.Bytes(), first.Body.Bytes()) {
			t.Errorf("%s body %q differs from %s body %q", name, res.rec.Body, firstName, first.Body)
		}
		if len(res.rec.Header()) != len(first.Header()) {
			t.Errorf("%s headers %v differ from %s headers %v", name, res.rec.Header(), firstName, first.Header())
		}
		for k := range first.Header() {
			if res.rec.Header().Get(k) != first.Header().Get(k) {
				t.Errorf("%s header %s = %q, %s has %q", name, k, res.rec.Header().Get(k), firstName, first.Header().Get(k))
			}
		}
	}
	if len(reasons) < 6 {
		t.Errorf("refusals should keep distinct reasons for the log, got %v", reasons)
	}
}

func TestHandlerExplicitReceiver(t *testing.T) {
	gh := caseByID(t, "gh-1")
	for _, tc := range []struct {
		name, vendor, integration string
		ok                        bool
	}{
		{"literal", "github", "gh-1", true},
		{"placeholders", "{test.vendor}", "{test.integration}", true},
		{"mismatched vendor", "gitlab", "gh-1", false},
		{"unknown vendor", "gitea", "gh-1", false},
		{"placeholder resolving to a malformed id", "github", "{test.bad}", false},
		{"placeholder resolving to nothing", "github", "{test.unset}", false},
		{"unknown integration", "github", "gh-404", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(newTestApp(t, false))
			h.Vendor, h.Integration = tc.vendor, tc.integration
			r := signedRequest(t, gh, gh.secret, "/legacy/github", []byte(gh.body))
			repl := caddy.NewReplacer()
			repl.Set("test.vendor", "github")
			repl.Set("test.integration", "gh-1")
			repl.Set("test.bad", "../gh-1")
			r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
			var called bool
			rec := httptest.NewRecorder()
			err := h.ServeHTTP(rec, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				called = true
				if r.Header.Get("X-Hookgate-Integration") != "gh-1" {
					t.Errorf("integration annotation %q", r.Header.Get("X-Hookgate-Integration"))
				}
				return nil
			}))
			if err != nil {
				t.Fatalf("ServeHTTP: %v", err)
			}
			if called != tc.ok {
				t.Errorf("passed = %v, want %v (status %d)", called, tc.ok, rec.Code)
			}
			if !tc.ok && (rec.Code != http.StatusUnauthorized || rec.Body.String() != `{"error":"unauthorized"}`) {
				t.Errorf("status %d body %q, want the uniform 401", rec.Code, rec.Body)
			}
		})
	}
}

// The Jira token travels in the query. The verifier reads the parameter
// name unescaped, so an escaped name is the credential as well; it must not
// reach the next handler either.
func TestHandlerStripsEscapedQueryToken(t *testing.T) {
	vc := caseByID(t, "jira-1")
	for _, q := range []string{
		"token=" + url.QueryEscape(vc.secret),
		"%74oken=" + url.QueryEscape(vc.secret),
		"x=1&to%6Ben=" + url.QueryEscape(vc.secret),
	} {
		t.Run(q, func(t *testing.T) {
			h, _ := newTestHandler(newTestApp(t, false))
			r := httptest.NewRequest(http.MethodPost, vc.path()+"?"+q, strings.NewReader(vc.body))
			for k, v := range vc.header {
				r.Header.Set(k, v)
			}
			res := serve(t, h, r)
			wantPassed(t, res, vc, "true", []byte(vc.body))
			if strings.Contains(res.next.rawQuery, vc.secret) || strings.Contains(res.next.requestURI, vc.secret) {
				t.Errorf("the token reached the next handler: RawQuery %q, RequestURI %q", res.next.rawQuery, res.next.requestURI)
			}
		})
	}
}

// Secret store failures other than "not found" answer 503 with
// Retry-After, and never 401: the vendor must retry.
func TestHandlerSecretStoreUnavailable(t *testing.T) {
	a := &App{
		AllowUnsigned: "false",
		MaxBody:       testMaxBody,
		Integrations:  testIntegrations(),
		Vault: &VaultConfig{
			Address: "http://127.0.0.1:1",
			Token:   "hvs.test-token",
			Timeout: caddy.Duration(500 * time.Millisecond),
		},
	}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	isolateState(a)
	gh := caseByID(t, "gh-1")
	vc := gh
	vc.id = "in-vault-only"
	for i := 0; i < 2; i++ { // the second lookup meets the cache's "down" state
		h, logs := newTestHandler(a)
		r := validRequest(t, vc)
		r.Header.Set("X-Hookgate-Verified", "true")
		res := serve(t, h, r)
		if res.rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("attempt %d: status %d, want 503 (body %s)", i, res.rec.Code, res.rec.Body)
		}
		if ra := res.rec.Header().Get("Retry-After"); ra == "" {
			t.Error("503 without Retry-After")
		}
		if b := res.rec.Body.String(); b != `{"error":"temporarily unavailable"}` {
			t.Errorf("body %q", b)
		}
		wantNotPassed(t, res)
		wantNoSecretInLogs(t, logs, "hvs.test-token")
	}
	// Static integrations are served while Vault is down.
	h, _ := newTestHandler(a)
	res := serve(t, h, validRequest(t, gh))
	wantPassed(t, res, gh, "true", []byte(gh.body))
	// A malformed id never reaches Vault: 401, not 503.
	h, _ = newTestHandler(a)
	res = serve(t, h, signedRequest(t, gh, gh.secret, "/webhooks/ci/github/-x", []byte(gh.body)))
	wantUnauthorized(t, res)
}

// A Vault that answers: records found, missing and malformed.
func TestHandlerVaultRecords(t *testing.T) {
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "hvs.test-token" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"errors":["permission denied"]}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/secret/data/hookgate/integrations/vault-gh":
			_, _ = io.WriteString(w, `{"data":{"data":{"vendor":"github","secret":"vault-gh-secret"},"metadata":{"version":3}}}`)
		case "/v1/secret/data/hookgate/integrations/vault-bad":
			_, _ = io.WriteString(w, `{"data":{"data":{"vendor":"gitea","secret":"x"},"metadata":{"version":1}}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"errors":[]}`)
		}
	}))
	defer vault.Close()
	a := &App{
		AllowUnsigned: "false",
		MaxBody:       testMaxBody,
		Vault:         &VaultConfig{Address: vault.URL, Token: "hvs.test-token", Timeout: caddy.Duration(2 * time.Second)},
	}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	isolateState(a)
	vc := caseByID(t, "gh-1")
	vc.id, vc.secret = "vault-gh", "vault-gh-secret"

	h, _ := newTestHandler(a)
	res := serve(t, h, validRequest(t, vc))
	wantPassed(t, res, vc, "true", []byte(vc.body))

	h, _ = newTestHandler(a)
	res = serve(t, h, signedRequest(t, vc, "wrong", vc.path(), []byte(vc.body)))
	wantUnauthorized(t, res)

	for _, id := range []string{"vault-missing", "vault-bad"} {
		bad := vc
		bad.id = id
		h, _ = newTestHandler(a)
		res = serve(t, h, validRequest(t, bad))
		t.Run(id, func(t *testing.T) { wantUnauthorized(t, res) })
	}
}

// The pooled Check must not carry one delivery's verdict into the next.
func TestHandlerCheckReuse(t *testing.T) {
	app := newTestApp(t, false)
	h, _ := newTestHandler(app)
	var pooled verifiers.Check
	h.checks = &sync.Pool{New: func() any { return &pooled }}
	for i, vc := range vendorCases {
		res := serve(t, h, validRequest(t, vc))
		t.Run(vc.id+" valid", func(t *testing.T) { wantPassed(t, res, vc, "true", []byte(vc.body)) })
		wrong := vendorCases[(i+3)%len(vendorCases)].secret
		if vc.effectiveScheme() == integrations.SchemeSigning {
			wrong = vc.wrongSecret()
		}
		res = serve(t, h, signedRequest(t, vc, wrong, vc.path(), []byte(vc.body)))
		t.Run(vc.id+" wrong", func(t *testing.T) { wantUnauthorized(t, res) })
	}
}

// githubPush8KiB is the GitHub push payload with its commit repeated until
// it is 8 KiB, padded to exactly 8 KiB.
func githubPush8KiB(t testing.TB) []byte {
	t.Helper()
	const size = 8 << 10
	var m map[string]any
	if err := json.Unmarshal([]byte(caseByID(t, "gh-1").body), &m); err != nil {
		t.Fatal(err)
	}
	commits, _ := m["commits"].([]any)
	if len(commits) == 0 {
		t.Fatal("push payload without commits")
	}
	out, _ := json.Marshal(m)
	for {
		more := append(append([]any{}, commits...), commits[0])
		m["commits"] = more
		enc, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) > size {
			break
		}
		commits, out = more, enc
	}
	return padJSON(t, string(out), size)
}

func BenchmarkHandlerGitHub8KiB(b *testing.B) {
	app := newTestApp(b, false)
	app.MaxBody = DefaultMaxBody
	h, _ := newTestHandler(app)
	h.logger = zap.NewNop()
	vc := caseByID(b, "gh-1")
	payload := githubPush8KiB(b)
	r := signedRequest(b, vc, vc.secret, vc.path(), payload)
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	// A new delivery id each time: the same delivery twice is a duplicate.
	deliveries := make([][]string, b.N)
	for i := range deliveries {
		deliveries[i] = []string{"bench-" + strconv.Itoa(i)}
	}
	body := &benchBody{}
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	w := discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body.Reset(payload)
		r.Body, r.ContentLength = body, int64(len(payload))
		r.Header["X-Github-Delivery"] = deliveries[i]
		if err := h.ServeHTTP(w, r, next); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if r.Header.Get("X-Hookgate-Verified") != "true" || r.Header.Get("X-Hookgate-Delivery") != deliveries[b.N-1][0] {
		b.Fatalf("last delivery not verified: %v", r.Header)
	}
}

func TestBenchmarkPayload(t *testing.T) {
	p := githubPush8KiB(t)
	if len(p) != 8<<10 {
		t.Fatalf("payload is %d bytes", len(p))
	}
	app := newTestApp(t, false)
	app.MaxBody = DefaultMaxBody
	h, _ := newTestHandler(app)
	vc := caseByID(t, "gh-1")
	res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), p))
	wantPassed(t, res, vc, "true", p)
}

type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header       { return w.h }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}

// Gate mode: a delivery already passed on successfully is answered as a
// duplicate; one the next handler failed goes through again on retry.
func TestHandlerDuplicate(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	send := func(status int) (result, bool) {
		h, _ := newTestHandler(app)
		r := validRequest(t, vc)
		repl := caddy.NewReplacer()
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
		rec := httptest.NewRecorder()
		called := false
		err := h.ServeHTTP(rec, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			called = true
			w.WriteHeader(status)
			return nil
		}))
		return result{rec: rec, err: err, repl: repl, req: r}, called
	}

	res, called := send(http.StatusBadGateway)
	if !called || res.rec.Code != http.StatusBadGateway {
		t.Fatalf("first delivery: called %v, status %d", called, res.rec.Code)
	}
	res, called = send(http.StatusAccepted)
	if !called || res.rec.Code != http.StatusAccepted {
		t.Fatalf("retry after a backend failure: called %v, status %d, want it passed", called, res.rec.Code)
	}
	res, called = send(http.StatusAccepted)
	if called {
		t.Fatal("a delivery already passed on reached the next handler again")
	}
	if res.rec.Code != http.StatusOK || res.rec.Header().Get("X-Hookgate-Duplicate") != "true" {
		t.Errorf("duplicate: status %d, X-Hookgate-Duplicate %q", res.rec.Code, res.rec.Header().Get("X-Hookgate-Duplicate"))
	}
	if b := res.rec.Body.String(); b != `{"duplicate":true}` {
		t.Errorf("duplicate body %q", b)
	}

	// The same body to another integration is another delivery.
	other := vc
	other.id, other.secret = "gh-2", "gh-secret-2"
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, validRequest(t, other)), other, "true", []byte(other.body))

	accepted, _, err := app.state.deliveries.Audit(context.Background(), vc.id)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range accepted {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "duplicate,passed" {
		t.Errorf("accepted audit actions (newest first) %q, want %q", got, "duplicate,passed")
	}
}

// Refusals of a known integration are audited with the signature state and
// reason; unknown and malformed ids leave no trace in the state store.
func TestHandlerAudit(t *testing.T) {
	app := newTestApp(t, false)
	gh := caseByID(t, "gh-1")
	nosecret := gh
	nosecret.id = "gh-nosecret"
	inactive := gh
	inactive.id, inactive.secret = "gh-inactive", "gh-inactive-secret"
	for _, r := range []*http.Request{
		signedRequest(t, gh, "wrong", gh.path(), []byte(gh.body)),
		signedRequest(t, gh, "", gh.path(), []byte(gh.body)),
		signedRequest(t, gh, gh.secret, "/webhooks/ci/gitlab/gh-1", []byte(gh.body)),
		signedRequest(t, nosecret, "", nosecret.path(), []byte(gh.body)),
		validRequest(t, inactive),
		signedRequest(t, gh, gh.secret, "/webhooks/ci/github/unknown-1", []byte(gh.body)),
		signedRequest(t, gh, gh.secret, "/webhooks/ci/github/-bad", []byte(gh.body)),
	} {
		h, _ := newTestHandler(app)
		wantUnauthorized(t, serve(t, h, r))
	}
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, validRequest(t, gh)), gh, "true", []byte(gh.body))

	ctx := context.Background()
	entries := func(id string) (accepted, rejected []state.AuditEntry) {
		a, r, err := app.state.deliveries.Audit(ctx, id)
		if err != nil {
			t.Fatalf("Audit(%s): %v", id, err)
		}
		return a, r
	}
	accepted, rejected := entries("gh-1")
	if len(accepted) != 1 || accepted[0].Action != "passed" || accepted[0].Signature != "valid" ||
		accepted[0].Delivery != gh.delivery || accepted[0].Event != "push" {
		t.Errorf("gh-1 accepted: %+v", accepted)
	}
	if len(rejected) != 3 {
		t.Fatalf("gh-1 rejected: %d entries, want 3: %+v", len(rejected), rejected)
	}
	for i, want := range []struct{ signature, reason string }{
		{"invalid", "vendor mismatch"}, // newest first
		{"missing", "signature missing"},
		{"invalid", "signature invalid"},
	} {
		e := rejected[i]
		if e.Signature != want.signature || !strings.Contains(e.Reason, want.reason) || e.Action != "rejected" {
			t.Errorf("gh-1 rejected[%d] = %+v, want signature %q, reason with %q", i, e, want.signature, want.reason)
		}
		if strings.Contains(e.Reason, gh.secret) {
			t.Errorf("audit reason contains the secret")
		}
	}
	if _, rej := entries("gh-nosecret"); len(rej) != 1 || rej[0].Signature != "missing" {
		t.Errorf("gh-nosecret rejected: %+v", rej)
	}
	if _, rej := entries("gh-inactive"); len(rej) != 1 || rej[0].Signature != "invalid" || !strings.Contains(rej[0].Reason, "inactive") {
		t.Errorf("gh-inactive rejected: %+v", rej)
	}
	for _, id := range []string{"unknown-1", "-bad"} {
		if a, r := entries(id); len(a)+len(r) != 0 {
			t.Errorf("%s: audit entries for an unknown id: %+v %+v", id, a, r)
		}
	}
}

// A body that verifies but is not the JSON its event needs is refused and
// never reaches the next handler.
func TestHandlerMalformedBodyAfterValidSignature(t *testing.T) {
	app := newTestApp(t, false)
	vc := caseByID(t, "gh-1")
	for _, body := range []string{`not json`, `{"ref":`, `[]`, strings.Repeat("[", 1000) + strings.Repeat("]", 1000)} {
		h, _ := newTestHandler(app)
		res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), []byte(body)))
		if res.rec.Code != http.StatusBadRequest || res.next.called {
			t.Errorf("body %.20q: status %d, passed %v; want 400, not passed", body, res.rec.Code, res.next.called)
		}
	}
}

// The event id annotation is the primary normalized event's id: stable for
// the same delivery, different for another one.
func TestHandlerEventIDStable(t *testing.T) {
	vc := caseByID(t, "gh-1")
	ids := map[string]bool{}
	for _, delivery := range []string{"d-1", "d-1", "d-2"} {
		h, _ := newTestHandler(newTestApp(t, false))
		r := validRequest(t, vc)
		r.Header.Set("X-GitHub-Delivery", delivery)
		res := serve(t, h, r)
		want := vc
		want.delivery = delivery
		wantPassed(t, res, want, "true", []byte(vc.body))
		ids[res.next.header.Get("X-Hookgate-Event-Id")] = true

		d := events.Delivery{
			Vendor: vc.vendor, Integration: vc.id, Header: res.next.header, Body: []byte(vc.body),
			Identity:    events.Identity{Event: "push", Delivery: delivery},
			DeliveryKey: events.DeliveryKey(vc.id, delivery, []byte(vc.body)),
			Signature:   "valid", Via: "webhook", ReceivedAt: testNow,
		}
		evs, _, _, err := events.Normalize(d)
		if err != nil || len(evs) == 0 {
			t.Fatalf("Normalize: %v, %d events", err, len(evs))
		}
		if got := res.next.header.Get("X-Hookgate-Event-Id"); got != evs[0].ID {
			t.Errorf("X-Hookgate-Event-Id %q, want the primary event id %q", got, evs[0].ID)
		}
	}
	if len(ids) != 2 {
		t.Errorf("event ids %v: want one per delivery", ids)
	}
}

// failingDeliveries is a state store that is down.
type failingDeliveries struct{ state.Deliveries }

func (failingDeliveries) Commit(context.Context, state.Accepted) (bool, error) {
	return false, state.ErrUnavailable
}

func (failingDeliveries) Seen(context.Context, string) (bool, error) {
	return false, state.ErrUnavailable
}

func (failingDeliveries) Mark(context.Context, string, string, time.Duration, state.AuditEntry, int) error {
	return state.ErrUnavailable
}

func (failingDeliveries) Reject(context.Context, string, state.AuditEntry, int) error {
	return state.ErrUnavailable
}

// newForwardingApp is a test app with an upstream configured (its worker is
// never started: nothing is sent).
func newForwardingApp(t *testing.T) (*App, *state.Memory) {
	t.Helper()
	a := &App{AllowUnsigned: "false", MaxBody: testMaxBody, Integrations: testIntegrations(),
		Upstream: &UpstreamConfig{URL: "http://127.0.0.1:1/v1/events"}}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("App.Provision: %v", err)
	}
	if !a.forwarding() {
		t.Fatal("an app with an upstream is not forwarding")
	}
	return a, isolateState(a)
}

// Forward mode: verified events go to the outbox before anything is
// answered; a store that is down answers 503 with Retry-After so the vendor
// retries; a duplicate is answered 200.
func TestHandlerForwarding(t *testing.T) {
	app, mem := newForwardingApp(t)
	vc := caseByID(t, "gh-1")
	ctx := context.Background()

	h, _ := newTestHandler(app)
	res := serve(t, h, validRequest(t, vc))
	wantPassed(t, res, vc, "true", []byte(vc.body))
	wantNoCredentials(t, res, vc.secret)
	if n, _, err := mem.Stats(ctx); err != nil || n == 0 {
		t.Errorf("outbox holds %d events (%v) after a verified push", n, err)
	}

	h, _ = newTestHandler(app)
	res = serve(t, h, validRequest(t, vc))
	if res.next.called || res.rec.Code != http.StatusOK || res.rec.Header().Get("X-Hookgate-Duplicate") != "true" {
		t.Errorf("duplicate: passed %v, status %d, X-Hookgate-Duplicate %q", res.next.called, res.rec.Code, res.rec.Header().Get("X-Hookgate-Duplicate"))
	}

	// Refusals never reach the outbox.
	before, _, _ := mem.Stats(ctx)
	h, _ = newTestHandler(app)
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, "wrong", vc.path(), []byte(vc.body))))
	if after, _, _ := mem.Stats(ctx); after != before {
		t.Errorf("a refused delivery changed the outbox from %d to %d", before, after)
	}

	app.state = &pooledState{deliveries: failingDeliveries{mem}, outbox: mem}
	other := caseByID(t, "bb-1")
	h, _ = newTestHandler(app)
	res = serve(t, h, validRequest(t, other))
	if res.rec.Code != http.StatusServiceUnavailable || res.rec.Header().Get("Retry-After") == "" {
		t.Errorf("store down: status %d, Retry-After %q; want 503 with Retry-After", res.rec.Code, res.rec.Header().Get("Retry-After"))
	}
	wantNotPassed(t, res)
	// A refusal is still a 401 when the store is down.
	h, _ = newTestHandler(app)
	wantUnauthorized(t, serve(t, h, signedRequest(t, other, "wrong", other.path(), []byte(other.body))))
}

// Gate mode: a store that is down does not stop a verified delivery.
func TestHandlerGateStoreDown(t *testing.T) {
	app := newTestApp(t, false)
	app.state = &pooledState{deliveries: failingDeliveries{}, outbox: nil}
	vc := caseByID(t, "gh-1")
	h, _ := newTestHandler(app)
	wantPassed(t, serve(t, h, validRequest(t, vc)), vc, "true", []byte(vc.body))
	h, _ = newTestHandler(app)
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, "wrong", vc.path(), []byte(vc.body))))
}
