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
var factsWant = map[string]payloads.Facts{
	"gitlab/merge_request--approved.json":           {At: "2025-03-04T12:05:40Z", Targets: []string{"platform/billing-service", "4412"}},
	"gitlab/merge_request.json":                     {At: "2025-03-04T11:30:02Z", Targets: []string{"platform/billing-service", "4412"}},
	"gitlab/pipeline.json":                          {At: "2025-03-04T10:14:51Z", Targets: []string{"platform/billing-service", "4412"}},
	"gitlab/push.json":                              {Targets: []string{"platform/billing-service", "4412"}},
	"gitlab/tag_push.json":                          {Targets: []string{"platform/billing-service", "4412"}},
	"corpus:gitlab/merge-request-event.json":        {At: "2013-12-03T17:23:34Z", Targets: []string{"gitlabhq/gitlab-test", "1"}},
	"corpus:gitlab/pipeline-event.json":             {At: "2016-08-12T15:26:29Z", Targets: []string{"gitlab-org/gitlab-test", "1"}},
	"corpus:gitlab/push-event.json":                 {Targets: []string{"mike/diaspora", "15"}}, // project_id: no project.id
	"corpus:gitlab/system-merge-request-event.json": {At: "2017-09-28T12:23:42.365Z", Targets: []string{"jsmith/example"}},
	"corpus:gitlab/system-push-event.json":          {Targets: []string{"mike/diaspora", "15"}},
	"corpus:gitlab/system-tag-event.json":           {Targets: []string{"jsmith/example", "1"}},
	"corpus:gitlab/tag-event.json":                  {Targets: []string{"jsmith/example", "1"}},
	"sample.go":                                     {Targets: []string{"hookgate/hookgate-send-test", "1"}},
}

// TestFacts: a merge request states object_attributes.updated_at, a
// pipeline object_attributes.finished_at, a push or tag push no time;
// every kind project.path_with_namespace and the project id (project.id,
// else project_id) in decimal as its targets.
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, samples(t), factsWant)
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
