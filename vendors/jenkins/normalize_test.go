package jenkins

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestIdentify: Jenkins registers no Identify of its own: the template's
// `event` and `delivery` fields, the event `build` when the body names
// none (the notification plugin never does).
func TestIdentify(t *testing.T) {
	for body, want := range map[string]events.Identity{
		`{"build":{"phase":"FINALIZED"}}`:              {Event: "build"},
		`{"event":"nightly","delivery":"j-318","x":1}`: {Event: "nightly", Delivery: "j-318"},
		`not json`: {Event: "build"},
	} {
		if got := events.Identify(Vendor, Vendor.DefaultScheme(), nil, []byte(body)); got != want {
			t.Errorf("Identify(%s) = %+v, want %+v", body, got, want)
		}
	}
}

// TestJenkinsBranch: what the Git plugin puts before a branch name goes.
func TestJenkinsBranch(t *testing.T) {
	for in, want := range map[string]string{
		"origin/main":               "main",
		"refs/remotes/origin/rel/2": "rel/2",
		"refs/heads/dev":            "dev",
		"feature/x":                 "feature/x",
		"":                          "",
		"upstream/main":             "upstream/main",
	} {
		if got := jenkinsBranch(in); got != want {
			t.Errorf("jenkinsBranch(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNormalize: only FINALIZED yields ci.build, at timestamp plus
// duration; a notification without build is malformed.
func TestNormalize(t *testing.T) {
	_, d, err := payloads.Load("jenkins/build-finalized.json")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, _, err := events.Normalize(d)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, err %v", len(evs), err)
	}
	e := evs[0]
	if want := time.UnixMilli(1741099001000 + 184233).UTC(); !e.OccurredAt.Equal(want) {
		t.Errorf("occurred %v, want %v", e.OccurredAt, want)
	}
	if e.Type != events.TypeBuild || e.CI.Repository != "acme/payments-api" || e.CI.Branch != "main" || e.CI.URL != "https://jenkins.example.com/job/payments-api-ci/318/" {
		t.Errorf("%s %+v", e.Type, *e.CI)
	}

	for _, phase := range []string{"QUEUED", "STARTED", "COMPLETED", ""} {
		body := `{"build":{"phase":"` + phase + `","scm":{"branch":"origin/main"}}}`
		_, ign, reason, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(body)))
		if err != nil || !ign || !strings.Contains(reason, "is not FINALIZED") {
			t.Errorf("phase %q: ignored=%v reason %q err %v", phase, ign, reason, err)
		}
	}
	// Template vendors send numbers as strings too; no time gives the receive time.
	evs, _, _, err = events.Normalize(payloads.Inline(Vendor, nil, "", []byte(`{"build":{"phase":"FINALIZED","timestamp":"1741099001000","duration":"1000"}}`)))
	if err != nil || len(evs) != 1 || !evs[0].OccurredAt.Equal(time.UnixMilli(1741099002000)) {
		t.Errorf("string timestamp: %+v, err %v", evs, err)
	}
	evs, _, _, err = events.Normalize(payloads.Inline(Vendor, nil, "", []byte(`{"build":{"phase":"FINALIZED","duration":5000}}`)))
	if err != nil || len(evs) != 1 || !evs[0].OccurredAt.Equal(payloads.Received) {
		t.Errorf("no timestamp: %+v, err %v", evs, err)
	}
	for _, body := range []string{`{"name":"job"}`, `{"build":{"phase":"FINALIZED","timestamp":"soon"}}`} {
		if _, _, _, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(body))); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", body, err)
		}
	}
}
