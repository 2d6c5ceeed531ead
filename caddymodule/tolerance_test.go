package caddymodule

import (
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// An integration's tolerance widens (or narrows) the Standard Webhooks
// timestamp window of its deliveries, never past dedupe_window: a copy
// older than the dedupe mark would otherwise pass as new.
func TestHandlerTolerancePerIntegration(t *testing.T) {
	vc := caseByID(t, "gl-signing")
	for _, tc := range []struct {
		name      string
		tolerance string
		dedupe    time.Duration
		skew      time.Duration
		ok        bool
	}{
		{"default refuses 10m late", "", 0, 10 * time.Minute, false},
		{"15m takes 10m late", "15m", 0, 10 * time.Minute, true},
		{"15m takes 10m early", "15m", 0, -10 * time.Minute, true},
		{"15m refuses 16m late", "15m", 0, 16 * time.Minute, false},
		{"1m refuses 2m late", "1m", 0, 2 * time.Minute, false},
		{"capped by dedupe_window", "15m", 8 * time.Minute, 10 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &App{AllowUnsigned: "false", MaxBody: testMaxBody, Integrations: testIntegrations(), MaxAge: "off", DedupeWindow: caddy.Duration(tc.dedupe)}
			ic := a.Integrations[vc.id]
			ic.Tolerance = tc.tolerance
			a.Integrations[vc.id] = ic
			if err := provisionApp(t, a); err != nil {
				t.Fatalf("App.Provision: %v", err)
			}
			isolateState(a)
			h, _ := newTestHandler(a)
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

// A tolerance that is not a duration between 1s and 72h is a config error.
func TestToleranceConfigErrors(t *testing.T) {
	for _, bad := range []string{"0s", "-5m", "soon", "73h", "500ms"} {
		a := &App{AllowUnsigned: "false", MaxBody: testMaxBody, MaxAge: "off",
			Integrations: map[string]IntegrationConfig{"gl-x": {Vendor: "gitlab", Scheme: "signing", Secret: "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Ng==", Tolerance: bad}}}
		if err := provisionApp(t, a); err == nil {
			t.Errorf("tolerance %q: provisioned", bad)
		}
	}
}

// tolerance is an integration subdirective taking one duration.
func TestToleranceCaddyfile(t *testing.T) {
	_, cfg := adapt(t, `{
	hookgate {
		integration gl {
			vendor    gitlab
			scheme    signing
			secret    {env.GL_SIGNING}
			tolerance 30m
		}
	}
}
:8080 {
	respond 200
}`)
	if got := jsonAt(t, cfg, "apps", "hookgate", "integrations", "gl", "tolerance"); got != "30m" {
		t.Fatalf("tolerance adapted to %v", got)
	}
	for _, bad := range []string{"tolerance soon", "tolerance 0s", "tolerance 100h", "tolerance", "tolerance 5m 6m"} {
		src := "{\n\thookgate {\n\t\tintegration gl {\n\t\t\tvendor gitlab\n\t\t\t" + bad + "\n\t\t}\n\t}\n}\n:8080 {\n\trespond 200\n}\n"
		if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(src), nil); err == nil {
			t.Errorf("%q: adapted, want an error", bad)
		}
	}
}
