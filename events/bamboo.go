package events

import "strings"

// resolved drops a variable Bamboo left unsubstituted (`${bamboo.x}`
// stays as written when the plan defines no such variable).
func resolved(s string) string {
	if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") {
		return ""
	}
	return s
}

// Bamboo sends the template TEMPLATES.md documents, one per finished build:
// it yields ci.build. Variables Bamboo left unsubstituted count as absent. The branch loses refs/heads/; the repository is the
// path of the plan repository URL.
func normalizeBamboo(in *input) ([]Event, string, error) {
	var b struct {
		PlanKey         string     `json:"planKey"`
		BuildResultKey  string     `json:"buildResultKey"`
		BuildNumber     flexString `json:"buildNumber"`
		BuildState      string     `json:"buildState"`
		RepositoryURL   string     `json:"repositoryUrl"`
		BranchName      string     `json:"branchName"`
		Revision        string     `json:"revision"`
		BuildResultsURL string     `json:"buildResultsUrl"`
		FinishedAt      string     `json:"finishedAt"`
		TriggeredBy     string     `json:"triggeredBy"`
	}
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	if b.PlanKey == "" && b.BuildResultKey == "" && b.RepositoryURL == "" {
		return nil, "", malformed("bamboo template without planKey, buildResultKey or repositoryUrl")
	}
	for _, f := range []*string{&b.PlanKey, &b.BuildResultKey, &b.BuildState, &b.RepositoryURL, &b.BranchName, &b.Revision, &b.BuildResultsURL, &b.FinishedAt, &b.TriggeredBy} {
		*f = resolved(*f)
	}
	branch := branchOf(strings.TrimSpace(b.BranchName))
	return []Event{in.ciEvent(TypeBuild, branch, parseTime(b.FinishedAt), CI{
		Repository: repoFromURL(b.RepositoryURL),
		Branch:     branch,
		Commit:     b.Revision,
		Actor:      b.TriggeredBy,
		URL:        b.BuildResultsURL,
	})}, "", nil
}
