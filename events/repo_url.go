package events

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RepoFromURL turns an SCM URL, as a CI server that is not a Git host
// reports it (Jenkins, Bamboo), into the repository path the Git hosts
// give (CI.Repository): `https://github.com/acme/api.git` and
// `git@github.com:acme/api.git` give `acme/api`, Bitbucket Data Center's
// `/scm/` and Azure DevOps' `/_git/` are folded away. The path is
// percent-decoded only where that changes no meaning (see decodedPath).
// Anything else is kept as it is.
func RepoFromURL(raw string) string {
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
