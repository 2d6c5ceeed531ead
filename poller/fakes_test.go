package poller

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the fake Jira user's time zone, wherever tests run
)

// No vendor SaaS is reachable from here: the fakes below are local HTTP
// servers that answer with the request and response shapes the vendors
// document (Jira Cloud enhanced JQL search, ServiceNow Table API,
// ServiceDesk Plus API v3), check the credentials where the vendor expects
// them, and count calls per api_token so tests can tell integrations apart.

// fakeResponse is a canned answer that replaces the real one.
type fakeResponse struct {
	status int
	header map[string]string
	body   string
}

// fakeVendor is what the three fakes share: call counts and injected
// failures per api_token.
type fakeVendor struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string]int
	fail  map[string]fakeResponse
}

func newFakeVendor(t *testing.T, h http.HandlerFunc) *fakeVendor {
	f := &fakeVendor{calls: map[string]int{}, fail: map[string]fakeResponse{}}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// listed counts a list call for token and answers an injected failure if
// one is set; it reports whether it answered.
func (f *fakeVendor) listed(w http.ResponseWriter, token string) bool {
	f.mu.Lock()
	f.calls[token]++
	r, ok := f.fail[token]
	f.mu.Unlock()
	if !ok {
		return false
	}
	for k, v := range r.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(r.status)
	_, _ = w.Write([]byte(r.body))
	return true
}

func (f *fakeVendor) failWith(token string, r fakeResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[token] = r
}

func (f *fakeVendor) clearFailures() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = map[string]fakeResponse{}
}

func (f *fakeVendor) callsOf(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[token]
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// ---- Jira Cloud ----

type fakeJiraHistory struct {
	ID       string
	Created  time.Time
	From, To string // status names
	ToID     string
}

type fakeJiraComment struct {
	ID, Author, Body string
	Created, Updated time.Time
}

type fakeJiraIssue struct {
	Key                        string
	Status, StatusID, Category string
	Updated                    time.Time
	Histories                  []fakeJiraHistory
	Comments                   []fakeJiraComment
}

// fakeJiraCloud speaks Jira Cloud's REST API v3 as documented:
// GET /rest/api/3/myself and the enhanced search GET /rest/api/3/search/jql
// (jql, fields, expand=changelog, maxResults, nextPageToken → issues,
// nextPageToken, isLast). JQL times are read in the API user's time zone,
// as Jira does. Auth: Basic user:token or Bearer token.
type fakeJiraCloud struct {
	*fakeVendor
	zone     *time.Location
	pageSize int // at most this many issues per page, whatever maxResults says
	issues   map[string]*fakeJiraIssue
}

var jqlSince = regexp.MustCompile(`^updated >= "(\d{4}-\d\d-\d\d \d\d:\d\d)" ORDER BY updated ASC$`)

func newFakeJiraCloud(t *testing.T, zone string) *fakeJiraCloud {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeJiraCloud{zone: loc, pageSize: 50, issues: map[string]*fakeJiraIssue{}}
	f.fakeVendor = newFakeVendor(t, f.serve)
	return f
}

func (f *fakeJiraCloud) serve(w http.ResponseWriter, r *http.Request) {
	token := ""
	if _, pw, ok := r.BasicAuth(); ok {
		token = pw
	} else if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = b
	}
	if token == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/rest/api/3/myself":
		writeJSON(w, map[string]any{"accountId": "5b10", "timeZone": f.zone.String()})
		return
	case "/rest/api/3/search/jql":
	default:
		http.NotFound(w, r)
		return
	}
	if f.listed(w, token) {
		return
	}
	q := r.URL.Query()
	m := jqlSince.FindStringSubmatch(q.Get("jql"))
	if m == nil || q.Get("expand") != "changelog" || !strings.Contains(q.Get("fields"), "status") {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"errorMessages": []string{"unsupported query"}})
		return
	}
	since, _ := time.ParseInLocation("2006-01-02 15:04", m[1], f.zone)
	f.mu.Lock()
	var hits []*fakeJiraIssue
	for _, is := range f.issues {
		if !is.Updated.Before(since) {
			hits = append(hits, is)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].Updated.Equal(hits[j].Updated) {
			return hits[i].Updated.Before(hits[j].Updated)
		}
		return hits[i].Key < hits[j].Key
	})
	start := 0
	if tok := q.Get("nextPageToken"); tok != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(tok, "page-"))
	}
	n := f.pageSize
	if mr, err := strconv.Atoi(q.Get("maxResults")); err == nil && mr < n {
		n = mr
	}
	end := min(start+n, len(hits))
	start = min(start, end)
	out := make([]any, 0, end-start)
	for _, is := range hits[start:end] {
		out = append(out, jiraIssueJSON(is))
	}
	f.mu.Unlock()
	res := map[string]any{"issues": out, "isLast": end >= len(hits)}
	if end < len(hits) {
		res["nextPageToken"] = fmt.Sprintf("page-%d", end)
	}
	writeJSON(w, res)
}

const jiraTime = "2006-01-02T15:04:05.000-0700"

func jiraIssueJSON(is *fakeJiraIssue) map[string]any {
	var hs, cs []any
	for _, h := range is.Histories {
		hs = append(hs, map[string]any{
			"id": h.ID, "author": map[string]any{"displayName": "Ola Berg"}, "created": h.Created.Format(jiraTime),
			"items": []any{map[string]any{"field": "status", "fieldtype": "jira",
				"fromString": h.From, "to": h.ToID, "toString": h.To}},
		})
	}
	for _, c := range is.Comments {
		cs = append(cs, map[string]any{
			"id": c.ID, "author": map[string]any{"displayName": c.Author}, "body": c.Body,
			"created": c.Created.Format(jiraTime), "updated": c.Updated.Format(jiraTime),
		})
	}
	return map[string]any{
		"id": "10457", "key": is.Key,
		"fields": map[string]any{
			"status":  map[string]any{"name": is.Status, "id": is.StatusID, "statusCategory": map[string]any{"key": is.Category}},
			"updated": is.Updated.Format(jiraTime),
			"comment": map[string]any{"comments": cs, "maxResults": len(cs), "total": len(cs), "startAt": 0},
		},
		"changelog": map[string]any{"startAt": 0, "maxResults": len(hs), "total": len(hs), "histories": hs},
	}
}

// transition moves an issue to a status at a time, as a user would.
func (f *fakeJiraCloud) transition(key, to, toID, category string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.issues[key]
	if is == nil {
		is = &fakeJiraIssue{Key: key, Status: "To Do", StatusID: "1", Category: "new"}
		f.issues[key] = is
	}
	is.Histories = append(is.Histories, fakeJiraHistory{
		ID: strconv.Itoa(18000 + len(is.Histories)), Created: at, From: is.Status, To: to, ToID: toID})
	is.Status, is.StatusID, is.Category, is.Updated = to, toID, category, at
}

func (f *fakeJiraCloud) comment(key string, c fakeJiraComment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.issues[key]
	is.Comments = append(is.Comments, c)
	if c.Updated.After(is.Updated) {
		is.Updated = c.Updated
	}
}

// ---- ServiceNow ----

type fakeSNRecord struct {
	Number, State, UpdatedBy, Comments string
	Updated                            time.Time
}

// fakeServiceNow speaks the ServiceNow Table API as documented:
// GET /api/now/table/<table>?sysparm_query=sys_updated_on>=<UTC time>^ORDERBY...
// &sysparm_limit&sysparm_offset&sysparm_fields → {"result": [...]}, with
// Basic auth.
type fakeServiceNow struct {
	*fakeVendor
	table   string
	records map[string]*fakeSNRecord
}

var snSince = regexp.MustCompile(`^sys_updated_on>=(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\^ORDERBYsys_updated_on`)

func newFakeServiceNow(t *testing.T) *fakeServiceNow {
	f := &fakeServiceNow{table: "incident", records: map[string]*fakeSNRecord{}}
	f.fakeVendor = newFakeVendor(t, f.serve)
	return f
}

func (f *fakeServiceNow) serve(w http.ResponseWriter, r *http.Request) {
	_, token, ok := r.BasicAuth()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]any{"error": map[string]any{"message": "User Not Authenticated"}, "status": "failure"})
		return
	}
	if r.URL.Path != "/api/now/table/"+f.table {
		http.NotFound(w, r)
		return
	}
	if f.listed(w, token) {
		return
	}
	q := r.URL.Query()
	m := snSince.FindStringSubmatch(q.Get("sysparm_query"))
	limit, err1 := strconv.Atoi(q.Get("sysparm_limit"))
	offset, err2 := strconv.Atoi(q.Get("sysparm_offset"))
	if m == nil || err1 != nil || err2 != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	since, _ := time.Parse(time.DateTime, m[1])
	f.mu.Lock()
	var hits []*fakeSNRecord
	for _, rec := range f.records {
		if !rec.Updated.Before(since) {
			hits = append(hits, rec)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].Updated.Equal(hits[j].Updated) {
			return hits[i].Updated.Before(hits[j].Updated)
		}
		return hits[i].Number < hits[j].Number // stands in for sys_id
	})
	end := min(offset+limit, len(hits))
	offset = min(offset, end)
	out := make([]any, 0, end-offset)
	for _, rec := range hits[offset:end] {
		out = append(out, map[string]any{
			"number": rec.Number, "state": rec.State, "comments": rec.Comments,
			"sys_updated_on": rec.Updated.UTC().Format(time.DateTime), "sys_updated_by": rec.UpdatedBy,
		})
	}
	f.mu.Unlock()
	writeJSON(w, map[string]any{"result": out})
}

func (f *fakeServiceNow) set(rec fakeSNRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[rec.Number] = &rec
}

// ---- ManageEngine ServiceDesk Plus ----

type fakeMERequest struct {
	ID, DisplayID, Status string
	Updated               time.Time
}

// fakeServiceDeskPlus speaks ServiceDesk Plus API v3 as documented:
// GET /api/v3/requests?input_data={"list_info": {...search_criteria...}}
// with the `authtoken` header → {"requests": [...], "list_info":
// {"has_more_rows": bool}, "response_status": [...]}.
type fakeServiceDeskPlus struct {
	*fakeVendor
	requests map[string]*fakeMERequest
}

func newFakeServiceDeskPlus(t *testing.T) *fakeServiceDeskPlus {
	f := &fakeServiceDeskPlus{requests: map[string]*fakeMERequest{}}
	f.fakeVendor = newFakeVendor(t, f.serve)
	return f
}

func (f *fakeServiceDeskPlus) serve(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get("authtoken")
	if token == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/v3/requests" {
		http.NotFound(w, r)
		return
	}
	if f.listed(w, token) {
		return
	}
	var in struct {
		ListInfo struct {
			RowCount       int    `json:"row_count"`
			StartIndex     int    `json:"start_index"`
			SortField      string `json:"sort_field"`
			SortOrder      string `json:"sort_order"`
			SearchCriteria []struct {
				Field, Condition, Value string
			} `json:"search_criteria"`
		} `json:"list_info"`
	}
	raw, err := url.QueryUnescape(r.URL.Query().Get("input_data"))
	if err != nil || json.Unmarshal([]byte(raw), &in) != nil || len(in.ListInfo.SearchCriteria) != 1 ||
		in.ListInfo.SearchCriteria[0].Field != "last_updated_time" ||
		in.ListInfo.SearchCriteria[0].Condition != "greater or equal" ||
		in.ListInfo.SortField != "last_updated_time" || in.ListInfo.SortOrder != "asc" || in.ListInfo.StartIndex < 1 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ms, _ := strconv.ParseInt(in.ListInfo.SearchCriteria[0].Value, 10, 64)
	f.mu.Lock()
	var hits []*fakeMERequest
	for _, rq := range f.requests {
		if rq.Updated.UnixMilli() >= ms {
			hits = append(hits, rq)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].Updated.Equal(hits[j].Updated) {
			return hits[i].Updated.Before(hits[j].Updated)
		}
		return hits[i].ID < hits[j].ID
	})
	start := min(in.ListInfo.StartIndex-1, len(hits))
	end := min(start+in.ListInfo.RowCount, len(hits))
	out := make([]any, 0, end-start)
	for _, rq := range hits[start:end] {
		out = append(out, map[string]any{
			"id": rq.ID, "display_id": rq.DisplayID, "subject": "Rotate leaked CI token",
			"status":            map[string]any{"id": "2", "name": rq.Status},
			"last_updated_time": map[string]any{"value": strconv.FormatInt(rq.Updated.UnixMilli(), 10), "display_value": rq.Updated.Format("Jan 2, 2006 03:04 PM")},
			"technician":        map[string]any{"name": "Ana Souza"},
		})
	}
	f.mu.Unlock()
	writeJSON(w, map[string]any{
		"requests":        out,
		"list_info":       map[string]any{"has_more_rows": end < len(hits), "row_count": len(out), "start_index": start + 1},
		"response_status": []any{map[string]any{"status_code": 2000, "status": "success"}},
	})
}

func (f *fakeServiceDeskPlus) set(rq fakeMERequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[rq.DisplayID] = &rq
}
