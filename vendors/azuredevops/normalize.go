package azuredevops

import (
	"strconv"
	"strings"

	"github.com/hookgate/caddy-hookgate/events"
)

// init registers how Azure DevOps' deliveries are identified and
// normalized.
func init() {
	events.Register(Vendor, events.Rules{Identify: identify, Normalize: normalize})
}

// normalize turns an Azure DevOps delivery into its events. Azure DevOps
// yields ci.push or ci.tag per refUpdate of git.push (deleted refs
// skipped), ci.pull_request for git.pullrequest.created and for
// git.pullrequest.updated while the pull request is active, and ci.build
// for build.complete. git.pullrequest.merged, updates of completed or
// abandoned pull requests, and every other event type are ignored (a
// merge arrives as a push). The event name comes from the body's
// eventType.
func normalize(in *events.Input) ([]events.Event, string, error) {
	switch in.Event {
	case "git.push":
		return azurePush(in)
	case "git.pullrequest.created", "git.pullrequest.updated":
		return azurePR(in)
	case "build.complete":
		return azureBuild(in)
	}
	return nil, "azure devops event " + events.QuoteName(in.Event) + " is not used", nil
}

type azureIdentity struct {
	DisplayName string `json:"displayName"`
	UniqueName  string `json:"uniqueName"`
}

func (i *azureIdentity) name() string {
	if i == nil {
		return ""
	}
	if i.UniqueName != "" {
		return i.UniqueName
	}
	return i.DisplayName
}

type azureRepo struct {
	Name    string `json:"name"`
	Project struct {
		Name string `json:"name"`
	} `json:"project"`
	RemoteURL string `json:"remoteUrl"`
}

func (r azureRepo) fullName() string {
	if r.Project.Name == "" {
		return r.Name
	}
	return r.Project.Name + "/" + r.Name
}

func azurePush(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		CreatedDate string `json:"createdDate"`
		Resource    struct {
			RefUpdates []struct {
				Name        string `json:"name"`
				NewObjectID string `json:"newObjectId"`
			} `json:"refUpdates"`
			Repository azureRepo      `json:"repository"`
			PushedBy   *azureIdentity `json:"pushedBy"`
			Date       string         `json:"date"`
		} `json:"resource"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	r := &b.Resource
	if len(r.RefUpdates) > events.MaxRefChanges {
		return nil, "", events.Malformed("too many ref changes")
	}
	at := events.ParseTime(r.Date)
	if at.IsZero() {
		at = events.ParseTime(b.CreatedDate)
	}
	var evs []events.Event
	for _, u := range r.RefUpdates {
		if events.ZeroSHA(u.NewObjectID) {
			continue
		}
		typ, branch := events.RefKind(u.Name)
		if typ == "" {
			continue
		}
		evs = append(evs, in.CIEvent(typ, u.Name, at, events.CI{
			Repository: r.Repository.fullName(),
			Branch:     branch,
			Commit:     u.NewObjectID,
			Actor:      r.PushedBy.name(),
			URL:        r.Repository.RemoteURL,
		}))
	}
	if len(evs) == 0 {
		return nil, "push only deletes refs", nil
	}
	return evs, "", nil
}

func azurePR(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		CreatedDate string `json:"createdDate"`
		Resource    struct {
			Repository            azureRepo      `json:"repository"`
			PullRequestID         int            `json:"pullRequestId"`
			Status                string         `json:"status"`
			CreatedBy             *azureIdentity `json:"createdBy"`
			SourceRefName         string         `json:"sourceRefName"`
			LastMergeSourceCommit struct {
				CommitID string `json:"commitId"`
			} `json:"lastMergeSourceCommit"`
		} `json:"resource"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	r := &b.Resource
	if r.Status != "" && r.Status != "active" {
		return nil, "pull request is " + events.QuoteName(r.Status), nil
	}
	if r.PullRequestID <= 0 {
		return nil, "", events.Malformed("pull request without id")
	}
	url := ""
	if r.Repository.RemoteURL != "" {
		url = strings.TrimSuffix(r.Repository.RemoteURL, "/") + "/pullrequest/" + strconv.Itoa(r.PullRequestID)
	}
	return []events.Event{in.CIEvent(events.TypePullRequest, r.SourceRefName, events.ParseTime(b.CreatedDate), events.CI{
		Repository:  r.Repository.fullName(),
		Branch:      events.BranchOf(r.SourceRefName),
		Commit:      r.LastMergeSourceCommit.CommitID,
		PullRequest: r.PullRequestID,
		Actor:       r.CreatedBy.name(),
		URL:         url,
	})}, "", nil
}

func azureBuild(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		Resource struct {
			SourceBranch     string         `json:"sourceBranch"`
			SourceVersion    string         `json:"sourceVersion"`
			SourceGetVersion string         `json:"sourceGetVersion"` // LG:<ref>:<sha> (XAML builds)
			FinishTime       string         `json:"finishTime"`
			RequestedFor     *azureIdentity `json:"requestedFor"`
			LastChangedBy    *azureIdentity `json:"lastChangedBy"`
			Requests         []struct {
				RequestedFor *azureIdentity `json:"requestedFor"`
			} `json:"requests"`
			Repository *struct {
				Name string `json:"name"`
			} `json:"repository"`
			Project *struct {
				Name string `json:"name"`
			} `json:"project"`
			Links struct {
				Web struct {
					Href string `json:"href"`
				} `json:"web"`
			} `json:"_links"`
		} `json:"resource"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	r := &b.Resource
	ref, commit := r.SourceBranch, r.SourceVersion
	if ref == "" && strings.HasPrefix(r.SourceGetVersion, "LG:") {
		rest := strings.TrimPrefix(r.SourceGetVersion, "LG:")
		if i := strings.LastIndexByte(rest, ':'); i > 0 {
			ref, commit = rest[:i], rest[i+1:]
		}
	}
	repo := ""
	if r.Repository != nil {
		repo = r.Repository.Name
		if r.Project != nil && r.Project.Name != "" && repo != "" {
			repo = r.Project.Name + "/" + repo
		}
	}
	actor := r.RequestedFor.name()
	if actor == "" && len(r.Requests) > 0 {
		actor = r.Requests[0].RequestedFor.name()
	}
	if actor == "" {
		actor = r.LastChangedBy.name()
	}
	branch := ""
	if typ, br := events.RefKind(ref); typ != "" {
		branch = br
	}
	return []events.Event{in.CIEvent(events.TypeBuild, ref, events.ParseTime(r.FinishTime), events.CI{
		Repository: repo,
		Branch:     branch,
		Commit:     commit,
		Actor:      actor,
		URL:        r.Links.Web.Href,
	})}, "", nil
}
