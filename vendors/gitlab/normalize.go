package gitlab

import (
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
)

// gitlabHooks maps the X-Gitlab-Event header to the body's object_kind.
var gitlabHooks = map[string]string{
	"Push Hook":          "push",
	"Tag Push Hook":      "tag_push",
	"Merge Request Hook": "merge_request",
	"Pipeline Hook":      "pipeline",
}

// init registers how GitLab's deliveries are identified and normalized.
func init() {
	events.Register(Vendor, events.Rules{Identify: identify, Normalize: normalize})
}

// normalize turns a GitLab delivery into its events. GitLab yields:
//
//   - Push Hook: ci.push; a push deleting its branch (after all zeros) is
//     ignored.
//   - Tag Push Hook: ci.tag (deleted tags ignored).
//   - Merge Request Hook with action open, reopen, or update with new
//     commits (oldrev present): ci.pull_request; without an action (system
//     hooks) an opened merge request counts as open. Close, merge, approval
//     and other updates are ignored.
//   - Pipeline Hook in a final status (success, failed, canceled, skipped):
//     ci.build; running and pending pipelines are ignored.
//
// The header picks the kind, and the body must agree: its object_kind
// (and event_name, when it has one) is the kind the header names, else
// the body is malformed. Without a header, or for a System Hook, the
// body's object_kind (else event_name) picks it, and the two must agree
// when both are there. Note, Issue, Job, Deployment, Release, Wiki Page and
// the system hooks' group, user, key and project events are ignored. Each
// kind's own fields must be in the body (doc.go lists them).
func normalize(in *events.Input) ([]events.Event, string, error) {
	var head struct {
		ObjectKind string `json:"object_kind"`
		EventName  string `json:"event_name"`
	}
	if err := events.Decode(in.Body, &head); err != nil {
		return nil, "", err
	}
	if head.ObjectKind != "" && head.EventName != "" && head.ObjectKind != head.EventName {
		return nil, "", events.Malformed("object_kind and event_name disagree")
	}
	kind, known := gitlabHooks[in.Event]
	if known {
		if head.ObjectKind != kind {
			// A GitLab body names its own kind; a header that names
			// another is a body sent under the wrong event.
			return nil, "", events.Malformed("object_kind is not the event's")
		}
	} else {
		if in.Event != "" && in.Event != "System Hook" {
			return nil, "gitlab event " + events.QuoteName(in.Event) + " is not used", nil
		}
		kind = head.ObjectKind
		if kind == "" {
			kind = head.EventName
		}
		if in.Event == "" {
			in.Event = kind
		}
	}
	var handle func(*events.Input, *gitlabBody) ([]events.Event, string, error)
	switch kind {
	case "push", "tag_push":
		handle = gitlabPush
	case "merge_request":
		handle = gitlabMergeRequest
	case "pipeline":
		handle = gitlabPipeline
	default:
		return nil, "gitlab event " + events.QuoteName(kind) + " is not used", nil
	}
	var b gitlabBody
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if b.Project.PathWithNamespace == "" {
		return nil, "", events.Malformed(kind + " without project")
	}
	id := b.Project.ID
	if id <= 0 {
		id = b.ProjectID
	}
	in.AddTarget(b.Project.PathWithNamespace)
	if id > 0 {
		in.AddTarget(strconv.FormatInt(int64(id), 10))
	}
	return handle(in, &b)
}

type gitlabUser struct {
	Username string `json:"username"`
	Name     string `json:"name"`
}

type gitlabBody struct {
	Ref          string         `json:"ref"`
	After        string         `json:"after"`
	CheckoutSHA  string         `json:"checkout_sha"`
	UserUsername string         `json:"user_username"`
	UserName     string         `json:"user_name"`
	User         *gitlabUser    `json:"user"`
	ProjectID    events.FlexInt `json:"project_id"`
	Project      struct {
		ID                events.FlexInt `json:"id"`
		PathWithNamespace string         `json:"path_with_namespace"`
		WebURL            string         `json:"web_url"`
	} `json:"project"`
	ObjectAttributes *struct {
		Action       string          `json:"action"`
		State        string          `json:"state"`
		IID          int             `json:"iid"`
		SourceBranch string          `json:"source_branch"`
		OldRev       string          `json:"oldrev"`
		URL          string          `json:"url"`
		UpdatedAt    events.FlexTime `json:"updated_at"`
		LastCommit   struct {
			ID string `json:"id"`
		} `json:"last_commit"`
		// pipelines
		Ref        string          `json:"ref"`
		Tag        bool            `json:"tag"`
		SHA        string          `json:"sha"`
		Status     string          `json:"status"`
		FinishedAt events.FlexTime `json:"finished_at"`
	} `json:"object_attributes"`
}

func (b *gitlabBody) actor() string {
	if b.User != nil {
		if b.User.Username != "" {
			return b.User.Username
		}
		return b.User.Name
	}
	if b.UserUsername != "" {
		return b.UserUsername
	}
	return b.UserName
}

// gitlabPush states no event time: a push hook carries none of its own,
// and its commits' timestamps are when they were committed, which a push
// of an old commit (a new branch from main) legitimately has far back.
func gitlabPush(in *events.Input, b *gitlabBody) ([]events.Event, string, error) {
	if b.Ref == "" {
		return nil, "", events.Malformed("push without ref")
	}
	if b.After == "" {
		return nil, "", events.Malformed("push without after")
	}
	if events.ZeroSHA(b.After) {
		return nil, "push deletes " + events.QuoteName(b.Ref), nil
	}
	typ, branch := events.RefKind(b.Ref)
	if typ == "" {
		return nil, "push to " + events.QuoteName(b.Ref) + " is neither branch nor tag", nil
	}
	commit := b.CheckoutSHA
	if commit == "" {
		commit = b.After
	}
	url := ""
	if b.Project.WebURL != "" && commit != "" {
		url = strings.TrimSuffix(b.Project.WebURL, "/") + "/-/commit/" + commit
	}
	return []events.Event{in.CIEvent(typ, b.Ref, time.Time{}, events.CI{
		Repository: b.Project.PathWithNamespace,
		Branch:     branch,
		Commit:     commit,
		Actor:      b.actor(),
		URL:        url,
	})}, "", nil
}

func gitlabMergeRequest(in *events.Input, b *gitlabBody) ([]events.Event, string, error) {
	oa := b.ObjectAttributes
	if oa == nil {
		return nil, "", events.Malformed("merge request without object_attributes")
	}
	in.SetEventTime(oa.UpdatedAt.Time())
	switch {
	case oa.Action == "open" || oa.Action == "reopen":
	case oa.Action == "update" && oa.OldRev != "":
	case oa.Action == "" && oa.State == "opened":
	default:
		return nil, "merge request action " + events.QuoteName(oa.Action) + " brings no code", nil
	}
	if oa.IID <= 0 {
		return nil, "", events.Malformed("merge request without iid")
	}
	return []events.Event{in.CIEvent(events.TypePullRequest, oa.SourceBranch, oa.UpdatedAt.Time(), events.CI{
		Repository:  b.Project.PathWithNamespace,
		Branch:      events.BranchOf(oa.SourceBranch),
		Commit:      oa.LastCommit.ID,
		PullRequest: oa.IID,
		Actor:       b.actor(),
		URL:         oa.URL,
	})}, "", nil
}

// gitlabFinal are the pipeline statuses after which nothing changes.
var gitlabFinal = map[string]bool{"success": true, "failed": true, "canceled": true, "skipped": true}

func gitlabPipeline(in *events.Input, b *gitlabBody) ([]events.Event, string, error) {
	oa := b.ObjectAttributes
	if oa == nil {
		return nil, "", events.Malformed("pipeline without object_attributes")
	}
	in.SetEventTime(oa.FinishedAt.Time())
	if !gitlabFinal[oa.Status] {
		return nil, "pipeline status " + events.QuoteName(oa.Status) + " is not final", nil
	}
	branch := events.BranchOf(oa.Ref)
	if oa.Tag && oa.Ref != "" {
		branch = "refs/tags/" + strings.TrimPrefix(oa.Ref, "refs/tags/")
	}
	return []events.Event{in.CIEvent(events.TypeBuild, oa.Ref, oa.FinishedAt.Time(), events.CI{
		Repository: b.Project.PathWithNamespace,
		Branch:     branch,
		Commit:     oa.SHA,
		Actor:      b.actor(),
		URL:        oa.URL,
	})}, "", nil
}
