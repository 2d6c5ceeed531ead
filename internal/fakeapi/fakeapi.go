// Package fakeapi is what the tests of vendorapi and of the vendor packages
// (vendors/<name>) share to test a vendor's hook API without the vendor: no
// vendor SaaS is reachable from the test machines, so every such test talks
// to a local HTTP server that answers with the request and response shapes
// of the vendor's public REST documentation and asserts what hookgate
// sends.
//
// Server is the base every fake vendor API embeds (requests seen, a forced
// failure, a lock); Lifecycle and ExpectAPIError are the contracts every API
// vendor keeps; ManualOnly is the one every vendor without a hook API
// keeps; the constants are the secrets and URLs the tests use, and
// MustNotLeak checks none of the secrets shows.
package fakeapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// The secrets and URLs the tests use.
const (
	// Secret is the integration's webhook secret.
	Secret = "hook-secret-5f2a9c1e7d"
	// APIToken is the record's API token.
	APIToken = "api-token-Q7xL2pZ9"
	// Receiver is hookgate's receiver URL.
	Receiver = "https://hooks.example.com/webhooks/ci/github/pay-gh"
	// ForeignURL is where someone else's hook on the same repository
	// points; it must never be changed.
	ForeignURL = "https://ci.other-team.example/hook"
	// ForeignToken is that other hook's secret.
	ForeignToken = "their-own-secret"
)

// Server is what every fake vendor API shares: a lock, the requests seen,
// and a forced failure status. A fake embeds it and calls Start with its
// handler; the handler runs with the lock held, and the fake's own
// accessors take it (Lock, Unlock) to read its state.
type Server struct {
	sync.Mutex
	// T is the test the server was started for; handlers report to it.
	T        *testing.T
	srv      *httptest.Server
	requests []string // "METHOD escaped-path"
	// fail, when not zero, is answered to every request with failBody.
	fail     int
	failBody string
}

// Start serves h on a local test server closed when t ends, recording each
// request and answering the forced failure when one is set.
func (f *Server) Start(t *testing.T, h http.HandlerFunc) {
	f.T = t
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath())
		fail, body := f.fail, f.failBody
		f.Unlock()
		if fail != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(fail)
			io.WriteString(w, body)
			return
		}
		f.Lock()
		defer f.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
}

// URL is the server's base URL, http://127.0.0.1:<port>.
func (f *Server) URL() string { return f.srv.URL }

// SetFail makes every later request answer status with body.
func (f *Server) SetFail(status int, body string) {
	f.Lock()
	defer f.Unlock()
	f.fail, f.failBody = status, body
}

// Seen lists the requests so far, each "METHOD escaped-path".
func (f *Server) Seen() []string {
	f.Lock()
	defer f.Unlock()
	return append([]string(nil), f.requests...)
}

// Decode reads a JSON request body into v; a body that is not JSON, or not
// sent as application/json, fails the test.
func (f *Server) Decode(r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.T.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		f.T.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		return false
	}
	return true
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// BasicAuth is the Authorization value for user and password.
func BasicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// MustNotLeak fails when text carries the webhook secret or API token.
func MustNotLeak(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{Secret, APIToken, ForeignToken, base64.StdEncoding.EncodeToString([]byte(":" + APIToken))} {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks a secret: %q", what, text)
		}
	}
}

// Lifecycle runs the registration contract every API vendor keeps: the
// first Register creates, the second with the same receiver URL updates
// the same hook, exactly one hook of ours exists afterwards, and the
// foreign hook is untouched. It returns the second Result.
func Lifecycle(t *testing.T, rec integrations.Record, hook vendorapi.Hook, ours func() int, foreignIntact func() bool) vendorapi.Result {
	t.Helper()
	ctx := context.Background()
	first, err := vendorapi.Register(ctx, nil, rec, hook)
	if err != nil {
		t.Fatalf("first Register: %v", err)
	}
	if !first.Registered || !first.Created || first.HookID == "" {
		t.Fatalf("first Register: %+v, want registered, created, with a hook id", first)
	}
	second, err := vendorapi.Register(ctx, nil, rec, hook)
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
	MustNotLeak(t, "result", first.ManualSteps+second.ManualSteps)
	return second
}

// ExpectAPIError checks a forced vendor failure comes back as an
// *vendorapi.APIError naming the status and nothing secret.
func ExpectAPIError(t *testing.T, err error, status int) {
	t.Helper()
	var ae *vendorapi.APIError
	if !errors.As(err, &ae) || ae.Status != status {
		t.Fatalf("err = %v, want an APIError with status %d", err, status)
	}
	if msg := err.Error(); !strings.Contains(msg, http.StatusText(status)) || !strings.Contains(msg, strconv.Itoa(status)) {
		t.Errorf("error %q does not name status %d", msg, status)
	}
	MustNotLeak(t, "error", err.Error())
}

// ManualCase is one scheme's manual steps of a vendor without a hook API.
type ManualCase struct {
	// Scheme is the record's scheme; "" is the vendor's default.
	Scheme integrations.Scheme
	// Want must all appear in the steps: the header name from VENDORS.md
	// and a piece of the body template from events/TEMPLATES.md.
	Want []string
	// UserInfoURL says the steps give the receiver URL only with user info
	// in it (Jenkins' notification plugin under basic), so the plain URL
	// is not required.
	UserInfoURL bool
}

// ManualOnly runs the contract every vendor without a hook API keeps, for
// tc.Scheme: ManualSteps names the receiver URL (unless tc.UserInfoURL) and
// its path, the secret's placeholder and every string of tc.Want, and never
// the secret; Register answers the same steps without registering or
// calling anything; SendTest sends nothing and fails nothing.
func ManualOnly(t *testing.T, vendor integrations.Vendor, tc ManualCase) {
	t.Helper()
	rec := integrations.Record{ID: "int-1", Vendor: vendor, Scheme: tc.Scheme, Secret: Secret, APIToken: APIToken}
	receiver := "https://hooks.example.com" + vendor.ReceiverPath("int-1")
	steps := vendorapi.ManualSteps(rec, receiver)
	want := append([]string{receiver[len("https://hooks.example.com"):], "<the secret from `caddy hookgate reveal int-1`>"}, tc.Want...)
	if !tc.UserInfoURL {
		want = append(want, receiver)
	}
	for _, w := range want {
		if !strings.Contains(steps, w) {
			t.Errorf("steps lack %q:\n%s", w, steps)
		}
	}
	MustNotLeak(t, "manual steps", steps)

	// Register answers the same steps and calls nothing.
	res, err := vendorapi.Register(context.Background(), nil, rec, vendorapi.Hook{URL: receiver, Secret: Secret})
	if err != nil || res.Registered || res.ManualSteps != steps || res.HookID != "" {
		t.Errorf("Register = %+v, %v", res, err)
	}
	if td, err := vendorapi.SendTest(context.Background(), nil, rec, "x"); td.Sent || err != nil {
		t.Errorf("SendTest = %+v, %v", td, err)
	}
}

// RoundTripFunc is an http.RoundTripper made of a function, for a client
// that inspects or stops a request before the network.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FailingClient fails the test on any request: settings errors must be
// found before the network.
func FailingClient(t *testing.T) *http.Client {
	return &http.Client{Transport: RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("unexpected request to %s", r.URL.Host)
		return nil, errors.New("no network in this test")
	})}
}

// WantFirstRequest checks that registering rec's hook (no api_url: the
// vendor's default) sends its first request to want. The request never
// leaves the process.
func WantFirstRequest(t *testing.T, rec integrations.Record, want string) {
	t.Helper()
	var got string
	c := &http.Client{Transport: RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.String()
		return nil, errors.New("stop here")
	})}
	_, err := vendorapi.Register(context.Background(), c, rec, vendorapi.Hook{URL: Receiver, Secret: Secret})
	if err == nil || got != want {
		t.Errorf("%s: first request %q (err %v), want %q", rec.Vendor, got, err, want)
	}
}

// WantTemplateInDoc checks that template, the body a vendor's manual steps
// paste, is the one events/TEMPLATES.md documents (and events.Normalize is
// tested against). It is called from a vendor package's directory.
func WantTemplateInDoc(t *testing.T, vendor integrations.Vendor, template string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "events", "TEMPLATES.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "\n"+template+"```") {
		t.Errorf("%s template differs from events/TEMPLATES.md", vendor)
	}
}
