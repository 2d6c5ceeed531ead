package jenkins

import (
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
)

// init registers how Jenkins' deliveries are normalized. They are
// identified by the template's `event` and `delivery` fields (the default
// Rules.Identify); the notification plugin sends neither, so the event is
// `build` and the dedupe key the body's digest.
func init() {
	events.Register(Vendor, events.Rules{Normalize: normalize})
}

// normalize turns a Jenkins delivery into its events. Jenkins
// (notification plugin, JSON format, its native body) yields ci.build when
// build.phase is FINALIZED: after post-build steps, once per build.
// QUEUED, STARTED and COMPLETED notifications are ignored, so an endpoint
// set to "all events" still yields one event per build. See TEMPLATES.md.
func normalize(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		Build *struct {
			FullURL   string         `json:"full_url"`
			Timestamp events.FlexInt `json:"timestamp"`
			Duration  events.FlexInt `json:"duration"`
			Phase     string         `json:"phase"`
			SCM       struct {
				URL    string `json:"url"`
				Branch string `json:"branch"`
				Commit string `json:"commit"`
			} `json:"scm"`
		} `json:"build"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if b.Build == nil {
		return nil, "", events.Malformed("notification without build")
	}
	at := events.MillisTime(int64(b.Build.Timestamp))
	if !at.IsZero() && b.Build.Duration > 0 && b.Build.Duration < 1<<40 {
		at = at.Add(time.Duration(b.Build.Duration) * time.Millisecond)
	}
	in.SetEventTime(at)
	if b.Build.Phase != "FINALIZED" {
		return nil, "jenkins phase " + events.QuoteName(b.Build.Phase) + " is not FINALIZED", nil
	}
	branch := jenkinsBranch(b.Build.SCM.Branch)
	return []events.Event{in.CIEvent(events.TypeBuild, branch, at, events.CI{
		Repository: events.RepoFromURL(b.Build.SCM.URL),
		Branch:     branch,
		Commit:     b.Build.SCM.Commit,
		URL:        b.Build.FullURL,
	})}, "", nil
}

// jenkinsBranch strips what the Git plugin puts before a branch name
// (GIT_BRANCH is `origin/main`).
func jenkinsBranch(b string) string {
	b = strings.TrimPrefix(b, "refs/remotes/")
	b = strings.TrimPrefix(b, "origin/")
	return events.BranchOf(b)
}
