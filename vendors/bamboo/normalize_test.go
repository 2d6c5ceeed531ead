package bamboo

import (
	"errors"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestIdentify: the template's `event` and `delivery` fields, the event
// `build` when the body names none; the delivery is the webhook's
// ${bamboo.webhook.uuid}, and a variable Bamboo left unsubstituted is no
// delivery id (each build would otherwise repeat the same literal one and
// be a duplicate of the first).
func TestIdentify(t *testing.T) {
	for body, want := range map[string]events.Identity{
		`{"planKey":"A-B"}`: {Event: "build"},
		`{"planKey":"A-B","delivery":"5c1e8a5e-2b8a-4c55-9d3e-0f4b1a2c3d4e"}`: {Event: "build", Delivery: "5c1e8a5e-2b8a-4c55-9d3e-0f4b1a2c3d4e"},
		`{"event":"build","delivery":"${bamboo.webhook.uuid}"}`:               {Event: "build"},
		`{"event":"${bamboo.event}","delivery":"${bamboo.buildResultKey}"}`:   {Event: "build"},
		`{"event":"build.finished","delivery":"ACME-API-271"}`:                {Event: "build.finished", Delivery: "ACME-API-271"},
	} {
		if got := events.Identify(Vendor, Vendor.DefaultScheme(), nil, []byte(body)); got != want {
			t.Errorf("Identify(%s) = %+v, want %+v", body, got, want)
		}
	}
}

// TestResolved: a variable Bamboo left as written counts as absent.
func TestResolved(t *testing.T) {
	for in, want := range map[string]string{
		"${bamboo.planRepository.revision}": "",
		"${}":                               "",
		"abc":                               "abc",
		"${partial":                         "${partial",
		"x${bamboo.y}":                      "x${bamboo.y}",
	} {
		if got := resolved(in); got != want {
			t.Errorf("resolved(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNormalize: one ci.build per template, unresolved variables absent,
// the repository the path of the plan repository URL; a template naming
// neither plan, result nor repository is malformed.
func TestNormalize(t *testing.T) {
	_, d, err := payloads.Load("bamboo/build-failed--full.json")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, _, err := events.Normalize(d)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, err %v", len(evs), err)
	}
	e := evs[0]
	if e.Type != events.TypeBuild || e.CI.Repository != "web/portal" || e.CI.Branch != "feature/sso-login" || e.CI.Actor != "" ||
		e.CI.URL != "https://bamboo.example.com/browse/ACME-WEB-88" || !e.OccurredAt.Equal(time.Date(2025, 3, 4, 17, 2, 33, 0, time.UTC)) {
		t.Errorf("%s at %v: %+v", e.Type, e.OccurredAt, *e.CI)
	}
	evs, _, _, err = events.Normalize(payloads.Inline(Vendor, nil, "", []byte(`{"planKey":"A-B","branchName":" refs/heads/main ","revision":"${bamboo.repository.revision}","buildNumber":7}`)))
	if err != nil || len(evs) != 1 || evs[0].CI.Branch != "main" || evs[0].CI.Commit != "" {
		t.Errorf("branch and unresolved revision: %+v, err %v", evs, err)
	}
	for _, body := range []string{`{"buildState":"Failed"}`, `{"planKey":1}`} {
		if _, _, _, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(body))); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", body, err)
		}
	}
}
