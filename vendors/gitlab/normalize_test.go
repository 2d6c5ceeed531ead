package gitlab

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestIdentify: the event is X-Gitlab-Event; the delivery id is Webhook-Id
// only when the record verifies signing tokens, else the first of
// Idempotency-Key, X-Gitlab-Webhook-UUID and X-Gitlab-Event-UUID.
func TestIdentify(t *testing.T) {
	all := http.Header{}
	all.Set("X-Gitlab-Event", "Push Hook")
	all.Set("Webhook-Id", "msg_1")
	all.Set("Idempotency-Key", "idem-1")
	all.Set("X-Gitlab-Webhook-UUID", "hook-1")
	all.Set("X-Gitlab-Event-UUID", "event-1")
	for _, c := range []struct {
		name   string
		scheme integrations.Scheme
		drop   []string
		want   string
	}{
		{"signing: Webhook-Id", integrations.SchemeSigning, nil, "msg_1"},
		{"signing without Webhook-Id", integrations.SchemeSigning, []string{"Webhook-Id"}, "idem-1"},
		{"token ignores Webhook-Id", integrations.SchemeToken, nil, "idem-1"},
		{"webhook uuid", integrations.SchemeToken, []string{"Idempotency-Key"}, "hook-1"},
		{"event uuid", integrations.SchemeToken, []string{"Idempotency-Key", "X-Gitlab-Webhook-UUID"}, "event-1"},
		{"none", integrations.SchemeToken, []string{"Idempotency-Key", "X-Gitlab-Webhook-UUID", "X-Gitlab-Event-UUID"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := all.Clone()
			for _, k := range c.drop {
				h.Del(k)
			}
			want := events.Identity{Event: "Push Hook", Delivery: c.want}
			if got := events.Identify(Vendor, c.scheme, h, nil); got != want {
				t.Fatalf("Identify = %+v, want %+v", got, want)
			}
		})
	}
}

// TestNormalize: the header picks the kind, or for a System Hook (or no
// header) the body; what each kind yields.
func TestNormalize(t *testing.T) {
	const project = `"project":{"path_with_namespace":"grp/app","web_url":"https://gl.example/grp/app/"},"user_username":"ana"`
	for _, c := range []struct {
		name, header, body string
		typ                string // "" for ignored
		branch, event      string // the event name the source carries
		reason             string
	}{
		{"push", "Push Hook", `{"object_kind":"push","ref":"refs/heads/main","after":"a1","checkout_sha":"a1",` + project + `}`, events.TypePush, "main", "Push Hook", ""},
		{"system hook push", "System Hook", `{"object_kind":"push","ref":"refs/heads/main","after":"a1",` + project + `}`, events.TypePush, "main", "System Hook", ""},
		{"no header: event_name", "", `{"event_name":"tag_push","ref":"refs/tags/v2","after":"a1",` + project + `}`, events.TypeTag, "refs/tags/v2", "tag_push", ""},
		{"deleted branch", "Push Hook", `{"object_kind":"push","ref":"refs/heads/x","after":"0000000000000000000000000000000000000000",` + project + `}`, "", "", "", "deletes"},
		{"mr open", "Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"action":"open","iid":5,"source_branch":"fix","last_commit":{"id":"c1"}},` + project + `}`, events.TypePullRequest, "fix", "Merge Request Hook", ""},
		{"mr update with commits", "Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"action":"update","oldrev":"o","iid":5,"source_branch":"fix"},` + project + `}`, events.TypePullRequest, "fix", "Merge Request Hook", ""},
		{"mr update without commits", "Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"action":"update","iid":5},` + project + `}`, "", "", "", "brings no code"},
		{"system hook mr opened", "System Hook", `{"object_kind":"merge_request","object_attributes":{"state":"opened","iid":5,"source_branch":"fix"},` + project + `}`, events.TypePullRequest, "fix", "System Hook", ""},
		{"pipeline success", "Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"ref":"main","sha":"s1","status":"success"},` + project + `}`, events.TypeBuild, "main", "Pipeline Hook", ""},
		{"tag pipeline", "Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"ref":"v3","tag":true,"sha":"s1","status":"failed"},` + project + `}`, events.TypeBuild, "refs/tags/v3", "Pipeline Hook", ""},
		{"pipeline running", "Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"ref":"main","status":"running"},` + project + `}`, "", "", "", "not final"},
		{"note hook", "Note Hook", `{"object_kind":"note"}`, "", "", "", `gitlab event "Note Hook" is not used`},
		{"system hook of a group", "System Hook", `{"event_name":"group_create"}`, "", "", "", `gitlab event "group_create" is not used`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.header != "" {
				h.Set("X-Gitlab-Event", c.header)
			}
			evs, ign, reason, err := events.Normalize(payloads.Inline(Vendor, h, "", []byte(c.body)))
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
			if e.Type != c.typ || e.CI.Branch != c.branch || e.CI.Repository != "grp/app" || e.CI.Actor != "ana" || e.Source.Event != c.event {
				t.Errorf("event %s from %q: %+v", e.Type, e.Source.Event, *e.CI)
			}
		})
	}
}

// TestPushURL: a push links to its commit under the project's web URL.
func TestPushURL(t *testing.T) {
	body := `{"object_kind":"push","ref":"refs/heads/main","after":"a1","checkout_sha":"c9","project":{"path_with_namespace":"grp/app","web_url":"https://gl.example/grp/app/"}}`
	h := http.Header{}
	h.Set("X-Gitlab-Event", "Push Hook")
	evs, _, _, err := events.Normalize(payloads.Inline(Vendor, h, "", []byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if ci := evs[0].CI; ci.URL != "https://gl.example/grp/app/-/commit/c9" || ci.Commit != "c9" {
		t.Fatalf("ci %+v", *ci)
	}
}
