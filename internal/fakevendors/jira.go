package fakevendors

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the API user's time zone, wherever tests run
)

// JiraTime is how Jira Cloud spells times in REST answers.
const JiraTime = "2006-01-02T15:04:05.000-0700"

// JiraOptions configures a Jira fake.
type JiraOptions struct {
	// Auth pins the accepted credentials; zero accepts any.
	Auth Auth
	// Zone is the API user's time zone: /myself reports it and JQL times
	// are read in it, as Jira does. Default UTC.
	Zone *time.Location
	// PageSize caps the issues on one search page, whatever maxResults
	// asks (Jira Cloud caps expand=changelog searches). Default 50.
	PageSize int
}

// JiraComment is a comment on a Jira issue.
type JiraComment struct {
	ID, Author, Body string
	Created, Updated time.Time
}

type jiraHistory struct {
	id               string
	created          time.Time
	fromName, fromID string
	toName, toID     string
}

type jiraIssue struct {
	key                        string
	status, statusID, category string
	updated                    time.Time
	histories                  []jiraHistory
	comments                   []JiraComment
}

// Jira speaks Jira Cloud's REST API v3 as documented:
// GET /rest/api/3/myself (accountId, timeZone) and the enhanced search
// GET /rest/api/3/search/jql?jql=updated >= "yyyy-MM-dd HH:mm" ORDER BY
// updated ASC&fields=...status...&expand=changelog&maxResults=N
// [&nextPageToken=...] → {"issues": [...], "nextPageToken": ..., "isLast":
// bool}, issues with fields.status, fields.updated, fields.comment and
// changelog.histories, oldest update first. Auth: Basic user:api_token or
// Bearer api_token; otherwise 401. Searches are the logged list calls.
type Jira struct {
	*Server
	zone     *time.Location
	pageSize int
	issues   map[string]*jiraIssue
}

var jqlSince = regexp.MustCompile(`^updated >= "(\d{4}-\d\d-\d\d \d\d:\d\d)" ORDER BY updated ASC$`)

// NewJira starts a Jira fake, closed when the test ends.
func NewJira(t testing.TB, o JiraOptions) *Jira {
	f := &Jira{zone: o.Zone, pageSize: o.PageSize, issues: map[string]*jiraIssue{}}
	if f.zone == nil {
		f.zone = time.UTC
	}
	if f.pageSize <= 0 {
		f.pageSize = 50
	}
	f.Server = newServer(t, o.Auth, f.serve)
	return f
}

// SetPageSize changes the search page cap.
func (f *Jira) SetPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = n
}

func (f *Jira) serve(w http.ResponseWriter, r *http.Request) {
	user, token := userToken(r)
	if !f.auth.allows(user, token) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errorMessages": []string{"Client must be authenticated to access this resource."}})
		return
	}
	label, path := splitPath(r.URL.Path, "/rest/")
	switch path {
	case "/rest/api/3/myself":
		writeJSON(w, http.StatusOK, map[string]any{"accountId": "5b10ac8d82e05b22cc7d4ef5", "timeZone": f.zone.String()})
		return
	case "/rest/api/3/search/jql":
	default:
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	m := jqlSince.FindStringSubmatch(q.Get("jql"))
	c := Call{Label: label, Token: token}
	if m != nil {
		c.Since = m[1]
	}
	if f.injected(w, c) {
		return
	}
	maxResults, err := strconv.Atoi(q.Get("maxResults"))
	if m == nil || err != nil || maxResults < 1 || q.Get("expand") != "changelog" || !strings.Contains(q.Get("fields"), "status") {
		f.log(c, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{"unsupported query"}})
		return
	}
	since, _ := time.ParseInLocation("2006-01-02 15:04", c.Since, f.zone)
	f.mu.Lock()
	var hits []*jiraIssue
	for _, is := range f.issues {
		if !is.updated.Before(since) {
			hits = append(hits, is)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].updated.Equal(hits[j].updated) {
			return hits[i].updated.Before(hits[j].updated)
		}
		return hits[i].key < hits[j].key
	})
	start := 0
	if tok := q.Get("nextPageToken"); tok != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(tok, "page-"))
	}
	end := min(start+min(maxResults, f.pageSize), len(hits))
	start = min(start, end)
	out := make([]any, 0, end-start)
	for _, is := range hits[start:end] {
		out = append(out, is.json())
	}
	f.logLocked(c, http.StatusOK)
	f.mu.Unlock()
	res := map[string]any{"issues": out, "isLast": end >= len(hits)}
	if end < len(hits) {
		res["nextPageToken"] = fmt.Sprintf("page-%d", end)
	}
	writeJSON(w, http.StatusOK, res)
}

func (is *jiraIssue) json() map[string]any {
	hs, cs := []any{}, []any{}
	for _, h := range is.histories {
		hs = append(hs, map[string]any{
			"id": h.id, "author": map[string]any{"displayName": "Ola Berg"}, "created": h.created.Format(JiraTime),
			"items": []any{map[string]any{"field": "status", "fieldtype": "jira",
				"from": h.fromID, "fromString": h.fromName, "to": h.toID, "toString": h.toName}},
		})
	}
	for _, c := range is.comments {
		cs = append(cs, map[string]any{
			"id": c.ID, "author": map[string]any{"displayName": c.Author}, "body": c.Body,
			"created": c.Created.Format(JiraTime), "updated": c.Updated.Format(JiraTime),
		})
	}
	return map[string]any{
		"id": "1" + strings.TrimLeft(is.key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"), "key": is.key,
		"fields": map[string]any{
			"status":  map[string]any{"name": is.status, "id": is.statusID, "statusCategory": map[string]any{"key": is.category}},
			"updated": is.updated.Format(JiraTime),
			"comment": map[string]any{"comments": cs, "maxResults": len(cs), "total": len(cs), "startAt": 0},
		},
		"changelog": map[string]any{"startAt": 0, "maxResults": len(hs), "total": len(hs), "histories": hs},
	}
}

// Transition moves issue key to status to (id toID, status category
// category) at at, as a user in Jira would: a changelog history with a
// status item, and the issue's updated time. An issue not seen before is
// created in To Do (id 1, category new).
func (f *Jira) Transition(key, to, toID, category string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.issues[key]
	if is == nil {
		is = &jiraIssue{key: key, status: "To Do", statusID: "1", category: "new"}
		f.issues[key] = is
	}
	is.histories = append(is.histories, jiraHistory{
		id: strconv.Itoa(18000 + len(is.histories)), created: at,
		fromName: is.status, fromID: is.statusID, toName: to, toID: toID,
	})
	is.status, is.statusID, is.category, is.updated = to, toID, category, at
}

// Comment adds c to issue key, which must exist; the issue's updated time
// moves to c's when that is later.
func (f *Jira) Comment(key string, c JiraComment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.issues[key]
	is.comments = append(is.comments, c)
	if c.Updated.After(is.updated) {
		is.updated = c.Updated
	}
}
