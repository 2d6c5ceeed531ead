// Handler tests: time windows on the handler's clock. The previous secret's
// rotation window and the GitLab signing timestamp window.

package caddymodule

import (
	"testing"
	"time"
)

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
