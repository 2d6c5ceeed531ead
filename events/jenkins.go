package events

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Jenkins (notification plugin, JSON format, its native body) yields
// ci.build when build.phase is FINALIZED: after post-build steps, once per
// build. QUEUED, STARTED and COMPLETED notifications are ignored, so an
// endpoint set to "all events" still yields one event per build. See
// TEMPLATES.md.
func normalizeJenkins(in *input) ([]Event, string, error) {
	var b struct {
		Build *struct {
			FullURL   string  `json:"full_url"`
			Timestamp flexInt `json:"timestamp"`
			Duration  flexInt `json:"duration"`
			Phase     string  `json:"phase"`
			SCM       struct {
				URL    string `json:"url"`
				Branch string `json:"branch"`
				Commit string `json:"commit"`
			} `json:"scm"`
		} `json:"build"`
	}
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	if b.Build == nil {
		return nil, "", malformed("notification without build")
	}
	if b.Build.Phase != "FINALIZED" {
		return nil, "jenkins phase " + quoteName(b.Build.Phase) + " is not FINALIZED", nil
	}
	at := msTime(int64(b.Build.Timestamp))
	if !at.IsZero() && b.Build.Duration > 0 && b.Build.Duration < 1<<40 {
		at = at.Add(time.Duration(b.Build.Duration) * time.Millisecond)
	}
	branch := jenkinsBranch(b.Build.SCM.Branch)
	return []Event{in.ciEvent(TypeBuild, branch, at, CI{
		Repository: repoFromURL(b.Build.SCM.URL),
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
	return branchOf(b)
}

// repoFromURL turns an SCM URL into the repository path the other vendors
// use: `https://github.com/acme/api.git` and `git@github.com:acme/api.git`
// give `acme/api`, Bitbucket Data Center's `/scm/` and Azure DevOps'
// `/_git/` are folded away. Anything else is kept as it is.
func repoFromURL(raw string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	var p string
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		p = decodedPath(u.EscapedPath())
	} else if at := strings.Index(s, "@"); at >= 0 && strings.Contains(s[at:], ":") && !strings.Contains(s, "://") {
		// scp-like: git@host:owner/repo.git
		p = s[at+strings.Index(s[at:], ":")+1:]
	} else {
		return raw
	}
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(p, ".git")
	p = strings.TrimPrefix(p, "scm/")
	if before, after, ok := strings.Cut(p, "/_git/"); ok {
		// Azure DevOps: <org>/<project>/_git/<repo>: keep project/repo.
		if i := strings.LastIndexByte(before, '/'); i >= 0 {
			before = before[i+1:]
		}
		p = before + "/" + after
	}
	if p == "" {
		return raw
	}
	return p
}

// decodedPath percent-decodes an escaped URL path only where the result
// means the same thing to every reader: valid UTF-8, no control bytes, and
// no separator the vendor had escaped (`acme%2Fevil/api` is not
// `acme/evil/api`). Otherwise the escaped form is kept, which is ASCII.
func decodedPath(escaped string) string {
	if !strings.Contains(escaped, "%") {
		return escaped
	}
	p, err := url.PathUnescape(escaped)
	if err != nil || !utf8.ValidString(p) || strings.Count(p, "/") != strings.Count(escaped, "/") {
		return escaped
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return escaped
		}
	}
	return p
}
