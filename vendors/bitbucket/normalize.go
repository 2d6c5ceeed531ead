package bitbucket

import (
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
)

// init registers how Bitbucket's deliveries are identified and normalized.
func init() {
	events.Register(Vendor, events.Rules{Identify: identify, Normalize: normalize})
}

// normalize turns a Bitbucket delivery into its events. Bitbucket Cloud
// and Data Center share the vendor name `bitbucket`; the X-Event-Key
// tells them apart (repo:refs_changed, pr:*, diagnostics:ping are Data
// Center), else the body (a Data Center body names its eventKey).
//
// Cloud yields ci.push or ci.tag per change of repo:push (deleted refs
// skipped) and ci.pull_request for pullrequest:created and
// pullrequest:updated. Data Center yields ci.push or ci.tag per change of
// repo:refs_changed (DELETE changes skipped), ci.pull_request for
// pr:opened, pr:from_ref_updated and pr:modified, and ci.ping for
// diagnostics:ping. Comments, approvals, reviews, merges, declines, forks,
// issues, commit statuses and repository edits are ignored: they bring no
// new code (a merge arrives as a push).
//
// X-Event-Key is outside the signature, so a key normalize acts on must
// fit the body, else the body is malformed: a Data Center body's eventKey
// is the key, and any body naming an eventKey names the header's; each
// key's own fields are there (doc.go lists them).
func normalize(in *events.Input) ([]events.Event, string, error) {
	key := in.Event
	if key == "" {
		var head struct {
			EventKey string    `json:"eventKey"`
			Push     *struct{} `json:"push"`
		}
		if err := events.Decode(in.Body, &head); err != nil {
			return nil, "", err
		}
		key = head.EventKey
		if key == "" && head.Push != nil {
			key = "repo:push"
		}
		if key == "" {
			return nil, "bitbucket delivery without event key", nil
		}
		in.Event = key
	}
	switch key {
	case "repo:push":
		return bitbucketCloudPush(in)
	case "pullrequest:created", "pullrequest:updated":
		return bitbucketCloudPR(in)
	case "repo:refs_changed":
		return bitbucketDCPush(in)
	case "pr:opened", "pr:from_ref_updated", "pr:modified":
		return bitbucketDCPR(in)
	case "diagnostics:ping":
		return bitbucketDCPing(in)
	}
	return nil, "bitbucket event " + events.QuoteName(key) + " is not used", nil
}

// keyAgrees checks the eventKey a body names against the event it was
// sent as: a body naming another is one sent under the wrong key, and a
// Data Center event's body (dc) always names its own.
func keyAgrees(in *events.Input, eventKey string, dc bool) error {
	switch {
	case eventKey != "" && eventKey != in.Event:
		return events.Malformed("eventKey is not the event's")
	case dc && eventKey == "":
		return events.Malformed("data center event without eventKey")
	}
	return nil
}

// bitbucketDCPing is Data Center's "test connection": a body of
// {"test": true} and nothing else hookgate reads.
func bitbucketDCPing(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		EventKey string `json:"eventKey"`
		Test     bool   `json:"test"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if err := keyAgrees(in, b.EventKey, false); err != nil {
		return nil, "", err
	}
	if !b.Test {
		return nil, "", events.Malformed("ping without test")
	}
	return []events.Event{in.CIEvent(events.TypePing, "", time.Time{}, events.CI{})}, "", nil
}

type bitbucketCloudRepo struct {
	FullName string `json:"full_name"`
}

type bitbucketCloudActor struct {
	Nickname    string `json:"nickname"`
	DisplayName string `json:"display_name"`
}

func (a bitbucketCloudActor) name() string {
	if a.Nickname != "" {
		return a.Nickname
	}
	return a.DisplayName
}

type bitbucketCloudRef struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Target struct {
		Hash string `json:"hash"`
	} `json:"target"`
	Links struct {
		HTML struct {
			Href string `json:"href"`
		} `json:"html"`
	} `json:"links"`
}

func bitbucketCloudPush(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		EventKey   string              `json:"eventKey"`
		Actor      bitbucketCloudActor `json:"actor"`
		Repository bitbucketCloudRepo  `json:"repository"`
		Push       *struct {
			Changes []struct {
				New *bitbucketCloudRef `json:"new"`
			} `json:"changes"`
		} `json:"push"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if err := keyAgrees(in, b.EventKey, false); err != nil {
		return nil, "", err
	}
	switch {
	case b.Push == nil || b.Push.Changes == nil:
		return nil, "", events.Malformed("push without push.changes")
	case b.Repository.FullName == "":
		return nil, "", events.Malformed("push without repository")
	}
	// No event time: a Cloud push carries none of its own, only its
	// commits' dates, which a push of an old commit has far back.
	in.AddTarget(b.Repository.FullName)
	if len(b.Push.Changes) > events.MaxRefChanges {
		return nil, "", events.Malformed("too many ref changes")
	}
	var evs []events.Event
	for _, c := range b.Push.Changes {
		if c.New == nil || c.New.Name == "" {
			continue // the ref was deleted
		}
		var ref string
		switch c.New.Type {
		case "branch", "named_branch":
			ref = "refs/heads/" + c.New.Name
		case "tag", "annotated_tag":
			ref = "refs/tags/" + c.New.Name
		default:
			continue
		}
		typ, branch := events.RefKind(ref)
		evs = append(evs, in.CIEvent(typ, ref, time.Time{}, events.CI{
			Repository: b.Repository.FullName,
			Branch:     branch,
			Commit:     c.New.Target.Hash,
			Actor:      b.Actor.name(),
			URL:        c.New.Links.HTML.Href,
		}))
	}
	if len(evs) == 0 {
		return nil, "push only deletes refs", nil
	}
	return evs, "", nil
}

// bitbucketClosed are the pull request states after which Cloud sends no
// pullrequest:created or pullrequest:updated: a body in one of them is a
// fulfilled or rejected delivery sent under another key.
var bitbucketClosed = map[string]bool{"MERGED": true, "DECLINED": true, "SUPERSEDED": true}

func bitbucketCloudPR(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		EventKey   string              `json:"eventKey"`
		Actor      bitbucketCloudActor `json:"actor"`
		Repository bitbucketCloudRepo  `json:"repository"`
		// A comment's, an approval's or a change request's body is the
		// pull request's with one of these beside it.
		Comment        *struct{} `json:"comment"`
		Approval       *struct{} `json:"approval"`
		ChangesRequest *struct{} `json:"changes_request"`
		PullRequest    *struct {
			ID        int             `json:"id"`
			State     string          `json:"state"`
			UpdatedOn events.FlexTime `json:"updated_on"`
			Source    struct {
				Branch struct {
					Name string `json:"name"`
				} `json:"branch"`
				Commit struct {
					Hash string `json:"hash"`
				} `json:"commit"`
			} `json:"source"`
			Links struct {
				HTML struct {
					Href string `json:"href"`
				} `json:"html"`
			} `json:"links"`
		} `json:"pullrequest"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if err := keyAgrees(in, b.EventKey, false); err != nil {
		return nil, "", err
	}
	pr := b.PullRequest
	switch {
	case pr == nil || pr.ID <= 0:
		return nil, "", events.Malformed("pull request without id")
	case b.Repository.FullName == "":
		return nil, "", events.Malformed("pull request without repository")
	case b.Comment != nil || b.Approval != nil || b.ChangesRequest != nil:
		return nil, "", events.Malformed("pull request body of a comment, approval or change request")
	case bitbucketClosed[pr.State]:
		return nil, "", events.Malformed("pull request body of a closed pull request")
	}
	in.SetEventTime(pr.UpdatedOn.Time())
	in.AddTarget(b.Repository.FullName)
	return []events.Event{in.CIEvent(events.TypePullRequest, pr.Source.Branch.Name, pr.UpdatedOn.Time(), events.CI{
		Repository:  b.Repository.FullName,
		Branch:      events.BranchOf(pr.Source.Branch.Name),
		Commit:      pr.Source.Commit.Hash,
		PullRequest: pr.ID,
		Actor:       b.Actor.name(),
		URL:         pr.Links.HTML.Href,
	})}, "", nil
}

type bitbucketDCRepo struct {
	Slug    string `json:"slug"`
	Project struct {
		Key string `json:"key"`
	} `json:"project"`
}

func (r bitbucketDCRepo) name() string {
	if r.Project.Key == "" {
		return r.Slug
	}
	return r.Project.Key + "/" + r.Slug
}

// target is the repository's name as an integration's target spells it,
// PROJECT/slug; "" without a project key.
func (r bitbucketDCRepo) target() string {
	if r.Project.Key == "" {
		return ""
	}
	return r.name()
}

type bitbucketDCActor struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

func (a bitbucketDCActor) name() string {
	if a.Name != "" {
		return a.Name
	}
	return a.DisplayName
}

func bitbucketDCPush(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		EventKey   string           `json:"eventKey"`
		Date       events.FlexTime  `json:"date"`
		Actor      bitbucketDCActor `json:"actor"`
		Repository bitbucketDCRepo  `json:"repository"`
		Changes    []struct {
			Ref struct {
				ID        string `json:"id"`
				DisplayID string `json:"displayId"`
				Type      string `json:"type"`
			} `json:"ref"`
			RefID  string `json:"refId"`
			ToHash string `json:"toHash"`
			Type   string `json:"type"`
		} `json:"changes"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if err := keyAgrees(in, b.EventKey, true); err != nil {
		return nil, "", err
	}
	switch {
	case b.Repository.Slug == "":
		return nil, "", events.Malformed("refs_changed without repository")
	case b.Changes == nil:
		return nil, "", events.Malformed("refs_changed without changes")
	}
	in.SetEventTime(b.Date.Time())
	in.AddTarget(b.Repository.target())
	if len(b.Changes) > events.MaxRefChanges {
		return nil, "", events.Malformed("too many ref changes")
	}
	at := b.Date.Time()
	var evs []events.Event
	for _, c := range b.Changes {
		if c.Type == "DELETE" || events.ZeroSHA(c.ToHash) {
			continue
		}
		ref := c.Ref.ID
		if ref == "" {
			ref = c.RefID
		}
		if ref == "" && c.Ref.DisplayID != "" {
			switch c.Ref.Type {
			case "BRANCH":
				ref = "refs/heads/" + c.Ref.DisplayID
			case "TAG":
				ref = "refs/tags/" + c.Ref.DisplayID
			}
		}
		typ, branch := events.RefKind(ref)
		if typ == "" {
			continue
		}
		evs = append(evs, in.CIEvent(typ, ref, at, events.CI{
			Repository: b.Repository.name(),
			Branch:     branch,
			Commit:     c.ToHash,
			Actor:      b.Actor.name(),
		}))
	}
	if len(evs) == 0 {
		return nil, "refs_changed only deletes refs", nil
	}
	return evs, "", nil
}

func bitbucketDCPR(in *events.Input) ([]events.Event, string, error) {
	type dcRef struct {
		ID           string          `json:"id"`
		DisplayID    string          `json:"displayId"`
		LatestCommit string          `json:"latestCommit"`
		Repository   bitbucketDCRepo `json:"repository"`
	}
	var b struct {
		EventKey    string           `json:"eventKey"`
		Date        events.FlexTime  `json:"date"`
		Actor       bitbucketDCActor `json:"actor"`
		PullRequest *struct {
			ID      int   `json:"id"`
			FromRef dcRef `json:"fromRef"`
			ToRef   dcRef `json:"toRef"`
			Links   struct {
				Self []struct {
					Href string `json:"href"`
				} `json:"self"`
			} `json:"links"`
		} `json:"pullRequest"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if err := keyAgrees(in, b.EventKey, true); err != nil {
		return nil, "", err
	}
	pr := b.PullRequest
	switch {
	case pr == nil || pr.ID <= 0:
		return nil, "", events.Malformed("pull request without id")
	case pr.ToRef.Repository.Slug == "":
		return nil, "", events.Malformed("pull request without toRef repository")
	}
	in.SetEventTime(b.Date.Time())
	in.AddTarget(pr.ToRef.Repository.target())
	url := ""
	if len(pr.Links.Self) > 0 {
		url = pr.Links.Self[0].Href
	}
	branch := pr.FromRef.DisplayID
	if branch == "" {
		branch = events.BranchOf(pr.FromRef.ID)
	}
	return []events.Event{in.CIEvent(events.TypePullRequest, "pr/"+strconv.Itoa(pr.ID), b.Date.Time(), events.CI{
		Repository:  pr.ToRef.Repository.name(),
		Branch:      strings.TrimPrefix(branch, "refs/heads/"),
		Commit:      pr.FromRef.LatestCommit,
		PullRequest: pr.ID,
		Actor:       b.Actor.name(),
		URL:         url,
	})}, "", nil
}
