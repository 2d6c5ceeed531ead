package events_test

import (
	"reflect"
	"testing"

	. "github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestEventInBodyIgnoresHeaders: Azure DevOps, Jira and the template
// vendors (Jenkins, Bamboo, ServiceNow, ManageEngine) name their event in
// the body, inside what the credential covers, so no header can relabel
// a body as another event: with every other vendor's event header (and a
// few a sender might try) set, each sample is identified and normalized
// exactly as without them.
func TestEventInBodyIgnoresHeaders(t *testing.T) {
	claims := map[string]string{
		"X-GitHub-Event": "ping", "X-Gitlab-Event": "Pipeline Hook", "X-Event-Key": "repo:push",
		"X-Event": "ping", "X-Event-Type": "build.complete", "X-Hookgate-Event": "ping", "X-Webhook-Event": "ticket",
	}
	ss, err := payloads.Samples("azuredevops", "jira", "jenkins", "bamboo", "servicenow", "manageengine")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) == 0 {
		t.Fatal("no samples")
	}
	for _, s := range ss {
		t.Run(s.Name(), func(t *testing.T) {
			want, werr := NormalizeDelivery(s.Delivery)
			d := s.Delivery
			for k, v := range claims {
				d = payloads.Relabel(d, k, v)
			}
			if d.Identity != s.Delivery.Identity {
				t.Fatalf("identity %+v with event headers, %+v without", d.Identity, s.Delivery.Identity)
			}
			got, gerr := NormalizeDelivery(d)
			if !reflect.DeepEqual(got, want) || (gerr == nil) != (werr == nil) {
				t.Errorf("with event headers: %+v %v, without: %+v %v", got, gerr, want, werr)
			}
		})
	}
}
