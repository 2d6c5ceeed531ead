package azuredevops

import (
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

const customerApps = "9e1b3d5f-7a9c-4e1b-9d5f-7a9c1e3b5d7f"

// factsWant is what each sample's body states about itself: the event
// time (RFC 3339, "" for none) and the target names. A sample not listed
// states nothing (an event type hookgate does not read).
var factsWant = map[string]payloads.Facts{
	"azuredevops/build-complete.json":                 {At: "2025-03-04T16:31:11.2Z", Targets: []string{customerApps, "Customer Apps"}},
	"azuredevops/git-pullrequest-created.json":        {At: "2025-03-04T16:20:43.007Z", Targets: []string{customerApps, "Customer Apps"}},
	"azuredevops/git-push--multi.json":                {At: "2025-03-04T16:05:02.551Z", Targets: []string{customerApps, "Customer Apps"}},
	"azuredevops/git-push.json":                       {At: "2025-03-04T13:40:25.117Z", Targets: []string{customerApps, "Customer Apps"}},
	"corpus:azuredevops/build.complete.json":          {At: "2016-09-19T13:03:26.4285528Z", Targets: []string{"be9b3917-87e6-42a4-a549-2bc06a7a878f"}},
	"corpus:azuredevops/git.pullrequest.created.json": {At: "2016-09-19T13:03:27.2879096Z", Targets: []string{"be9b3917-87e6-42a4-a549-2bc06a7a878f", "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c", "Fabrikam"}},
	"corpus:azuredevops/git.pullrequest.updated.json": {At: "2016-09-19T13:03:27.2813828Z", Targets: []string{"be9b3917-87e6-42a4-a549-2bc06a7a878f", "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c", "Fabrikam"}},
	"corpus:azuredevops/git.push.json":                {At: "2016-09-19T13:03:27.0379153Z", Targets: []string{"be9b3917-87e6-42a4-a549-2bc06a7a878f", "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c", "Fabrikam-Fiber-Git"}},
	"sample.go":                                       {At: "2025-03-04T14:05:11Z", Targets: []string{"00000000-0000-4000-8000-000000000002", "hookgate"}},
}

// TestFacts: every event read states the notification's createdDate and
// the project's names: resourceContainers.project.id, then the resource's
// project (the repository's for git events, the build's for
// build.complete) id and name, each once. (The corpus is Microsoft's
// documentation example, whose container and repository project ids
// differ.)
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, payloads.WithSample(t, Vendor, sample, "azuredevops"), factsWant)
}

// TestFactsFallbacks: without createdDate a push states its resource's
// date and a build its finishTime, a pull request none; an unreadable
// time states none and is not malformed.
func TestFactsFallbacks(t *testing.T) {
	at := time.Date(2025, 3, 4, 10, 30, 10, 0, time.UTC)
	for _, c := range []struct {
		body string
		want time.Time
	}{
		{`{"eventType":"git.push","resource":{"date":"2025-03-04T10:30:10Z","refUpdates":[]}}`, at},
		{`{"eventType":"build.complete","resource":{"finishTime":"2025-03-04T10:30:10.000Z"}}`, at},
		{`{"eventType":"git.pullrequest.created","resource":{"pullRequestId":1,"creationDate":"2025-03-04T10:30:10Z"}}`, time.Time{}},
		{`{"eventType":"git.push","createdDate":"not a date","resource":{"refUpdates":[]}}`, time.Time{}},
	} {
		n, err := events.NormalizeDelivery(payloads.Inline(Vendor, nil, "", []byte(c.body)))
		if err != nil || !n.Facts.EventTime.Equal(c.want) {
			t.Errorf("%s: facts %+v err %v, want time %v", c.body, n.Facts, err, c.want)
		}
	}
}
