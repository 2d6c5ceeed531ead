// Handler tests: receivers. Which paths and methods reach verification, and
// the explicit vendor/integration receiver.

package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

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
