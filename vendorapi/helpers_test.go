package vendorapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// No vendor SaaS is reachable from these machines: every test here talks to
// a local HTTP server (fakeGitHubAPI and its siblings) that answers with the
// request and response shapes of the vendor's public REST documentation and
// asserts what hookgate sends.

const (
	testSecret   = "hook-secret-5f2a9c1e7d"
	testAPIToken = "api-token-Q7xL2pZ9"
	testReceiver = "https://hooks.example.com/webhooks/ci/github/pay-gh"
	foreignURL   = "https://ci.other-team.example/hook"
	foreignToken = "their-own-secret"
)

// fakeBase is what every fake vendor API shares: a lock, the requests seen,
// and a forced failure status.
type fakeBase struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	requests []string // "METHOD escaped-path"
	// fail, when not zero, is answered to every request with failBody.
	fail     int
	failBody string
}

// start serves h on a local test server, recording each request and
// answering fail when it is set.
func (f *fakeBase) start(t *testing.T, h http.HandlerFunc) {
	f.t = t
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath())
		fail, body := f.fail, f.failBody
		f.mu.Unlock()
		if fail != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(fail)
			io.WriteString(w, body)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
}

func (f *fakeBase) setFail(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.failBody = status, body
}

func (f *fakeBase) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// decode reads a JSON request body into v; a malformed body fails the test.
func (f *fakeBase) decode(r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		f.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// basicAuth is the Authorization value for user and password.
func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// mustNotLeak fails when text carries the webhook secret or API token.
func mustNotLeak(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{testSecret, testAPIToken, foreignToken, base64.StdEncoding.EncodeToString([]byte(":" + testAPIToken))} {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks a secret: %q", what, text)
		}
	}
}

// lifecycle runs the registration contract every API vendor keeps: the
// first Register creates, the second with the same receiver URL updates
// the same hook, exactly one hook of ours exists afterwards, and the
// foreign hook is untouched.
func lifecycle(t *testing.T, rec integrations.Record, hook Hook, ours func() int, foreignIntact func() bool) Result {
	t.Helper()
	ctx := context.Background()
	first, err := Register(ctx, nil, rec, hook)
	if err != nil {
		t.Fatalf("first Register: %v", err)
	}
	if !first.Registered || !first.Created || first.HookID == "" {
		t.Fatalf("first Register: %+v, want registered, created, with a hook id", first)
	}
	second, err := Register(ctx, nil, rec, hook)
	if err != nil {
		t.Fatalf("second Register: %v", err)
	}
	if !second.Registered || second.Created || second.HookID != first.HookID {
		t.Fatalf("second Register: %+v, want the same hook %q updated", second, first.HookID)
	}
	if n := ours(); n != 1 {
		t.Fatalf("%d hooks point at the receiver after two Registers, want 1", n)
	}
	if !foreignIntact() {
		t.Fatal("the hook pointing elsewhere was changed")
	}
	mustNotLeak(t, "result", first.ManualSteps+second.ManualSteps)
	return second
}

// expectAPIError checks a forced vendor failure comes back as an APIError
// naming the status and nothing secret.
func expectAPIError(t *testing.T, err error, status int) {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != status {
		t.Fatalf("err = %v, want an APIError with status %d", err, status)
	}
	if msg := err.Error(); !strings.Contains(msg, http.StatusText(status)) || !strings.Contains(msg, itoa(status)) {
		t.Errorf("error %q does not name status %d", msg, status)
	}
	mustNotLeak(t, "error", err.Error())
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
