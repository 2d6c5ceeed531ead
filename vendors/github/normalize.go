package github

import (
	"encoding/json"
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
//   - ping: ci.ping.
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
			PushedAt json.RawMessage `json:"pushed_at"` // unix seconds in push payloads
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
	var at time.Time
	if p := b.Repository.PushedAt; len(p) > 0 && p[0] >= '1' && p[0] <= '9' {
		// Unix seconds in pushes (an RFC 3339 string elsewhere): only a
		// number is parsed, so a string costs no error allocation.
		if secs, err := strconv.ParseInt(string(p), 10, 64); err == nil && secs < 1<<40 {
			at = time.Unix(secs, 0).UTC()
		}
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
		PullRequest struct {
			Number    int    `json:"number"`
			HTMLURL   string `json:"html_url"`
			UpdatedAt string `json:"updated_at"`
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
	if !githubPRActions[b.Action] {
		return nil, "pull_request action " + events.QuoteName(b.Action) + " brings no code", nil
	}
	n := b.Number
	if n == 0 {
		n = b.PullRequest.Number
	}
	if n <= 0 {
		return nil, "", events.Malformed("pull_request without number")
	}
	return []events.Event{in.CIEvent(events.TypePullRequest, b.PullRequest.Head.Ref, events.ParseTime(b.PullRequest.UpdatedAt), events.CI{
		Repository:  b.Repository.FullName,
		Branch:      events.BranchOf(b.PullRequest.Head.Ref),
		Commit:      b.PullRequest.Head.SHA,
		PullRequest: n,
		Actor:       b.Sender.Login,
		URL:         b.PullRequest.HTMLURL,
	})}, "", nil
}

func githubPing(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		Repository githubRepo `json:"repository"`
		Sender     githubUser `json:"sender"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	return []events.Event{in.CIEvent(events.TypePing, "", time.Time{}, events.CI{
		Repository: b.Repository.FullName,
		Actor:      b.Sender.Login,
	})}, "", nil
}

func githubBuild(in *events.Input) ([]events.Event, string, error) {
	type run struct {
		HeadBranch string `json:"head_branch"`
		HeadSHA    string `json:"head_sha"`
		HTMLURL    string `json:"html_url"`
		UpdatedAt  string `json:"updated_at"`
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
	if b.Action != "completed" {
		return nil, in.Event + " action " + events.QuoteName(b.Action) + " is not a finished build", nil
	}
	r := b.WorkflowRun
	if in.Event == "check_suite" {
		r = b.CheckSuite
	}
	if r == nil {
		return nil, "", events.Malformed(in.Event + " without its run")
	}
	return []events.Event{in.CIEvent(events.TypeBuild, r.HeadBranch, events.ParseTime(r.UpdatedAt), events.CI{
		Repository: b.Repository.FullName,
		Branch:     events.BranchOf(r.HeadBranch),
		Commit:     r.HeadSHA,
		Actor:      b.Sender.Login,
		URL:        r.HTMLURL,
	})}, "", nil
}
