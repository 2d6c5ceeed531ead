// Handler tests: the allow_unsigned policy.

package caddymodule

import (
	"testing"
)

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
