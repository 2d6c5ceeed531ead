package bitbucket

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is what each sample's signed body states about itself: the
// event time (RFC 3339, "" for none) and the target names. A sample not
// listed states nothing (a key hookgate does not read, or a ping).
var factsWant = map[string]payloads.Facts{
	"bitbucket/pull-request-created.json":            {At: "2025-03-04T09:12:40.118233Z", Targets: []string{"acme-team/inventory"}},
	"bitbucket/repo-push--multi.json":                {Targets: []string{"acme-team/inventory"}},
	"bitbucket/repo-push.json":                       {Targets: []string{"acme-team/inventory"}},
	"bitbucket-server/pr-opened.json":                {At: "2025-03-04T12:31:45Z", Targets: []string{"FIN/ledger"}},
	"bitbucket-server/repo-refs-changed.json":        {At: "2025-03-04T12:15:09Z", Targets: []string{"FIN/ledger"}},
	"corpus:bitbucket/pull-request-created.json":     {At: "2015-04-06T15:23:38.205705Z", Targets: []string{"team_name/repo_name"}},
	"corpus:bitbucket/pull-request-updated.json":     {At: "2015-04-06T15:23:38.205705Z", Targets: []string{"team_name/repo_name"}},
	"corpus:bitbucket/repo-push.json":                {Targets: []string{"team_name/repo_name"}},
	"corpus:bitbucket-server/pr-modified.json":       {At: "2019-03-01T09:19:48Z", Targets: []string{"~gopher/webhook-test"}},
	"corpus:bitbucket-server/pr-opened.json":         {At: "2019-03-01T09:31:15Z", Targets: []string{"~gopher/webhook-test"}},
	"corpus:bitbucket-server/repo-refs-changed.json": {At: "2019-03-01T09:37:14Z", Targets: []string{"~gopher/webhook-test"}},
	"sample.go": {Targets: []string{"hookgate/hookgate-send-test"}},
}

// TestFacts: a Cloud pull request states pullrequest.updated_on, a Cloud
// push no time; Data Center events the top-level date; Cloud names
// repository.full_name, Data Center PROJECT/slug (the pull request's
// toRef repository) as the target.
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, samples(t), factsWant)
}

// TestFactsEdges: an unreadable time states none and is not malformed; a
// Data Center repository without a project key names no target.
func TestFactsEdges(t *testing.T) {
	for _, c := range []struct {
		key, body string
		at        time.Time
		targets   []string
	}{
		{"pullrequest:updated", `{"repository":{"full_name":"t/r"},"pullrequest":{"id":9,"updated_on":"a while ago"}}`, time.Time{}, []string{"t/r"}},
		{"pr:opened", `{"eventKey":"pr:opened","date":"2025-03-04T12:31:45+0000","pullRequest":{"id":4,"toRef":{"repository":{"slug":"api"}}}}`, time.Date(2025, 3, 4, 12, 31, 45, 0, time.UTC), nil},
		{"repo:refs_changed", `{"eventKey":"repo:refs_changed","date":null,"repository":{"slug":"api","project":{"key":"FIN"}},"changes":[]}`, time.Time{}, []string{"FIN/api"}},
	} {
		n, err := events.NormalizeDelivery(payloads.Inline(Vendor, http.Header{"X-Event-Key": {c.key}}, "", []byte(c.body)))
		if err != nil || !n.Facts.EventTime.Equal(c.at) || !slices.Equal(n.Facts.Targets, c.targets) {
			t.Errorf("%s %s: facts %+v err %v, want %v %q", c.key, c.body, n.Facts, err, c.at, c.targets)
		}
	}
}
