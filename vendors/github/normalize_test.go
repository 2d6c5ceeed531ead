package github

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestIdentify: X-GitHub-Event, X-GitHub-Delivery and X-GitHub-Hook-ID,
// however the header was spelled; an event name or hook id that cannot go
// into a log line is dropped, a delivery id hashed.
func TestIdentify(t *testing.T) {
	h := http.Header{}
	h.Set("X-GitHub-Event", "push")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h.Set("X-GitHub-Hook-ID", "292430182")
	want := events.Identity{Event: "push", Delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Hook: "292430182"}
	if got := events.Identify(Vendor, Vendor.DefaultScheme(), h, []byte(`{"event":"x","delivery":"y"}`)); got != want {
		t.Fatalf("Identify = %+v, want %+v", got, want)
	}
	h = http.Header{"X-Github-Event": {"ping\x00"}, "X-Github-Delivery": {strings.Repeat("d", 257)}, "X-Github-Hook-Id": {"7\n"}}
	if got := events.Identify(Vendor, Vendor.DefaultScheme(), h, nil); got.Event != "" || got.Hook != "" || !strings.HasPrefix(got.Delivery, "sha256:") || len(got.Delivery) != 39 {
		t.Fatalf("unprintable event or hook kept, or long delivery id not hashed: %+v", got)
	}
	if got := events.Identify(Vendor, Vendor.DefaultScheme(), nil, nil); got != (events.Identity{}) {
		t.Fatalf("no header: %+v", got)
	}
}

// TestIsForm: the media type decides, in any case, whatever its
// parameters.
func TestIsForm(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/x-www-form-urlencoded":                true,
		"Application/X-WWW-Form-Urlencoded; charset=utf-8": true,
		" application/x-www-form-urlencoded ;x=y":          true,
		"application/json":                                 false,
		"":                                                 false,
		"application/x-www-form-urlencoded-not":            false,
	} {
		if got := isForm(ct); got != want {
			t.Errorf("isForm(%q) = %v, want %v", ct, got, want)
		}
	}
}

// delivery is a GitHub delivery of event with body.
func delivery(event, contentType, body string) events.Delivery {
	h := http.Header{}
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", "d-1")
	h.Set("Content-Type", contentType)
	return payloads.Inline(Vendor, h, event, []byte(body))
}

// TestNormalize: what each GitHub event yields, and why the others are
// ignored.
func TestNormalize(t *testing.T) {
	const repo = `"repository":{"full_name":"acme/api"},"sender":{"login":"dana"}`
	for _, c := range []struct {
		name, event, body string
		typ               string // "" for ignored
		branch, commit    string
		reason            string // a part of the ignore reason
	}{
		{"branch push", "push", `{"ref":"refs/heads/main","after":"abc",` + repo + `}`, events.TypePush, "main", "abc", ""},
		{"tag push", "push", `{"ref":"refs/tags/v1","after":"abc",` + repo + `}`, events.TypeTag, "refs/tags/v1", "abc", ""},
		{"deleted", "push", `{"ref":"refs/heads/x","after":"abc","deleted":true,` + repo + `}`, "", "", "", "deletes"},
		{"zero after", "push", `{"ref":"refs/heads/x","after":"0000000000000000000000000000000000000000",` + repo + `}`, "", "", "", "deletes"},
		{"notes ref", "push", `{"ref":"refs/notes/commits","after":"abc",` + repo + `}`, "", "", "", "neither branch nor tag"},
		{"pr opened", "pull_request", `{"action":"opened","number":3,"pull_request":{"head":{"ref":"fix","sha":"def"}},` + repo + `}`, events.TypePullRequest, "fix", "def", ""},
		{"pr synchronize", "pull_request", `{"action":"synchronize","number":4,"pull_request":{"number":4,"head":{"ref":"fix","sha":"def"}},` + repo + `}`, events.TypePullRequest, "fix", "def", ""},
		{"pr labeled", "pull_request", `{"action":"labeled","number":3,"pull_request":{"number":3},` + repo + `}`, "", "", "", "brings no code"},
		{"ping", "ping", `{"zen":"x","hook_id":7,` + repo + `}`, events.TypePing, "", "", ""},
		{"workflow run completed", "workflow_run", `{"action":"completed","workflow_run":{"head_branch":"main","head_sha":"123"},` + repo + `}`, events.TypeBuild, "main", "123", ""},
		{"check suite completed", "check_suite", `{"action":"completed","check_suite":{"head_branch":"dev","head_sha":"456"},` + repo + `}`, events.TypeBuild, "dev", "456", ""},
		{"workflow run requested", "workflow_run", `{"action":"requested","workflow_run":{},` + repo + `}`, "", "", "", "not a finished build"},
		{"star", "star", `{}`, "", "", "", `github event "star" is not used`},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, ign, reason, err := events.Normalize(delivery(c.event, "application/json", c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.typ == "" {
				if !ign || !strings.Contains(reason, c.reason) {
					t.Fatalf("ignored=%v reason %q, want one containing %q", ign, reason, c.reason)
				}
				return
			}
			if ign || len(evs) != 1 {
				t.Fatalf("ignored=%v (%s), %d events", ign, reason, len(evs))
			}
			e := evs[0]
			if e.Type != c.typ || e.CI.Branch != c.branch || e.CI.Commit != c.commit || e.CI.Repository != "acme/api" || e.CI.Actor != "dana" {
				t.Errorf("event %s %+v", e.Type, *e.CI)
			}
			if e.Source.Vendor != "github" || e.Source.Event != c.event || e.Source.Delivery != "d-1" {
				t.Errorf("source %+v", e.Source)
			}
		})
	}
}

// TestNormalizeForm: a form-encoded delivery is its payload field; a form
// without one, with more than one (readers differ on which they take), or
// whose payload is not JSON, is malformed.
func TestNormalizeForm(t *testing.T) {
	body, d, err := payloads.Load("github/push--form.txt")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, _, err := events.Normalize(d)
	if err != nil || len(evs) != 1 || evs[0].CI.Branch != "release/2.7" {
		t.Fatalf("form push: %+v %v", evs, err)
	}
	asJSON := delivery("push", "application/json", string(body))
	if _, _, _, err := events.Normalize(asJSON); !errors.Is(err, events.ErrMalformed) {
		t.Errorf("form body sent as JSON: err %v, want ErrMalformed", err)
	}
	for _, b := range []string{`ref=main`, `payload=%7B`, `payload=` + strings.Repeat("%5B", events.MaxDepth+1)} {
		if _, _, _, err := events.Normalize(delivery("push", "application/x-www-form-urlencoded", b)); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%q: err %v, want ErrMalformed", b, err)
		}
	}
	payload := strings.TrimPrefix(strings.TrimSpace(string(body)), "payload=")
	evil := url.QueryEscape(strings.Replace(mustUnescape(t, payload), "release/2.7", "evil", 1))
	for _, b := range []string{"payload=" + payload + "&payload=" + evil, "payload=" + evil + "&x=1&payload=" + payload, "payload=" + payload + "&pay%6Coad=" + evil} {
		_, _, _, err := events.Normalize(delivery("push", "application/x-www-form-urlencoded", b))
		if !errors.Is(err, events.ErrMalformed) || !strings.HasSuffix(err.Error(), ": form with more than one payload") {
			t.Errorf("two payloads: err %v, want ErrMalformed (form with more than one payload)", err)
		}
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPushedAt: a push's repository.pushed_at is unix seconds (an RFC 3339
// string in other events' repository); either is the push's time, and
// what cannot be read is none.
func TestPushedAt(t *testing.T) {
	for _, c := range []struct {
		pushedAt string
		want     time.Time
	}{
		{`1741084210`, time.Unix(1741084210, 0).UTC()},
		{`"2025-03-04T10:30:10Z"`, time.Unix(1741084210, 0).UTC()},
		{`"last tuesday"`, payloads.Received},
		{`null`, payloads.Received},
		{`0`, payloads.Received},
	} {
		body := `{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"a/b","pushed_at":` + c.pushedAt + `}}`
		evs, _, _, err := events.Normalize(delivery("push", "application/json", body))
		if err != nil {
			t.Fatalf("pushed_at %s: %v", c.pushedAt, err)
		}
		if !evs[0].OccurredAt.Equal(c.want) {
			t.Errorf("pushed_at %s: occurred %v, want %v", c.pushedAt, evs[0].OccurredAt, c.want)
		}
	}
}
