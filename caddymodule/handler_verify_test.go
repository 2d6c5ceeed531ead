// Handler tests: verification. Valid deliveries pass; wrong, missing or
// borrowed credentials, tampered bodies, vendor mismatches and inactive
// integrations are refused with the same 401; the pooled Check is reset.

package caddymodule

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

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

func TestHandlerInactive(t *testing.T) {
	app := newTestApp(t, true)
	h, _ := newTestHandler(app)
	vc := caseByID(t, "gh-1")
	vc.id, vc.secret = "gh-inactive", "gh-inactive-secret"
	res := serve(t, h, validRequest(t, vc))
	wantUnauthorized(t, res)
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
