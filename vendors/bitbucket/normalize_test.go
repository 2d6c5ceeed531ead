package bitbucket

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestIdentify: X-Event-Key names the event; the delivery id is
// X-Request-UUID (Cloud), else X-Request-Id (Data Center).
func TestIdentify(t *testing.T) {
	for _, c := range []struct {
		name string
		h    http.Header
		want events.Identity
	}{
		{"cloud", http.Header{"X-Event-Key": {"repo:push"}, "X-Request-Uuid": {"u-1"}, "X-Request-Id": {"r-1"}}, events.Identity{Event: "repo:push", Delivery: "u-1"}},
		{"data center", http.Header{"X-Event-Key": {"pr:opened"}, "X-Request-Id": {"r-1"}}, events.Identity{Event: "pr:opened", Delivery: "r-1"}},
		{"none", http.Header{}, events.Identity{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := events.Identify(Vendor, Vendor.DefaultScheme(), c.h, []byte(`{"eventKey":"x"}`)); got != c.want {
				t.Fatalf("Identify = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestNormalizeWithoutKey: without X-Event-Key the body decides: a Data
// Center body names its eventKey, a Cloud push carries push.
func TestNormalizeWithoutKey(t *testing.T) {
	for _, c := range []struct {
		name, body, event, typ string
	}{
		{"data center", `{"eventKey":"repo:refs_changed","repository":{"slug":"api","project":{"key":"FIN"}},"changes":[{"ref":{"id":"refs/heads/main"},"toHash":"a1","type":"UPDATE"}]}`, "repo:refs_changed", events.TypePush},
		{"cloud push", `{"repository":{"full_name":"t/r"},"push":{"changes":[{"new":{"type":"tag","name":"v1","target":{"hash":"a1"}}}]}}`, "repo:push", events.TypeTag},
		{"neither", `{"repository":{}}`, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, ign, reason, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			if c.typ == "" {
				if !ign || !strings.Contains(reason, "without event key") {
					t.Fatalf("ignored=%v reason %q", ign, reason)
				}
				return
			}
			if len(evs) != 1 || evs[0].Type != c.typ || evs[0].Source.Event != c.event {
				t.Fatalf("events %+v (%s)", evs, reason)
			}
		})
	}
}

// TestNormalizePushChanges: one event per change that adds or moves a
// branch or tag; deleted refs are skipped, a push that only deletes is
// ignored, and more than MaxRefChanges changes is malformed.
func TestNormalizePushChanges(t *testing.T) {
	key := func(k string) http.Header { return http.Header{"X-Event-Key": {k}} }
	cloud := `{"repository":{"full_name":"t/r"},"push":{"changes":[{"new":null},{"new":{"type":"branch","name":"main","target":{"hash":"a1"}}},{"new":{"type":"named_branch","name":"dev","target":{"hash":"a2"}}},{"new":{"type":"annotated_tag","name":"v1","target":{"hash":"a3"}}},{"new":{"type":"bookmark","name":"b"}}]}}`
	dc := `{"eventKey":"repo:refs_changed","repository":{"slug":"api","project":{"key":"FIN"}},"changes":[{"ref":{"id":"refs/heads/main"},"toHash":"a1","type":"UPDATE"},{"ref":{"id":"refs/heads/old"},"toHash":"0000000000000000000000000000000000000000","type":"DELETE"},{"refId":"refs/tags/v2","toHash":"a2","type":"ADD"},{"ref":{"displayId":"dev","type":"BRANCH"},"toHash":"a3","type":"ADD"}]}`
	for _, c := range []struct {
		name, key, body string
		branches        []string
	}{
		{"cloud", "repo:push", cloud, []string{"main", "dev", "refs/tags/v1"}},
		{"data center", "repo:refs_changed", dc, []string{"main", "refs/tags/v2", "dev"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, _, reason, err := events.Normalize(payloads.Inline(Vendor, key(c.key), "", []byte(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, e.CI.Branch)
			}
			if !slices.Equal(got, c.branches) {
				t.Fatalf("branches %v, want %v (%s)", got, c.branches, reason)
			}
		})
	}
	_, ign, reason, err := events.Normalize(payloads.Inline(Vendor, key("repo:push"), "", []byte(`{"repository":{"full_name":"t/r"},"push":{"changes":[{"new":null}]}}`)))
	if err != nil || !ign || !strings.Contains(reason, "only deletes") {
		t.Errorf("delete-only push: ignored=%v reason %q err %v", ign, reason, err)
	}
	many := `{"repository":{"full_name":"t/r"},"push":{"changes":[` + strings.Repeat(`{"new":null},`, events.MaxRefChanges) + `{"new":null}]}}`
	if _, _, _, err := events.Normalize(payloads.Inline(Vendor, key("repo:push"), "", []byte(many))); !errors.Is(err, events.ErrMalformed) {
		t.Errorf("%d changes: err %v, want ErrMalformed", events.MaxRefChanges+1, err)
	}
}

// TestNormalizePullRequests: Cloud and Data Center pull requests, and the
// events that bring no code.
func TestNormalizePullRequests(t *testing.T) {
	for _, c := range []struct {
		name, key, body, repo, branch string
		pr                            int
	}{
		{"cloud", "pullrequest:updated", `{"repository":{"full_name":"t/r"},"pullrequest":{"id":9,"source":{"branch":{"name":"fix"},"commit":{"hash":"abc"}}}}`, "t/r", "fix", 9},
		{"data center", "pr:from_ref_updated", `{"eventKey":"pr:from_ref_updated","pullRequest":{"id":4,"fromRef":{"id":"refs/heads/feat","latestCommit":"abc"},"toRef":{"repository":{"slug":"api","project":{"key":"FIN"}}}}}`, "FIN/api", "feat", 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, _, reason, err := events.Normalize(payloads.Inline(Vendor, http.Header{"X-Event-Key": {c.key}}, "", []byte(c.body)))
			if err != nil || len(evs) != 1 {
				t.Fatalf("%d events (%s), err %v", len(evs), reason, err)
			}
			if ci := evs[0].CI; evs[0].Type != events.TypePullRequest || ci.Repository != c.repo || ci.Branch != c.branch || ci.PullRequest != c.pr || ci.Commit != "abc" {
				t.Errorf("%s %+v", evs[0].Type, *ci)
			}
		})
	}
	for _, k := range []string{"pullrequest:fulfilled", "pr:merged", "pr:comment:added", "repo:commit_status_created"} {
		_, ign, reason, err := events.Normalize(payloads.Inline(Vendor, http.Header{"X-Event-Key": {k}}, "", []byte(`{}`)))
		if err != nil || !ign || !strings.Contains(reason, "is not used") {
			t.Errorf("%s: ignored=%v reason %q err %v", k, ign, reason, err)
		}
	}
	if _, _, _, err := events.Normalize(payloads.Inline(Vendor, http.Header{"X-Event-Key": {"pr:opened"}}, "", []byte(`{"pullRequest":{}}`))); !errors.Is(err, events.ErrMalformed) {
		t.Errorf("pull request without id: err %v, want ErrMalformed", err)
	}
}
