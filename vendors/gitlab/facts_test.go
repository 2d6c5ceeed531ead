package gitlab

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is what each sample's body states about itself: the event
// time (RFC 3339, "" for none) and the target names. A sample not listed
// states nothing (a kind hookgate does not read).
var factsWant = map[string]struct {
	at      string
	targets []string
}{
	"gitlab/merge_request--approved.json":           {"2025-03-04T12:05:40Z", []string{"platform/billing-service", "4412"}},
	"gitlab/merge_request.json":                     {"2025-03-04T11:30:02Z", []string{"platform/billing-service", "4412"}},
	"gitlab/pipeline.json":                          {"2025-03-04T10:14:51Z", []string{"platform/billing-service", "4412"}},
	"gitlab/push.json":                              {"", []string{"platform/billing-service", "4412"}},
	"gitlab/tag_push.json":                          {"", []string{"platform/billing-service", "4412"}},
	"corpus:gitlab/merge-request-event.json":        {"2013-12-03T17:23:34Z", []string{"gitlabhq/gitlab-test", "1"}},
	"corpus:gitlab/pipeline-event.json":             {"2016-08-12T15:26:29Z", []string{"gitlab-org/gitlab-test", "1"}},
	"corpus:gitlab/push-event.json":                 {"", []string{"mike/diaspora", "15"}}, // project_id: no project.id
	"corpus:gitlab/system-merge-request-event.json": {"2017-09-28T12:23:42.365Z", []string{"jsmith/example"}},
	"corpus:gitlab/system-push-event.json":          {"", []string{"mike/diaspora", "15"}},
	"corpus:gitlab/system-tag-event.json":           {"", []string{"jsmith/example", "1"}},
	"corpus:gitlab/tag-event.json":                  {"", []string{"jsmith/example", "1"}},
	"sample.go":                                     {"", []string{"hookgate/hookgate-send-test", "1"}},
}

// TestFacts: a merge request states object_attributes.updated_at, a
// pipeline object_attributes.finished_at, a push or tag push no time;
// every kind project.path_with_namespace and the project id (project.id,
// else project_id) in decimal as its targets.
func TestFacts(t *testing.T) {
	for _, s := range samples(t) {
		t.Run(s.Name(), func(t *testing.T) {
			n, err := events.NormalizeDelivery(s.Delivery)
			if err != nil {
				t.Fatal(err)
			}
			w := factsWant[s.Name()]
			var at time.Time
			if w.at != "" {
				at, _ = time.Parse(time.RFC3339, w.at)
			}
			if !n.Facts.EventTime.Equal(at) || !slices.Equal(n.Facts.Targets, w.targets) {
				t.Errorf("facts %v %q, want %v %q", n.Facts.EventTime, n.Facts.Targets, at, w.targets)
			}
		})
	}
}

// TestFactsTimeSpellings: GitLab's own spelling, RFC 3339 and offsets read
// alike; an unreadable time states none and is not malformed.
func TestFactsTimeSpellings(t *testing.T) {
	at := time.Date(2025, 3, 4, 10, 30, 10, 0, time.UTC)
	const project = `"project":{"id":7,"path_with_namespace":"grp/app"}`
	for _, c := range []struct {
		header, body string
		want         time.Time
	}{
		{"Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"action":"open","iid":1,"updated_at":"2025-03-04 10:30:10 UTC"},` + project + `}`, at},
		{"Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"action":"open","iid":1,"updated_at":"2025-03-04T11:30:10+01:00"},` + project + `}`, at},
		{"Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"status":"success","finished_at":"2025-03-04 10:30:10 +0000"},` + project + `}`, at},
		{"Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"status":"canceled","finished_at":null},` + project + `}`, time.Time{}},
		{"Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"status":"success","finished_at":"when it was done"},` + project + `}`, time.Time{}},
	} {
		h := http.Header{}
		h.Set("X-Gitlab-Event", c.header)
		n, err := events.NormalizeDelivery(payloads.Inline(Vendor, h, "", []byte(c.body)))
		if err != nil || !n.Facts.EventTime.Equal(c.want) || !slices.Equal(n.Facts.Targets, []string{"grp/app", "7"}) {
			t.Errorf("%s %s: facts %+v err %v, want time %v", c.header, c.body, n.Facts, err, c.want)
		}
	}
}
