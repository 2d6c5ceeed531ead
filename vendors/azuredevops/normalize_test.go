package azuredevops

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestIdentify: service hooks carry the event type and the notification
// id in the body; headers play no part.
func TestIdentify(t *testing.T) {
	h := http.Header{"X-Event-Key": {"x"}}
	for body, want := range map[string]events.Identity{
		`{"eventType":"git.push","id":"03c164c2-8912-4d5e-8009-3707d5f83734"}`: {Event: "git.push", Delivery: "03c164c2-8912-4d5e-8009-3707d5f83734"},
		`{"eventType":"build.complete"}`:                                       {Event: "build.complete"},
		`{"eventType":1,"id":"x"}`:                                             {Delivery: "x"}, // a field of the wrong type is only itself dropped
		`{"EventType":"git.push","ID":"x"}`:                                    {},              // names are matched exactly, as normalize matches them
		`not json`:                                                             {},
	} {
		if got := events.Identify(Vendor, Vendor.DefaultScheme(), h, []byte(body)); got != want {
			t.Errorf("Identify(%s) = %+v, want %+v", body, got, want)
		}
	}
}

// normalizeBody normalizes body, identified as Identify reads it.
func normalizeBody(t *testing.T, body string) ([]events.Event, string) {
	t.Helper()
	evs, ign, reason, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if ign != (len(evs) == 0) {
		t.Fatalf("ignored=%v with %d events", ign, len(evs))
	}
	return evs, reason
}

// TestNormalizePush: one event per ref update, deleted refs skipped; the
// repository is project/name.
func TestNormalizePush(t *testing.T) {
	evs, _ := normalizeBody(t, `{"eventType":"git.push","resource":{"refUpdates":[`+
		`{"name":"refs/heads/main","newObjectId":"a1"},{"name":"refs/heads/gone","newObjectId":"0000000000000000000000000000000000000000"},`+
		`{"name":"refs/tags/v1","newObjectId":"a2"},{"name":"refs/notes/x","newObjectId":"a3"}],`+
		`"repository":{"name":"web","project":{"name":"Apps"}},"pushedBy":{"displayName":"Kim","uniqueName":"kim@example.com"}}}`)
	var got []string
	for _, e := range evs {
		got = append(got, e.Type+" "+e.CI.Branch)
		if e.CI.Repository != "Apps/web" || e.CI.Actor != "kim@example.com" {
			t.Errorf("ci %+v", *e.CI)
		}
	}
	if want := []string{"ci.push main", "ci.tag refs/tags/v1"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if _, reason := normalizeBody(t, `{"eventType":"git.push","resource":{"refUpdates":[{"name":"refs/heads/gone","newObjectId":"0000000000000000000000000000000000000000"}]}}`); !strings.Contains(reason, "only deletes") {
		t.Errorf("delete-only push: reason %q", reason)
	}
}

// TestNormalizePullRequest: created and updated pull requests while
// active; completed or abandoned ones and merges are ignored.
func TestNormalizePullRequest(t *testing.T) {
	const pr = `"resource":{"repository":{"name":"web","project":{"name":"Apps"},"remoteUrl":"https://dev.azure.com/o/Apps/_git/web"},"pullRequestId":7,"sourceRefName":"refs/heads/fix","lastMergeSourceCommit":{"commitId":"c1"}`
	evs, _ := normalizeBody(t, `{"eventType":"git.pullrequest.updated",`+pr+`,"status":"active"}}`)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	if ci := evs[0].CI; ci.PullRequest != 7 || ci.Branch != "fix" || ci.Commit != "c1" || ci.URL != "https://dev.azure.com/o/Apps/_git/web/pullrequest/7" {
		t.Errorf("ci %+v", *ci)
	}
	for _, body := range []string{
		`{"eventType":"git.pullrequest.updated",` + pr + `,"status":"completed"}}`,
		`{"eventType":"git.pullrequest.created",` + pr + `,"status":"abandoned"}}`,
		`{"eventType":"git.pullrequest.merged",` + pr + `}}`,
	} {
		if evs, reason := normalizeBody(t, body); len(evs) != 0 || reason == "" {
			t.Errorf("%s: %d events, reason %q", body, len(evs), reason)
		}
	}
}

// TestNormalizeBuild: the branch and commit of a build, from
// sourceBranch/sourceVersion or a XAML build's sourceGetVersion; the
// actor is requestedFor, else the first request's, else lastChangedBy.
func TestNormalizeBuild(t *testing.T) {
	for _, c := range []struct {
		name, resource, branch, commit, actor, repo string
	}{
		{"pipeline", `"sourceBranch":"refs/heads/main","sourceVersion":"s1","requestedFor":{"uniqueName":"ana"},"repository":{"name":"web"},"project":{"name":"Apps"}`, "main", "s1", "ana", "Apps/web"},
		{"xaml", `"sourceGetVersion":"LG:refs/heads/rel:s2","requests":[{"requestedFor":{"displayName":"Bo"}}]`, "rel", "s2", "Bo", ""},
		{"tag", `"sourceBranch":"refs/tags/v1","sourceVersion":"s3","lastChangedBy":{"displayName":"Cy"},"repository":{"name":"web"}`, "refs/tags/v1", "s3", "Cy", "web"},
		{"pull ref", `"sourceBranch":"refs/pull/4/merge","sourceVersion":"s4"`, "", "s4", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, _ := normalizeBody(t, `{"eventType":"build.complete","resource":{`+c.resource+`}}`)
			if len(evs) != 1 || evs[0].Type != events.TypeBuild {
				t.Fatalf("events %+v", evs)
			}
			if ci := evs[0].CI; ci.Branch != c.branch || ci.Commit != c.commit || ci.Actor != c.actor || ci.Repository != c.repo {
				t.Errorf("ci %+v", *ci)
			}
		})
	}
	if _, reason := normalizeBody(t, `{"eventType":"workitem.updated"}`); !strings.Contains(reason, `"workitem.updated" is not used`) {
		t.Errorf("work item: reason %q", reason)
	}
}
