package bamboo

import (
	"strings"

	"github.com/hookgate/caddy-hookgate/events"
)

// resolved drops a variable Bamboo left unsubstituted (`${bamboo.x}`
// stays as written when the plan defines no such variable).
func resolved(s string) string {
	if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") {
		return ""
	}
	return s
}

// init registers how Bamboo's deliveries are identified (identify.go: the
// template's `event` and `delivery` fields, unsubstituted variables
// absent) and normalized.
func init() {
	events.Register(Vendor, events.Rules{Identify: identify, Normalize: normalize})
}

// normalize turns a Bamboo delivery into its events. Bamboo sends the
// template TEMPLATES.md documents, one per finished build: it yields
// ci.build. Variables Bamboo left unsubstituted count as absent. The
// branch loses refs/heads/; the repository is the path of the plan
// repository URL.
func normalize(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		PlanKey         string            `json:"planKey"`
		BuildResultKey  string            `json:"buildResultKey"`
		BuildNumber     events.FlexString `json:"buildNumber"`
		BuildState      string            `json:"buildState"`
		RepositoryURL   string            `json:"repositoryUrl"`
		BranchName      string            `json:"branchName"`
		Revision        string            `json:"revision"`
		BuildResultsURL string            `json:"buildResultsUrl"`
		FinishedAt      events.FlexTime   `json:"finishedAt"`
		TriggeredBy     string            `json:"triggeredBy"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if b.PlanKey == "" && b.BuildResultKey == "" && b.RepositoryURL == "" {
		return nil, "", events.Malformed("bamboo template without planKey, buildResultKey or repositoryUrl")
	}
	for _, f := range []*string{&b.PlanKey, &b.BuildResultKey, &b.BuildState, &b.RepositoryURL, &b.BranchName, &b.Revision, &b.BuildResultsURL, &b.TriggeredBy} {
		*f = resolved(*f)
	}
	// An unsubstituted ${bamboo.date.finished} reads as no time.
	in.SetEventTime(b.FinishedAt.Time())
	branch := events.BranchOf(strings.TrimSpace(b.BranchName))
	return []events.Event{in.CIEvent(events.TypeBuild, branch, b.FinishedAt.Time(), events.CI{
		Repository: events.RepoFromURL(b.RepositoryURL),
		Branch:     branch,
		Commit:     b.Revision,
		Actor:      b.TriggeredBy,
		URL:        b.BuildResultsURL,
	})}, "", nil
}
