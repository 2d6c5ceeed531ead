package github

import (
	"slices"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is what each sample's signed body states about itself: the
// event time (RFC 3339, "" for none) and the target names. A sample not
// listed states nothing (an event hookgate does not read).
var factsWant = map[string]payloads.Facts{
	"github/ping.json":                    {Targets: []string{"acme/payments-api"}, Hook: "501922871"}, // hook.updated_at is not the ping's time
	"github/pull_request.json":            {At: "2025-03-04T09:12:40Z", Targets: []string{"acme/payments-api"}},
	"github/push--deleted.json":           {At: "2025-03-04T10:43:20Z", Targets: []string{"acme/payments-api"}},
	"github/push--form.txt":               {At: "2025-03-04T09:03:25Z", Targets: []string{"acme/legacy-batch"}},
	"github/push--tag.json":               {At: "2025-03-04T10:30:10Z", Targets: []string{"acme/payments-api"}},
	"github/push.json":                    {At: "2025-03-04T10:21:30Z", Targets: []string{"acme/payments-api"}},
	"github/workflow_run--completed.json": {At: "2025-03-04T11:42:10Z", Targets: []string{"acme/payments-api"}},
	"corpus:github/check-suite.json":      {At: "2018-05-04T01:14:52Z", Targets: []string{"github/hello-world"}},
	"corpus:github/ping.json":             {Hook: "20081052"}, // an old ping names no repository
	"corpus:github/pull-request.json":     {At: "2015-05-05T23:40:27Z", Targets: []string{"baxterthehacker/public-repo"}},
	"corpus:github/push.json":             {At: "2018-06-29T14:04:35Z", Targets: []string{"binkkatal/sample_app"}},
	"corpus:github/workflow_run.json":     {At: "2015-05-05T23:40:30Z", Targets: []string{"baxterthehacker/public-repo"}},
	"sample.go":                           {Targets: []string{"hookgate/hookgate-send-test"}, Hook: "1"},
}

// TestFacts: push states repository.pushed_at (unix seconds), pull_request
// pull_request.updated_at, workflow_run and check_suite their run's
// updated_at, ping no time; every one of them repository.full_name as its
// target; ping its hook_id as the hook that sent it. The facts are stated whether the event is then acted on or
// ignored (a deleting push, a requested check suite).
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, samples(t), factsWant)
}

// TestFactsTimeSpellings: an ISO pushed_at reads like unix seconds; an
// unreadable time states none and is not malformed.
func TestFactsTimeSpellings(t *testing.T) {
	at := time.Date(2025, 3, 4, 10, 30, 10, 0, time.UTC)
	for _, c := range []struct {
		event, body string
		want        time.Time
	}{
		{"push", `{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"a/b","pushed_at":1741084210}}`, at},
		{"push", `{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"a/b","pushed_at":"2025-03-04T10:30:10Z"}}`, at},
		{"push", `{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"a/b","pushed_at":"soon"}}`, time.Time{}},
		{"pull_request", `{"action":"opened","number":1,"pull_request":{"updated_at":"2025-03-04T12:30:10+02:00"},"repository":{"full_name":"a/b"}}`, at},
		{"check_suite", `{"action":"completed","check_suite":{"updated_at":"2025-03-04T10:30:10.000Z"},"repository":{"full_name":"a/b"}}`, at},
		{"workflow_run", `{"action":"completed","workflow_run":{"updated_at":null},"repository":{"full_name":"a/b"}}`, time.Time{}},
	} {
		n, err := events.NormalizeDelivery(delivery(c.event, "application/json", c.body))
		if err != nil || !n.Facts.EventTime.Equal(c.want) || !slices.Equal(n.Facts.Targets, []string{"a/b"}) {
			t.Errorf("%s %s: facts %+v err %v, want time %v", c.event, c.body, n.Facts, err, c.want)
		}
	}
}
