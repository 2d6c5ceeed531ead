package github

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
)

// init registers how GitHub's deliveries are identified and normalized.
func init() {
	events.Register(Vendor, events.Rules{Identify: identify, Normalize: normalize})
}

// normalize turns a GitHub delivery into its events. GitHub yields:
//
//   - push: ci.push for refs/heads/*, ci.tag for refs/tags/*; a push that
//     deletes its ref (deleted true, or after all zeros) is ignored.
//   - pull_request with action opened, reopened, synchronize or
//     ready_for_review: ci.pull_request. Other actions (closed, labeled,
//     assigned, edited, review_requested...) are ignored: they bring no new
//     code, and a merge arrives as a push to the base branch.
//   - ping: ci.ping; its hook_id is the hook that sent it (Facts.Hook).
//   - workflow_run and check_suite with action completed: ci.build.
//
// Every other event (star, fork, label, issues, release...) is ignored.
// Deliveries sent as application/x-www-form-urlencoded (`payload=<json>`)
// are unwrapped first.
func normalize(in *events.Input) ([]events.Event, string, error) {
	if isForm(in.Header().Get("Content-Type")) {
		// Exactly one payload: where there are more, which one a reader
		// takes differs (most frameworks the last, url.Values.Get the
		// first), so none is taken.
		vals, err := url.ParseQuery(string(in.Body))
		if len(vals["payload"]) > 1 {
			return nil, "", events.Malformed("form with more than one payload")
		}
		if err != nil || len(vals["payload"]) != 1 {
			return nil, "", events.Malformed("form body without payload")
		}
		in.Body = []byte(vals["payload"][0])
		if err := events.CheckJSON(in.Body); err != nil {
			return nil, "", err
		}
	}
	switch in.Event {
	case "push":
		return githubPush(in)
	case "pull_request":
		return githubPullRequest(in)
	case "ping":
		return githubPing(in)
	case "workflow_run", "check_suite":
		return githubBuild(in)
	}
	return nil, "github event " + events.QuoteName(in.Event) + " is not used", nil
}

// isForm reports whether ct is the form encoding GitHub uses for
// webhooks set to application/x-www-form-urlencoded.
func isForm(ct string) bool {
	if ct == "" {
		return false
	}
	// The media type is what precedes any parameter, in any case; no
	// parameter matters here, so none is parsed (and nothing allocated).
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

type githubRepo struct {
	FullName string `json:"full_name"`
}

type githubUser struct {
	Login string `json:"login"`
}

func githubPush(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		Ref        string `json:"ref"`
		After      string `json:"after"`
		Deleted    bool   `json:"deleted"`
		Compare    string `json:"compare"`
		Repository struct {
			FullName string          `json:"full_name"`
			PushedAt events.FlexTime `json:"pushed_at"` // unix seconds in push payloads, RFC 3339 elsewhere
		} `json:"repository"`
		Sender githubUser `json:"sender"`
		Pusher struct {
			Name string `json:"name"`
		} `json:"pusher"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if b.Ref == "" {
		return nil, "", events.Malformed("push without ref")
	}
	if b.After == "" {
		return nil, "", events.Malformed("push without after")
	}
	if b.Repository.FullName == "" {
		return nil, "", events.Malformed("push without repository")
	}
	at := b.Repository.PushedAt.Time()
	in.SetEventTime(at)
	in.AddTarget(b.Repository.FullName)
	if b.Deleted || events.ZeroSHA(b.After) {
		return nil, "push deletes " + events.QuoteName(b.Ref), nil
	}
	typ, branch := events.RefKind(b.Ref)
	if typ == "" {
		return nil, "push to " + events.QuoteName(b.Ref) + " is neither branch nor tag", nil
	}
	actor := b.Sender.Login
	if actor == "" {
		actor = b.Pusher.Name
	}
	return []events.Event{in.CIEvent(typ, b.Ref, at, events.CI{
		Repository: b.Repository.FullName,
		Branch:     branch,
		Commit:     b.After,
		Actor:      actor,
		URL:        b.Compare,
	})}, "", nil
}

// githubPRActions are the pull_request actions that bring code to scan.
var githubPRActions = map[string]bool{"opened": true, "reopened": true, "synchronize": true, "ready_for_review": true}

func githubPullRequest(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		Action      string `json:"action"`
		Number      int    `json:"number"`
		PullRequest *struct {
			Number    int             `json:"number"`
			HTMLURL   string          `json:"html_url"`
			UpdatedAt events.FlexTime `json:"updated_at"`
			Head      struct {
				Ref string `json:"ref"`
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
		Repository githubRepo `json:"repository"`
		Sender     githubUser `json:"sender"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	pr := b.PullRequest
	switch {
	case b.Action == "":
		return nil, "", events.Malformed("pull_request without action")
	case b.Number <= 0:
		// Review, review comment and thread bodies carry a pull_request
		// object too, but no top-level number.
		return nil, "", events.Malformed("pull_request without number")
	case pr == nil:
		return nil, "", events.Malformed("pull_request without its pull_request")
	case pr.Number != 0 && pr.Number != b.Number:
		return nil, "", events.Malformed("pull_request numbers disagree")
	case b.Repository.FullName == "":
		return nil, "", events.Malformed("pull_request without repository")
	}
	in.SetEventTime(pr.UpdatedAt.Time())
	in.AddTarget(b.Repository.FullName)
	if !githubPRActions[b.Action] {
		return nil, "pull_request action " + events.QuoteName(b.Action) + " brings no code", nil
	}
	return []events.Event{in.CIEvent(events.TypePullRequest, pr.Head.Ref, pr.UpdatedAt.Time(), events.CI{
		Repository:  b.Repository.FullName,
		Branch:      events.BranchOf(pr.Head.Ref),
		Commit:      pr.Head.SHA,
		PullRequest: b.Number,
		Actor:       b.Sender.Login,
		URL:         pr.HTMLURL,
	})}, "", nil
}

func githubPing(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		Zen        string     `json:"zen"`
		HookID     int64      `json:"hook_id"`
		Repository githubRepo `json:"repository"`
		Sender     githubUser `json:"sender"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if b.Zen == "" || b.HookID <= 0 {
		return nil, "", events.Malformed("ping without zen and hook_id")
	}
	// No event time: hook.updated_at is when the hook was last configured,
	// not when this ping was sent (GitHub pings an old hook on demand).
	in.AddTarget(b.Repository.FullName)
	in.SetHook(strconv.FormatInt(b.HookID, 10))
	return []events.Event{in.CIEvent(events.TypePing, "", time.Time{}, events.CI{
		Repository: b.Repository.FullName,
		Actor:      b.Sender.Login,
	})}, "", nil
}

func githubBuild(in *events.Input) ([]events.Event, string, error) {
	type run struct {
		HeadBranch string          `json:"head_branch"`
		HeadSHA    string          `json:"head_sha"`
		HTMLURL    string          `json:"html_url"`
		UpdatedAt  events.FlexTime `json:"updated_at"`
	}
	var b struct {
		Action      string     `json:"action"`
		WorkflowRun *run       `json:"workflow_run"`
		CheckSuite  *run       `json:"check_suite"`
		Repository  githubRepo `json:"repository"`
		Sender      githubUser `json:"sender"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	r := b.WorkflowRun
	if in.Event == "check_suite" {
		r = b.CheckSuite
	}
	switch {
	case r == nil:
		return nil, "", events.Malformed(in.Event + " without its run")
	case b.Action == "":
		return nil, "", events.Malformed(in.Event + " without action")
	case b.Repository.FullName == "":
		return nil, "", events.Malformed(in.Event + " without repository")
	}
	in.SetEventTime(r.UpdatedAt.Time())
	in.AddTarget(b.Repository.FullName)
	if b.Action != "completed" {
		return nil, in.Event + " action " + events.QuoteName(b.Action) + " is not a finished build", nil
	}
	return []events.Event{in.CIEvent(events.TypeBuild, r.HeadBranch, r.UpdatedAt.Time(), events.CI{
		Repository: b.Repository.FullName,
		Branch:     events.BranchOf(r.HeadBranch),
		Commit:     r.HeadSHA,
		Actor:      b.Sender.Login,
		URL:        r.HTMLURL,
	})}, "", nil
}
