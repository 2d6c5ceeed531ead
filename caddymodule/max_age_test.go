package caddymodule

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// max_age is written `off` or as a duration, globally and per
// integration; the global default is the dedupe window.
func TestMaxAgeCaddyfile(t *testing.T) {
	_, cfg := adapt(t, `{
	hookgate {
		dedupe_window 24h
		max_age off
		integration gh {
			vendor  github
			secret  s3cr3t
			max_age 3d
		}
	}
}
:8080 {
	respond 200
}`)
	app := jsonAt(t, cfg, "apps", "hookgate").(map[string]any)
	if app["max_age"] != "off" || jsonAt(t, app, "integrations", "gh", "max_age") != "3d" {
		t.Fatalf("adapted %v", app)
	}
	for _, bad := range []string{"max_age soon", "max_age -1h", "max_age 0s", "max_age"} {
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte("{\n\thookgate {\n\t\t"+bad+"\n\t}\n}\n:8080 {\n\trespond 200\n}\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "max_age") && !strings.Contains(err.Error(), "argument") {
			t.Errorf("%q: %v, want an error", bad, err)
		}
	}
}

func TestMaxAgeDefaultsToTheDedupeWindow(t *testing.T) {
	for _, tc := range []struct {
		setting string
		want    time.Duration
	}{
		{"", 24 * time.Hour},
		{"off", 0},
		{"90m", 90 * time.Minute},
		{"2d", 48 * time.Hour},
	} {
		a := &App{MaxAge: tc.setting, DedupeWindow: caddy.Duration(24 * time.Hour)}
		if err := provisionApp(t, a); err != nil {
			t.Fatalf("%q: %v", tc.setting, err)
		}
		if a.maxAge != tc.want || a.policy().MaxAge != tc.want {
			t.Errorf("max_age %q: %v, want %v", tc.setting, a.maxAge, tc.want)
		}
	}
	rec, err := IntegrationConfig{Vendor: "github", Secret: "s", MaxAge: "off"}.record("gh", caddy.NewReplacer())
	if err != nil || rec.MaxAge != integrations.MaxAgeOff || rec.EffectiveMaxAge(time.Hour) != 0 {
		t.Errorf("integration max_age off: %v %v", rec.MaxAge, err)
	}
}

// A delivery whose signed event time is older than max_age is refused 401
// and audited stale in the rejected list; the integration's own max_age
// overrides the app's, and `off` turns the check off.
func TestHandlerMaxAge(t *testing.T) {
	vc := caseByID(t, "gh-1")
	body := withPushedAt(t, vc.body, testNow.Add(-96*time.Hour))
	for _, tc := range []struct {
		name, global, own string
		want              int
	}{
		{"default window (72h)", "", "", http.StatusUnauthorized},
		{"global 5d", "5d", "", http.StatusAccepted},
		{"own 1h beats global 5d", "5d", "1h", http.StatusUnauthorized},
		{"own off", "", "off", http.StatusAccepted},
		{"global off", "off", "", http.StatusAccepted},
	} {
		ints := testIntegrations()
		ic := ints["gh-1"]
		ic.MaxAge = tc.own
		ints["gh-1"] = ic
		a := &App{AllowUnsigned: "false", MaxBody: testMaxBody, Integrations: ints, MaxAge: tc.global}
		if err := provisionApp(t, a); err != nil {
			t.Fatal(err)
		}
		isolateState(a)
		h, _ := newTestHandler(a)
		res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), body))
		if res.rec.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.rec.Code, tc.want)
			continue
		}
		_, rejected, _ := a.state.deliveries.Audit(t.Context(), "gh-1")
		if tc.want == http.StatusUnauthorized && (len(rejected) != 1 || rejected[0].Action != "stale" || rejected[0].Signature != "valid") {
			t.Errorf("%s: rejected %+v, want one stale entry", tc.name, rejected)
		}
	}
}

var pushedAt = regexp.MustCompile(`"pushed_at": *[0-9]+`)

// withPushedAt is a GitHub push body with its repository.pushed_at set.
func withPushedAt(t *testing.T, body string, at time.Time) []byte {
	t.Helper()
	if !pushedAt.MatchString(body) {
		t.Fatal("push fixture has no pushed_at")
	}
	return []byte(pushedAt.ReplaceAllString(body, `"pushed_at": `+strconv.FormatInt(at.Unix(), 10)))
}
