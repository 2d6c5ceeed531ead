package events

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GitHub yields:
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
func normalizeGitHub(in *input) ([]Event, string, error) {
	if isForm(in.d.Header.Get("Content-Type")) {
		vals, err := url.ParseQuery(string(in.body))
		if err != nil || !vals.Has("payload") {
			return nil, "", malformed("form body without payload")
		}
		in.body = []byte(vals.Get("payload"))
		if err := checkJSON(in.body); err != nil {
			return nil, "", err
		}
	}
	switch in.event {
	case "push":
		return githubPush(in)
	case "pull_request":
		return githubPullRequest(in)
	case "ping":
		return githubPing(in)
	case "workflow_run", "check_suite":
		return githubBuild(in)
	}
	return nil, "github event " + quoteName(in.event) + " is not used", nil
}

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

func githubPush(in *input) ([]Event, string, error) {
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
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	if b.Ref == "" {
		return nil, "", malformed("push without ref")
	}
	if b.Deleted || zeroSHA(b.After) {
		return nil, "push deletes " + quoteName(b.Ref), nil
	}
	typ, branch := refKind(b.Ref)
	if typ == "" {
		return nil, "push to " + quoteName(b.Ref) + " is neither branch nor tag", nil
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
	return []Event{in.ciEvent(typ, b.Ref, at, CI{
		Repository: b.Repository.FullName,
		Branch:     branch,
		Commit:     b.After,
		Actor:      actor,
		URL:        b.Compare,
	})}, "", nil
}

// githubPRActions are the pull_request actions that bring code to scan.
var githubPRActions = map[string]bool{"opened": true, "reopened": true, "synchronize": true, "ready_for_review": true}

func githubPullRequest(in *input) ([]Event, string, error) {
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
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	if !githubPRActions[b.Action] {
		return nil, "pull_request action " + quoteName(b.Action) + " brings no code", nil
	}
	n := b.Number
	if n == 0 {
		n = b.PullRequest.Number
	}
	if n <= 0 {
		return nil, "", malformed("pull_request without number")
	}
	return []Event{in.ciEvent(TypePullRequest, b.PullRequest.Head.Ref, parseTime(b.PullRequest.UpdatedAt), CI{
		Repository:  b.Repository.FullName,
		Branch:      branchOf(b.PullRequest.Head.Ref),
		Commit:      b.PullRequest.Head.SHA,
		PullRequest: n,
		Actor:       b.Sender.Login,
		URL:         b.PullRequest.HTMLURL,
	})}, "", nil
}

func githubPing(in *input) ([]Event, string, error) {
	var b struct {
		Repository githubRepo `json:"repository"`
		Sender     githubUser `json:"sender"`
	}
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	return []Event{in.ciEvent(TypePing, "", time.Time{}, CI{
		Repository: b.Repository.FullName,
		Actor:      b.Sender.Login,
	})}, "", nil
}

func githubBuild(in *input) ([]Event, string, error) {
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
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	if b.Action != "completed" {
		return nil, in.event + " action " + quoteName(b.Action) + " is not a finished build", nil
	}
	r := b.WorkflowRun
	if in.event == "check_suite" {
		r = b.CheckSuite
	}
	if r == nil {
		return nil, "", malformed(in.event + " without its run")
	}
	return []Event{in.ciEvent(TypeBuild, r.HeadBranch, parseTime(r.UpdatedAt), CI{
		Repository: b.Repository.FullName,
		Branch:     branchOf(r.HeadBranch),
		Commit:     r.HeadSHA,
		Actor:      b.Sender.Login,
		URL:        r.HTMLURL,
	})}, "", nil
}

// quoteName quotes a vendor-supplied name for a reason string, bounded.
func quoteName(s string) string {
	return `"` + capString(sanitizeReason(s), 64) + `"`
}

// sanitizeReason keeps reasons printable: they go to logs and audit entries.
func sanitizeReason(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] < 0x20 || b[j] > 0x7e || b[j] == '"' || b[j] == '\\' {
					b[j] = '?'
				}
			}
			return string(b)
		}
	}
	return s
}
