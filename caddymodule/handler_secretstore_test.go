// Handler tests: integrations read from Vault, and a secret store that is
// down.

package caddymodule

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// Secret store failures other than "not found" answer 503 with
// Retry-After, and never 401: the vendor must retry.
func TestHandlerSecretStoreUnavailable(t *testing.T) {
	a := &App{MaxAge: "off",
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
	a := &App{MaxAge: "off",
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
