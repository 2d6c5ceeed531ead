package events_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/hookgate/caddy-hookgate/events"
)

// want is what one payload file must normalize to.
type want struct {
	ignored   bool
	malformed bool     // ErrMalformed
	types     []string // event types, in order
	repo      string   // first event's ci fields
	branch    string
	commit    string
	pr        int
	branches  []string // every event's branch (multi-ref pushes)
	key       string   // first event's ticket fields
	status    string
	category  string
	author    string // comment author and body of the last event
	body      string
}

// ignored marks a file whose vendor event is deliberately ignored.
var ignored = want{ignored: true}

// malformed marks a file hookgate answers 400 (malformed body).
var malformed = want{malformed: true}

func ciWant(typ, repo, branch, commit string, pr int) want {
	return want{types: []string{typ}, repo: repo, branch: branch, commit: commit, pr: pr}
}

// corpusWant classifies every file of the shared corpus. A new corpus file
// fails TestNormalizePayloads until it is added here.
var corpusWant = map[string]want{
	"azuredevops/build.complete.json":                   ciWant(TypeBuild, "", "master", "600c52d2d5b655caa111abfd863e5a9bd304bb0e", 0),
	"azuredevops/git.pullrequest.created.json":          ciWant(TypePullRequest, "Fabrikam/Fabrikam", "mytopic", "53d54ac915144006c2c9e90d2c7d3880920db49c", 1),
	"azuredevops/git.pullrequest.merged.json":           ignored, // the merge arrives as git.push
	"azuredevops/git.pullrequest.updated.json":          ignored, // status completed
	"azuredevops/git.push.json":                         ciWant(TypePush, "Fabrikam-Fiber-Git/Fabrikam-Fiber-Git", "main", "33b55f7cb7e7e245323987634f960cf4a6e6bc74", 0),
	"bitbucket/commit-comment-created.json":             ignored,
	"bitbucket/issue-comment-created.json":              ignored,
	"bitbucket/issue-created.json":                      ignored,
	"bitbucket/issue-updated.json":                      ignored,
	"bitbucket/pull-request-approval-removed.json":      ignored,
	"bitbucket/pull-request-approved.json":              ignored,
	"bitbucket/pull-request-comment-created.json":       ignored,
	"bitbucket/pull-request-comment-deleted.json":       ignored,
	"bitbucket/pull-request-comment-updated.json":       ignored,
	"bitbucket/pull-request-created.json":               ciWant(TypePullRequest, "team_name/repo_name", "branch2", "d3022fc0ca3d", 1),
	"bitbucket/pull-request-declined.json":              ignored,
	"bitbucket/pull-request-merged.json":                ignored,
	"bitbucket/pull-request-updated.json":               ciWant(TypePullRequest, "team_name/repo_name", "branch2", "d3022fc0ca3d", 1),
	"bitbucket/repo-commit-status-created.json":         ignored,
	"bitbucket/repo-commit-status-updated.json":         ignored,
	"bitbucket/repo-fork.json":                          ignored,
	"bitbucket/repo-push.json":                          ciWant(TypePush, "team_name/repo_name", "name-of-branch", "709d658dc5b6d6afcd46049c2f332ee3f515a67d", 0),
	"bitbucket/repo-updated.json":                       ignored,
	"bitbucket-server/pr-comment-added.json":            ignored,
	"bitbucket-server/pr-comment-deleted.json":          ignored,
	"bitbucket-server/pr-comment-edited.json":           ignored,
	"bitbucket-server/pr-declined.json":                 ignored,
	"bitbucket-server/pr-deleted.json":                  ignored,
	"bitbucket-server/pr-merged.json":                   ignored,
	"bitbucket-server/pr-modified.json":                 ciWant(TypePullRequest, "~gopher/webhook-test", "feature/wip", "591f702354b3abf1faaca4d23811620d1b2ac984", 3),
	"bitbucket-server/pr-opened.json":                   ciWant(TypePullRequest, "~gopher/webhook-test", "feature/wip", "32a0b8a740c2963c6f56bd8baf3dc05683d299e0", 5),
	"bitbucket-server/pr-reviewer-approved.json":        ignored,
	"bitbucket-server/pr-reviewer-needs-work.json":      ignored,
	"bitbucket-server/pr-reviewer-unapproved.json":      ignored,
	"bitbucket-server/pr-reviewer-updated.json":         ignored,
	"bitbucket-server/repo-comment-added.json":          ignored,
	"bitbucket-server/repo-comment-deleted.json":        ignored,
	"bitbucket-server/repo-comment-edited.json":         ignored,
	"bitbucket-server/repo-forked.json":                 ignored,
	"bitbucket-server/repo-modified.json":               ignored,
	"bitbucket-server/repo-refs-changed.json":           ignored, // its only change deletes feature/wip
	"github/check-run.json":                             ignored,
	"github/check-suite.json":                           ignored, // action requested, not completed
	"github/code_scanning_alert.json":                   ignored,
	"github/commit-comment.json":                        ignored,
	"github/create.json":                                ignored,
	"github/delete.json":                                ignored,
	"github/dependabot_alert.json":                      ignored,
	"github/deploy_key.json":                            ignored,
	"github/deployment-status.json":                     ignored,
	"github/deployment.json":                            ignored,
	"github/fork.json":                                  ignored,
	"github/github-app-authorization.json":              ignored,
	"github/gollum.json":                                ignored,
	"github/installation-repositories.json":             ignored,
	"github/installation.json":                          ignored,
	"github/integration-installation-repositories.json": ignored,
	"github/integration-installation.json":              ignored,
	"github/issue-comment.json":                         ignored,
	"github/issues.json":                                ignored,
	"github/label.json":                                 ignored,
	"github/member.json":                                ignored,
	"github/membership.json":                            ignored,
	"github/milestone.json":                             ignored,
	"github/org-block.json":                             ignored,
	"github/organization.json":                          ignored,
	"github/page-build.json":                            ignored,
	"github/ping.json":                                  ciWant(TypePing, "", "", "", 0),
	"github/project-card.json":                          ignored,
	"github/project-column.json":                        ignored,
	"github/project.json":                               ignored,
	"github/public.json":                                ignored,
	"github/pull-request-issue-comment.json":            ignored,
	"github/pull-request-review-comment.json":           ignored,
	"github/pull-request-review.json":                   ignored,
	"github/pull-request.json":                          ciWant(TypePullRequest, "baxterthehacker/public-repo", "changes", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", 1),
	"github/push.json":                                  ciWant(TypePush, "binkkatal/sample_app", "master", "fd489864e7642b48eaad6e3f155c10e46810ec72", 0),
	"github/release.json":                               ignored,
	"github/repository-edited.json":                     ignored,
	"github/repository-vulnerability-alert.json":        ignored,
	"github/repository.json":                            ignored,
	"github/security-advisory.json":                     ignored,
	"github/status.json":                                ignored,
	"github/team-add.json":                              ignored,
	"github/team.json":                                  ignored,
	"github/watch.json":                                 ignored,
	"github/workflow_dispatch.json":                     ignored,
	"github/workflow_job.json":                          ignored,
	"github/workflow_run.json":                          ignored,   // its action is not completed
	"gitlab/build-event.json":                           malformed, // repository.git_ssh_url twice (an edit of the copy: GitLab's hook data is a Ruby hash, which cannot hold a key twice)
	"gitlab/comment-commit-event.json":                  ignored,
	"gitlab/comment-issue-event.json":                   ignored,
	"gitlab/comment-merge-request-event.json":           ignored,
	"gitlab/comment-snippet-event.json":                 ignored,
	"gitlab/confidential-comment-event.json":            ignored,
	"gitlab/confidential-issue-event.json":              ignored,
	"gitlab/deployment-event.json":                      ignored,
	"gitlab/issue-event.json":                           ignored,
	"gitlab/job-event.json":                             ignored,
	"gitlab/merge-request-event.json":                   ciWant(TypePullRequest, "gitlabhq/gitlab-test", "ms-viewport", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", 1),
	"gitlab/pipeline-event.json":                        ciWant(TypeBuild, "gitlab-org/gitlab-test", "master", "bcbb5ec396a2c0f828686f14fac9b80b780504f2", 0),
	"gitlab/push-event.json":                            ciWant(TypePush, "mike/diaspora", "master", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", 0),
	"gitlab/release-event.json":                         ignored,
	"gitlab/system-group-created.json":                  ignored,
	"gitlab/system-group-member-added.json":             ignored,
	"gitlab/system-group-member-removed.json":           ignored,
	"gitlab/system-group-member-updated.json":           ignored,
	"gitlab/system-group-removed.json":                  ignored,
	"gitlab/system-group-renamed.json":                  ignored,
	"gitlab/system-key-added.json":                      ignored,
	"gitlab/system-key-removed.json":                    ignored,
	"gitlab/system-merge-request-event.json":            ciWant(TypePullRequest, "jsmith/example", "ms-viewport", "ba3e0d8ff79c80d5b0bbb4f3e2e343e0aaa662b7", 1),
	"gitlab/system-project-created.json":                ignored,
	"gitlab/system-project-destroyed.json":              ignored,
	"gitlab/system-project-renamed.json":                ignored,
	"gitlab/system-project-transferred.json":            ignored,
	"gitlab/system-project-updated.json":                ignored,
	"gitlab/system-push-event.json":                     ciWant(TypePush, "mike/diaspora", "master", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", 0),
	"gitlab/system-tag-event.json":                      ciWant(TypeTag, "jsmith/example", "refs/tags/v1.0.0", "5937ac0a7beb003549fc5fd26fc247adbce4a52e", 0),
	"gitlab/system-team-member-added.json":              ignored,
	"gitlab/system-team-member-removed.json":            ignored,
	"gitlab/system-team-member-updated.json":            ignored,
	"gitlab/system-user-created.json":                   ignored,
	"gitlab/system-user-failed-login.json":              ignored,
	"gitlab/system-user-removed.json":                   ignored,
	"gitlab/system-user-renamed.json":                   ignored,
	"gitlab/tag-event.json":                             ciWant(TypeTag, "jsmith/example", "refs/tags/v1.0.0", "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", 0),
	"gitlab/wikipage-event.json":                        ignored,
	"jira/cloud_comment_added.json": {types: []string{TypeTicketComment}, key: "TEST-24", status: "To Do", category: "new",
		author: "Wisen Tanasa", body: "comment body"},
	"jira/issue_created.json":                ignored,
	"jira/issue_updated_fields_updated.json": ignored, // summary, description, priority: no status
	"jira/issue_updated_status_updated.json": {types: []string{TypeTicketStatus}, key: "TEST-11", status: "Done", category: "done"},
	"jira/issue_updated_with_comment.json": {types: []string{TypeTicketComment}, key: "TEST-4", status: "To Do", category: "new",
		author: "admin", body: "comment body"},
	"jira/issue_updated_without_comment.json": ignored,
}

// payloadWant classifies every file under testdata/payloads.
var payloadWant = map[string]want{
	"azuredevops/build-complete.json":          ciWant(TypeBuild, "Customer Apps/web-portal", "main", "c3e5a7f9b1d3e5a7c9f1b3d5e7a9c1f3b5d7e9a1", 0),
	"azuredevops/git-pullrequest-created.json": ciWant(TypePullRequest, "Customer Apps/web-portal", "fix/export-escaping", "f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7", 342),
	"azuredevops/git-push--multi.json": {types: []string{TypePush, TypeTag}, repo: "Customer Apps/web-portal", branch: "release/4.0",
		commit: "e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1", branches: []string{"release/4.0", "refs/tags/v4.0.0"}},
	"azuredevops/git-push.json":                   ciWant(TypePush, "Customer Apps/web-portal", "main", "c3e5a7f9b1d3e5a7c9f1b3d5e7a9c1f3b5d7e9a1", 0),
	"bamboo/build-completed.json":                 ciWant(TypeBuild, "fin/ledger", "release/2.4", "b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3", 0),
	"bamboo/build-failed--full.json":              ciWant(TypeBuild, "web/portal", "feature/sso-login", "d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5", 0),
	"bitbucket/pull-request-comment-created.json": ignored,
	"bitbucket/pull-request-created.json":         ciWant(TypePullRequest, "acme-team/inventory", "feature/warehouse-reservations", "b3d5f7a9c1e3", 73),
	"bitbucket/pull-request-merged.json":          ignored, // the merge arrives as a push
	"bitbucket/repo-push--multi.json": {types: []string{TypePush, TypeTag}, repo: "acme-team/inventory", branch: "release/3.1",
		commit: "8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a", branches: []string{"release/3.1", "refs/tags/v3.1.2"}},
	"bitbucket/repo-push.json":                ciWant(TypePush, "acme-team/inventory", "main", "e91f3a0c5b7d2e4f6a8c0b1d3e5f7a9c1b3d5e7f", 0),
	"bitbucket-server/diagnostics-ping.json":  ciWant(TypePing, "", "", "", 0),
	"bitbucket-server/pr-merged.json":         ignored,
	"bitbucket-server/pr-opened.json":         ciWant(TypePullRequest, "FIN/ledger", "fix/negative-postings", "f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9", 19),
	"bitbucket-server/repo-refs-changed.json": ciWant(TypePush, "FIN/ledger", "release/2.4", "b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3", 0),
	"github/ping.json":                        ciWant(TypePing, "acme/payments-api", "", "", 0),
	"github/pull_request.json":                ciWant(TypePullRequest, "acme/payments-api", "feature/retry-jitter", "a4c1e9b07f5d2e33c0b8f91d6e2a7c4b5d8e0f12", 214),
	"github/push--deleted.json":               ignored,
	"github/push--form.txt":                   ciWant(TypePush, "acme/legacy-batch", "release/2.7", "7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d", 0),
	"github/push--tag.json":                   ciWant(TypeTag, "acme/payments-api", "refs/tags/v2.7.0", "3e9a1c5b7d9f1e3a5c7b9d1f3e5a7c9b1d3f5e7a", 0),
	"github/push.json":                        ciWant(TypePush, "acme/payments-api", "main", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", 0),
	"github/star.json":                        ignored,
	"github/workflow_run--completed.json":     ciWant(TypeBuild, "acme/payments-api", "release/2.7", "5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a", 0),
	"gitlab/merge_request--approved.json":     ignored,
	"gitlab/merge_request.json":               ciWant(TypePullRequest, "platform/billing-service", "fix/rounding-edge", "c0e2a4b6d8f0c2e4a6b8d0f2c4e6a8b0d2f4c6e8", 58),
	"gitlab/pipeline.json":                    ciWant(TypeBuild, "platform/billing-service", "main", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", 0),
	"gitlab/push.json":                        ciWant(TypePush, "platform/billing-service", "main", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", 0),
	"gitlab/tag_push.json":                    ciWant(TypeTag, "platform/billing-service", "refs/tags/v1.9.0", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", 0),
	"jenkins/build-finalized.json":            ciWant(TypeBuild, "acme/payments-api", "main", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", 0),
	"jenkins/build-started.json":              ignored,
	"jira/comment-created.json": {types: []string{TypeTicketComment}, key: "SEC-42", status: "In Review", category: "indeterminate",
		author: "Ola Berg", body: "Fix deployed to staging; the export now uses bound parameters."},
	"jira/comment-updated--adf.json": {types: []string{TypeTicketComment}, key: "SEC-42", status: "In Review", category: "indeterminate",
		author: "Kim Ahn", body: "Fix deployed to production.\nPlease retest."},
	"jira/issue-updated--labels.json": ignored,
	"jira/issue-updated--reopened.json": {types: []string{TypeTicketStatus, TypeTicketComment}, key: "SEC-42", status: "Reopened", category: "new",
		author: "Kim Ahn", body: "Still reproducible with a quoted column name."},
	"jira/issue-updated.json": {types: []string{TypeTicketStatus}, key: "SEC-42", status: "Done", category: "done"},
	"manageengine/request-closed.json": {types: []string{TypeTicketStatus, TypeTicketComment}, key: "5731", status: "Closed",
		author: "Ana Souza", body: "Token revoked and replaced in the vault."},
	"manageengine/request-in-progress.json": {types: []string{TypeTicketStatus, TypeTicketComment}, key: "5731", status: "In Progress",
		author: "Luis Mora", body: "Revoking the token needs the owner's approval first."},
	"servicenow/incident-commented.json": {types: []string{TypeTicketComment}, key: "INC0010234", status: "2",
		author: "r.okafor", body: "2025-03-03 10:02:55 - Rita Okafor (Additional comments)\nWaiting for the maintenance window on Thursday."},
	"servicenow/incident-in-progress.json": {types: []string{TypeTicketStatus}, key: "INC0010234", status: "2"},
	"servicenow/incident-resolved.json": {types: []string{TypeTicketStatus, TypeTicketComment}, key: "INC0010234", status: "6",
		author: "r.okafor", body: "Patched to the fixed release and redeployed; please retest."},
}

// TestNormalizePayloads normalizes every payload file (the shared corpus
// when HOOKGATE_CORPUS is set, else testdata/payloads) and checks it
// against its table row. A file without a row fails: new files must be
// classified.
func TestNormalizePayloads(t *testing.T) {
	dir, fromEnv := payloadRoot(t)
	table := payloadWant
	if fromEnv {
		table = corpusWant
	}
	files := payloadFiles(t, dir)
	if len(files) == 0 {
		t.Fatalf("no payload files under %s", dir)
	}
	seen := map[string]bool{}
	for _, rel := range files {
		seen[rel] = true
		t.Run(rel, func(t *testing.T) {
			w, ok := table[rel]
			if !ok {
				t.Fatalf("%s is not classified: add it to the table (fields it must yield, or ignored)", rel)
			}
			body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			d := fileDelivery(t, rel, body)
			evs, ign, reason, err := Normalize(d)
			if w.malformed {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Normalize: err %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if w.ignored {
				if !ign || len(evs) != 0 || reason == "" {
					t.Fatalf("want ignored with a reason, got ignored=%v reason=%q events=%d", ign, reason, len(evs))
				}
				return
			}
			if ign {
				t.Fatalf("ignored: %s", reason)
			}
			checkEvents(t, d, evs, w)
		})
	}
	for rel := range table {
		if !seen[rel] {
			t.Errorf("table lists %s, which is not under %s", rel, dir)
		}
	}
}

func checkEvents(t *testing.T, d Delivery, evs []Event, w want) {
	t.Helper()
	var types []string
	ids := map[string]bool{}
	for _, e := range evs {
		types = append(types, e.Type)
		if ids[e.ID] {
			t.Errorf("duplicate id %s", e.ID)
		}
		ids[e.ID] = true
		if !strings.HasPrefix(e.ID, "evt_") {
			t.Errorf("id %q", e.ID)
		}
		if e.Source.Vendor != string(d.Vendor) || e.Source.Integration != d.Integration || e.Source.Via != "webhook" ||
			e.Source.Signature != "valid" || !e.Source.ReceivedAt.Equal(d.ReceivedAt) || e.Source.Event == "" {
			t.Errorf("source %+v", e.Source)
		}
		if e.OccurredAt.IsZero() {
			t.Errorf("%s: zero occurred_at", e.Type)
		}
		if d.Vendor.IsCI() != (e.CI != nil) || d.Vendor.IsCI() == (e.Ticket != nil) {
			t.Errorf("%s: ci %v ticket %v", e.Type, e.CI, e.Ticket)
		}
	}
	if !slices.Equal(types, w.types) {
		t.Fatalf("types %v, want %v", types, w.types)
	}
	first := evs[0]
	if c := first.CI; c != nil {
		if c.Repository != w.repo || c.Branch != w.branch || c.Commit != w.commit || c.PullRequest != w.pr {
			t.Errorf("ci %+v, want repo %q branch %q commit %q pr %d", *c, w.repo, w.branch, w.commit, w.pr)
		}
	}
	if w.branches != nil {
		var got []string
		for _, e := range evs {
			got = append(got, e.CI.Branch)
		}
		if !slices.Equal(got, w.branches) {
			t.Errorf("branches %v, want %v", got, w.branches)
		}
	}
	if tk := first.Ticket; tk != nil {
		if tk.Key != w.key || tk.Status != w.status || tk.StatusCategory != w.category || tk.FindingTransition != "" {
			t.Errorf("ticket %+v, want key %q status %q category %q", *tk, w.key, w.status, w.category)
		}
		last := evs[len(evs)-1].Ticket
		if w.body != "" {
			if last.Comment == nil || last.Comment.Author != w.author || last.Comment.Body != w.body {
				t.Errorf("comment %+v, want %q by %q", last.Comment, w.body, w.author)
			}
		} else if last.Comment != nil {
			t.Errorf("unexpected comment %+v", last.Comment)
		}
	}
}

// TestNormalizeMalformed: bodies that are not the JSON an event needs are
// ErrMalformed, never a panic and never another error.
func TestNormalizeMalformed(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	okDeep := `{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"a/b"},"x":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`
	cases := []struct {
		name   string
		vendor string
		event  string
		body   string
		ok     bool
	}{
		{"empty", "github", "push", ``, false},
		{"not json", "github", "push", `ref=main`, false},
		{"invalid utf8", "github", "push", "{\"ref\":\"refs/heads/\xff\"}", false},
		{"too deep", "github", "push", deep, false},
		{"depth at the bound", "github", "push", okDeep, true},
		{"brackets in strings do not count", "github", "push", `{"ref":"refs/heads/main","after":"a","repository":{"full_name":"a/b"},"m":"` + strings.Repeat("[", 200) + `"}`, true},
		{"array top level", "gitlab", "Push Hook", `[1,2]`, false},
		{"wrong type", "github", "pull_request", `{"action":"opened","number":"twelve"}`, false},
		{"wrong nested type", "bitbucket", "repo:push", `{"push":{"changes":{"new":1}}}`, false},
		{"push without ref", "github", "push", `{"after":"abc"}`, false},
		{"pr without number", "github", "pull_request", `{"action":"opened"}`, false},
		{"jira without key", "jira", "jira:issue_updated", `{"webhookEvent":"jira:issue_updated","issue":{}}`, false},
		{"servicenow without number", "servicenow", "", `{"state":"6"}`, false},
		{"manageengine note of wrong type", "manageengine", "", `{"request":{"display_id":"1","status":{"name":"Closed"}},"note":5}`, false},
		{"form without payload", "github", "push", `ref=main`, false},
		{"huge number", "gitlab", "Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"action":"open","iid":1e40}}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := testDelivery(c.vendor, c.event, []byte(c.body))
			if c.name == "form without payload" {
				d.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			_, _, _, err := Normalize(d)
			if c.ok {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err %v, want ErrMalformed", err)
			}
		})
	}
}

// TestNormalizeUnambiguous: a body that readers could read two ways is
// malformed: a key twice in one object (at any depth, in a part no field
// reads, in a value handed to an UnmarshalJSON method or kept raw, of an
// event that is then ignored), spelled alike, with other escapes, or
// differing only in case. The reason is a fixed phrase, never the key. A
// case variant alone is another name: it is not read.
func TestNormalizeUnambiguous(t *testing.T) {
	const push = `"after":"abc","repository":{"full_name":"acme/api"}`
	for _, c := range []struct {
		name, vendor, event, body string
		reason                    string // "" for a body that normalizes
	}{
		{"case variant beside the key", "github", "push", `{"ref":"refs/heads/main","REF":"refs/heads/evil",` + push + `}`, "duplicate key (spelled in another case)"},
		{"case variant of a nested key", "github", "push", `{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"acme/api","FULL_NAME":"evil/api"}}`, "duplicate key (spelled in another case)"},
		{"key twice at the top", "github", "push", `{"ref":"refs/heads/main","ref":"refs/heads/evil",` + push + `}`, "duplicate key"},
		{"key twice nested", "github", "push", `{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"acme/api","full_name":"evil/api"}}`, "duplicate key"},
		{"key twice at the top and nested", "github", "push", `{"ref":"refs/heads/main","ref":"x","repository":{"full_name":"a","full_name":"b"},"after":"abc"}`, "duplicate key"},
		{"one key in two escapes", "github", "push", `{"ref":"refs/heads/main","r\u0065f":"refs/heads/evil",` + push + `}`, "duplicate key"},
		{"key twice where no field reads", "github", "push", `{"ref":"refs/heads/main",` + push + `,"commits":[{"id":"1"},{"id":"2","id":"3"}]}`, "duplicate key"},
		{"key twice in a raw field", "github", "push", `{"ref":"refs/heads/main","after":"abc","repository":{"pushed_at":{"s":1,"s":2}}}`, "duplicate key"},
		{"key twice in an UnmarshalJSON value", "manageengine", "", `{"request":{"display_id":"1","status":{"name":"Open","name":"Closed"}}}`, "duplicate key"},
		{"case variant in a Jira document", "jira", "comment_created", `{"webhookEvent":"comment_created","issue":{"key":"SEC-1"},"comment":{"id":"1","body":{"type":"doc","content":[{"type":"text","text":"a","TEXT":"b"}]}}}`, "duplicate key (spelled in another case)"},
		{"key twice in an ignored event", "github", "star", `{"action":"created","action":"deleted"}`, "duplicate key"},
		{"key twice in a truncated body", "github", "push", `{"ref":"refs/heads/main","ref":"x"`, "duplicate key"},
		{"case variant alone is not the key", "github", "push", `{"REF":"refs/heads/main",` + push + `}`, "push without ref"},
		{"keys that only look alike", "github", "push", `{"ref":"refs/heads/main","refs":"x","Ref_":"y",` + push + `}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, _, _, err := Normalize(testDelivery(c.vendor, c.event, []byte(c.body)))
			if c.reason == "" {
				if err != nil || len(evs) != 1 || evs[0].CI.Branch != "main" {
					t.Fatalf("events %+v, err %v", evs, err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.HasSuffix(err.Error(), ": "+c.reason) {
				t.Fatalf("err %v, want ErrMalformed ending %q", err, c.reason)
			}
			if strings.Contains(err.Error(), "evil") || strings.Contains(err.Error(), "REF") {
				t.Errorf("reason %q echoes the body", err)
			}
		})
	}
}

// TestNormalizeCaseVariantNotRead: a field is read from its exact name
// only; a key in another case alone is an unknown key, skipped.
func TestNormalizeCaseVariantNotRead(t *testing.T) {
	evs, _, _, err := Normalize(testDelivery("github", "push",
		[]byte(`{"ref":"refs/heads/main","after":"0d1a","repository":{"full_name":"acme/api","HTML_URL":"https://evil"},"sender":{"Login":"evil"},"Pusher":{"name":"evil"}}`)))
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %+v, err %v", evs, err)
	}
	if ci := evs[0].CI; ci.Commit != "0d1a" || ci.Repository != "acme/api" || ci.Actor != "" || strings.Contains(ci.URL, "evil") {
		t.Errorf("case variants read: %+v", *ci)
	}
	// A field the event needs, present only in another case, is missing.
	_, _, _, err = Normalize(testDelivery("github", "push",
		[]byte(`{"ref":"refs/heads/main","After":"evil","repository":{"full_name":"acme/api"}}`)))
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("push with After only: %v, want malformed", err)
	}
}

// TestNormalizeNestedDecodesExactNames: what a normalizer decodes on its
// own from a part of the body (a Jira document comment, a ManageEngine
// status or note object) matches names exactly too.
func TestNormalizeNestedDecodesExactNames(t *testing.T) {
	evs, _, _, err := Normalize(testDelivery("jira", "comment_created", []byte(`{"webhookEvent":"comment_created","issue":{"key":"SEC-1"},`+
		`"comment":{"id":"1","body":{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"kept"},{"type":"text","Text":" not read"}]}]}}}`)))
	if err != nil || len(evs) != 1 || evs[0].Ticket.Comment.Body != "kept" {
		t.Fatalf("jira: events %+v, err %v", evs, err)
	}
	_, ign, reason, err := Normalize(testDelivery("manageengine", "", []byte(`{"request":{"display_id":"1","status":{"NAME":"Closed"}},"note":{"id":"7","Description":"not read"}}`)))
	if err != nil || !ign {
		t.Fatalf("manageengine: ignored=%v (%s) err %v: a status or note read from names in another case", ign, reason, err)
	}
}

// TestNormalizeUnknownVendor: an unknown vendor is ignored, not an error.
func TestNormalizeUnknownVendor(t *testing.T) {
	_, ign, reason, err := Normalize(testDelivery("teamcity", "build", []byte(`{}`)))
	if err != nil || !ign || reason == "" {
		t.Fatalf("ignored=%v reason=%q err=%v", ign, reason, err)
	}
}
