package events

import (
	"strings"
	"time"
)

// gitlabHooks maps the X-Gitlab-Event header to the body's object_kind.
var gitlabHooks = map[string]string{
	"Push Hook":          "push",
	"Tag Push Hook":      "tag_push",
	"Merge Request Hook": "merge_request",
	"Pipeline Hook":      "pipeline",
}

// GitLab yields:
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
// The header picks the kind; without one, or for a System Hook, the body's
// object_kind (else event_name) does. Note, Issue, Job, Deployment, Release,
// Wiki Page and the system hooks' group, user, key and project events are
// ignored.
func normalizeGitLab(in *input) ([]Event, string, error) {
	var head struct {
		ObjectKind string `json:"object_kind"`
		EventName  string `json:"event_name"`
	}
	if err := decode(in.body, &head); err != nil {
		return nil, "", err
	}
	kind, known := gitlabHooks[in.event]
	if !known {
		if in.event != "" && in.event != "System Hook" {
			return nil, "gitlab event " + quoteName(in.event) + " is not used", nil
		}
		kind = head.ObjectKind
		if kind == "" {
			kind = head.EventName
		}
		if in.event == "" {
			in.event = kind
		}
	}
	var handle func(*input, *gitlabBody) ([]Event, string, error)
	switch kind {
	case "push", "tag_push":
		handle = gitlabPush
	case "merge_request":
		handle = gitlabMergeRequest
	case "pipeline":
		handle = gitlabPipeline
	default:
		return nil, "gitlab event " + quoteName(kind) + " is not used", nil
	}
	var b gitlabBody
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	return handle(in, &b)
}

type gitlabUser struct {
	Username string `json:"username"`
	Name     string `json:"name"`
}

type gitlabBody struct {
	Ref          string      `json:"ref"`
	After        string      `json:"after"`
	CheckoutSHA  string      `json:"checkout_sha"`
	UserUsername string      `json:"user_username"`
	UserName     string      `json:"user_name"`
	User         *gitlabUser `json:"user"`
	Project      struct {
		PathWithNamespace string `json:"path_with_namespace"`
		WebURL            string `json:"web_url"`
	} `json:"project"`
	ObjectAttributes *struct {
		Action       string `json:"action"`
		State        string `json:"state"`
		IID          int    `json:"iid"`
		SourceBranch string `json:"source_branch"`
		OldRev       string `json:"oldrev"`
		URL          string `json:"url"`
		UpdatedAt    string `json:"updated_at"`
		LastCommit   struct {
			ID string `json:"id"`
		} `json:"last_commit"`
		// pipelines
		Ref        string `json:"ref"`
		Tag        bool   `json:"tag"`
		SHA        string `json:"sha"`
		Status     string `json:"status"`
		FinishedAt string `json:"finished_at"`
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

func gitlabPush(in *input, b *gitlabBody) ([]Event, string, error) {
	if b.Ref == "" {
		return nil, "", malformed("push without ref")
	}
	if zeroSHA(b.After) {
		return nil, "push deletes " + quoteName(b.Ref), nil
	}
	typ, branch := refKind(b.Ref)
	if typ == "" {
		return nil, "push to " + quoteName(b.Ref) + " is neither branch nor tag", nil
	}
	commit := b.CheckoutSHA
	if commit == "" {
		commit = b.After
	}
	url := ""
	if b.Project.WebURL != "" && commit != "" {
		url = strings.TrimSuffix(b.Project.WebURL, "/") + "/-/commit/" + commit
	}
	return []Event{in.ciEvent(typ, b.Ref, time.Time{}, CI{
		Repository: b.Project.PathWithNamespace,
		Branch:     branch,
		Commit:     commit,
		Actor:      b.actor(),
		URL:        url,
	})}, "", nil
}

func gitlabMergeRequest(in *input, b *gitlabBody) ([]Event, string, error) {
	oa := b.ObjectAttributes
	if oa == nil {
		return nil, "", malformed("merge request without object_attributes")
	}
	switch {
	case oa.Action == "open" || oa.Action == "reopen":
	case oa.Action == "update" && oa.OldRev != "":
	case oa.Action == "" && oa.State == "opened":
	default:
		return nil, "merge request action " + quoteName(oa.Action) + " brings no code", nil
	}
	if oa.IID <= 0 {
		return nil, "", malformed("merge request without iid")
	}
	return []Event{in.ciEvent(TypePullRequest, oa.SourceBranch, parseTime(oa.UpdatedAt), CI{
		Repository:  b.Project.PathWithNamespace,
		Branch:      branchOf(oa.SourceBranch),
		Commit:      oa.LastCommit.ID,
		PullRequest: oa.IID,
		Actor:       b.actor(),
		URL:         oa.URL,
	})}, "", nil
}

// gitlabFinal are the pipeline statuses after which nothing changes.
var gitlabFinal = map[string]bool{"success": true, "failed": true, "canceled": true, "skipped": true}

func gitlabPipeline(in *input, b *gitlabBody) ([]Event, string, error) {
	oa := b.ObjectAttributes
	if oa == nil {
		return nil, "", malformed("pipeline without object_attributes")
	}
	if !gitlabFinal[oa.Status] {
		return nil, "pipeline status " + quoteName(oa.Status) + " is not final", nil
	}
	branch := branchOf(oa.Ref)
	if oa.Tag && oa.Ref != "" {
		branch = "refs/tags/" + strings.TrimPrefix(oa.Ref, "refs/tags/")
	}
	return []Event{in.ciEvent(TypeBuild, oa.Ref, parseTime(oa.FinishedAt), CI{
		Repository: b.Project.PathWithNamespace,
		Branch:     branch,
		Commit:     oa.SHA,
		Actor:      b.actor(),
		URL:        oa.URL,
	})}, "", nil
}
