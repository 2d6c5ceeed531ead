package azuredevops

import (
	"slices"
	"strconv"
	"strings"
	"time"

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
//
// Each event read states its facts (doc.go has the table): the time is
// the notification's createdDate, and the targets are the project's id
// (resourceContainers.project.id and the resource's repository or build
// project id) and name, each once.
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

// azureProject is a project as service hooks name it: by id, and in the
// resource also by name.
type azureProject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// azureEnvelope is what every service hook notification carries around
// its resource: when it was created and which project it is about.
type azureEnvelope struct {
	CreatedDate        events.FlexTime `json:"createdDate"`
	ResourceContainers struct {
		Project azureProject `json:"project"`
	} `json:"resourceContainers"`
}

// stateFacts records the notification's createdDate (else fallback, the
// resource's own time) and the names of the project it is about: the
// container's id and the resource's project id and name, each once.
func (e *azureEnvelope) stateFacts(in *events.Input, fallback time.Time, p *azureProject) {
	at := e.CreatedDate.Time()
	if at.IsZero() {
		at = fallback
	}
	in.SetEventTime(at)
	var names []string
	for _, n := range []string{e.ResourceContainers.Project.ID, p.ID, p.Name} {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	in.AddTarget(names...)
}

type azureRepo struct {
	Name      string       `json:"name"`
	Project   azureProject `json:"project"`
	RemoteURL string       `json:"remoteUrl"`
}

func (r azureRepo) fullName() string {
	if r.Project.Name == "" {
		return r.Name
	}
	return r.Project.Name + "/" + r.Name
}

func azurePush(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		azureEnvelope
		Resource struct {
			RefUpdates []struct {
				Name        string `json:"name"`
				NewObjectID string `json:"newObjectId"`
			} `json:"refUpdates"`
			Repository azureRepo       `json:"repository"`
			PushedBy   *azureIdentity  `json:"pushedBy"`
			Date       events.FlexTime `json:"date"`
		} `json:"resource"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	r := &b.Resource
	if len(r.RefUpdates) > events.MaxRefChanges {
		return nil, "", events.Malformed("too many ref changes")
	}
	b.stateFacts(in, r.Date.Time(), &r.Repository.Project)
	at := r.Date.Time()
	if at.IsZero() {
		at = b.CreatedDate.Time()
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
		azureEnvelope
		Resource struct {
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
	b.stateFacts(in, time.Time{}, &r.Repository.Project)
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
	return []events.Event{in.CIEvent(events.TypePullRequest, r.SourceRefName, b.CreatedDate.Time(), events.CI{
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
		azureEnvelope
		Resource struct {
			SourceBranch     string          `json:"sourceBranch"`
			SourceVersion    string          `json:"sourceVersion"`
			SourceGetVersion string          `json:"sourceGetVersion"` // LG:<ref>:<sha> (XAML builds)
			FinishTime       events.FlexTime `json:"finishTime"`
			RequestedFor     *azureIdentity  `json:"requestedFor"`
			LastChangedBy    *azureIdentity  `json:"lastChangedBy"`
			Requests         []struct {
				RequestedFor *azureIdentity `json:"requestedFor"`
			} `json:"requests"`
			Repository *struct {
				Name string `json:"name"`
			} `json:"repository"`
			Project *azureProject `json:"project"`
			Links   struct {
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
	project := r.Project
	if project == nil {
		project = &azureProject{}
	}
	b.stateFacts(in, r.FinishTime.Time(), project)
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
	return []events.Event{in.CIEvent(events.TypeBuild, ref, r.FinishTime.Time(), events.CI{
		Repository: repo,
		Branch:     branch,
		Commit:     commit,
		Actor:      actor,
		URL:        r.Links.Web.Href,
	})}, "", nil
}
