package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// End-to-end tests of the ticket poller across Caddy processes: the lease
// that keeps one instance per integration polling and hands over when the
// holder crashes, the cursor a restarted instance resumes from, and a
// failing vendor that holds up nobody else. Each runs real Caddy processes
// (poll_interval 1s) on a real Redis, delivering to a local finding
// service.
//
// No vendor SaaS is reachable from these machines: fakeJiraCloudSearchAPI,
// fakeServiceNowTableAPI and fakeServiceDeskPlusAPI are local HTTP servers
// that answer the calls the poller makes in the request and response shapes
// the vendors document, check the credentials where the vendor expects
// them, and log every list or search call. A path segment in front of the
// API path (api_url http://fake/inst-a) tells the fakes which instance
// asked.

// vendorAPICall is one list or search call a fake vendor API answered.
type vendorAPICall struct {
	at time.Time
	// label is the path segment in front of the API path: whose api_url.
	label string
	// since is the query's lower bound as the poller sent it.
	since  string
	status int
}

// cannedAnswer replaces the real answer to a list or search call.
type cannedAnswer struct {
	status int
	header map[string]string
	body   string
}

// fakeVendorAPI is what the vendor fakes share: the call log and injected
// failures.
type fakeVendorAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls []vendorAPICall
	// script is answered in order, one entry per list call; then hold is
	// answered until recoverAPI.
	script []cannedAnswer
	hold   *cannedAnswer
}

func newFakeVendorAPI(t *testing.T, h http.HandlerFunc) *fakeVendorAPI {
	f := &fakeVendorAPI{}
	f.Server = httptest.NewServer(h)
	t.Cleanup(f.Close)
	return f
}

// failWith makes the next list calls answer script, one each, and every
// call after that hold (nil: the real answer) until recoverAPI.
func (f *fakeVendorAPI) failWith(script []cannedAnswer, hold *cannedAnswer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script, f.hold = script, hold
}

// recoverAPI drops every injected failure.
func (f *fakeVendorAPI) recoverAPI() {
	f.failWith(nil, nil)
}

// canned answers a list call with the next injected failure, if any, and
// logs the call; it reports whether it answered.
func (f *fakeVendorAPI) canned(w http.ResponseWriter, label, since string) bool {
	f.mu.Lock()
	var a *cannedAnswer
	if len(f.script) > 0 {
		a = &f.script[0]
		f.script = f.script[1:]
	} else if f.hold != nil {
		a = f.hold
	}
	if a != nil {
		f.calls = append(f.calls, vendorAPICall{at: time.Now(), label: label, since: since, status: a.status})
	}
	f.mu.Unlock()
	if a == nil {
		return false
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
	return true
}

func (f *fakeVendorAPI) logCall(label, since string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, vendorAPICall{at: time.Now(), label: label, since: since, status: status})
}

// callCount is how many list calls the fake answered.
func (f *fakeVendorAPI) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// callsFrom returns the list calls from the i-th on.
func (f *fakeVendorAPI) callsFrom(i int) []vendorAPICall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]vendorAPICall(nil), f.calls[min(i, len(f.calls)):]...)
}

// splitAPIPath splits "/inst-a/rest/api/3/myself" into "inst-a" and
// "/rest/api/3/myself"; a path that starts with apiRoot has no label.
func splitAPIPath(p, apiRoot string) (label, rest string) {
	if strings.HasPrefix(p, apiRoot) {
		return "", p
	}
	seg, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return seg, "/" + rest
}

func writeVendorJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ---- Jira Cloud ----

const jiraCloudTime = "2006-01-02T15:04:05.000-0700"

type jiraCloudIssue struct {
	key, status, statusID, category string
	updated                         time.Time
	histories                       []any
}

// fakeJiraCloudSearchAPI speaks Jira Cloud REST API v3 as documented:
// GET /rest/api/3/myself (the API user's timeZone) and the enhanced JQL
// search GET /rest/api/3/search/jql?jql=updated >= "yyyy-MM-dd HH:mm" ORDER
// BY updated ASC&fields=...&expand=changelog&maxResults=N[&nextPageToken]
// → {"issues": [...], "nextPageToken": ..., "isLast": bool}, issues with
// fields.status, fields.updated, fields.comment and changelog.histories.
// Auth: Basic poller@example.com:jira-api-token.
type fakeJiraCloudSearchAPI struct {
	*fakeVendorAPI
	issues map[string]*jiraCloudIssue
}

var jiraCloudJQL = regexp.MustCompile(`^updated >= "(\d{4}-\d\d-\d\d \d\d:\d\d)" ORDER BY updated ASC$`)

func newFakeJiraCloudSearchAPI(t *testing.T) *fakeJiraCloudSearchAPI {
	f := &fakeJiraCloudSearchAPI{issues: map[string]*jiraCloudIssue{}}
	f.fakeVendorAPI = newFakeVendorAPI(t, f.serve)
	return f
}

func (f *fakeJiraCloudSearchAPI) serve(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "poller@example.com" || p != "jira-api-token" {
		writeVendorJSON(w, http.StatusUnauthorized, map[string]any{"errorMessages": []string{"Client must be authenticated to access this resource."}})
		return
	}
	label, path := splitAPIPath(r.URL.Path, "/rest/")
	switch path {
	case "/rest/api/3/myself":
		writeVendorJSON(w, http.StatusOK, map[string]any{"accountId": "5b10ac8d82e05b22cc7d4ef5", "timeZone": "UTC"})
		return
	case "/rest/api/3/search/jql":
	default:
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	m := jiraCloudJQL.FindStringSubmatch(q.Get("jql"))
	since := ""
	if m != nil {
		since = m[1]
	}
	if f.canned(w, label, since) {
		return
	}
	maxResults, err := strconv.Atoi(q.Get("maxResults"))
	if m == nil || err != nil || maxResults < 1 || q.Get("expand") != "changelog" || !strings.Contains(q.Get("fields"), "status") {
		f.logCall(label, since, http.StatusBadRequest)
		writeVendorJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{"unsupported query"}})
		return
	}
	from, _ := time.ParseInLocation("2006-01-02 15:04", since, time.UTC)
	f.mu.Lock()
	var hits []*jiraCloudIssue
	for _, is := range f.issues {
		if !is.updated.Before(from) {
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
		start, _ = strconv.Atoi(strings.TrimPrefix(tok, "p"))
	}
	end := min(start+min(maxResults, 50), len(hits))
	start = min(start, end)
	out := make([]any, 0, end-start)
	for _, is := range hits[start:end] {
		out = append(out, map[string]any{
			"id": "1" + strings.TrimLeft(is.key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"), "key": is.key,
			"fields": map[string]any{
				"status":  map[string]any{"name": is.status, "id": is.statusID, "statusCategory": map[string]any{"key": is.category}},
				"updated": is.updated.Format(jiraCloudTime),
				"comment": map[string]any{"comments": []any{}, "maxResults": 0, "total": 0, "startAt": 0},
			},
			"changelog": map[string]any{"startAt": 0, "maxResults": len(is.histories), "total": len(is.histories), "histories": is.histories},
		})
	}
	f.calls = append(f.calls, vendorAPICall{at: time.Now(), label: label, since: since, status: http.StatusOK})
	f.mu.Unlock()
	res := map[string]any{"issues": out, "isLast": end >= len(hits)}
	if end < len(hits) {
		res["nextPageToken"] = fmt.Sprintf("p%d", end)
	}
	writeVendorJSON(w, http.StatusOK, res)
}

// transition moves an issue to a status at a time, as a user in Jira would.
func (f *fakeJiraCloudSearchAPI) transition(key, to, toID, category string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.issues[key]
	if is == nil {
		is = &jiraCloudIssue{key: key, status: "In Progress", statusID: "3", category: "indeterminate"}
		f.issues[key] = is
	}
	is.histories = append(is.histories, map[string]any{
		"id": strconv.Itoa(18000 + len(is.histories)), "author": map[string]any{"displayName": "Ola Berg"},
		"created": at.Format(jiraCloudTime),
		"items": []any{map[string]any{"field": "status", "fieldtype": "jira",
			"from": is.statusID, "fromString": is.status, "to": toID, "toString": to}},
	})
	is.status, is.statusID, is.category, is.updated = to, toID, category, at
}

// ---- ServiceNow ----

type serviceNowRow struct {
	number, state, updatedBy string
	updated                  time.Time
}

// fakeServiceNowTableAPI speaks the ServiceNow Table API as documented:
// GET /api/now/table/incident?sysparm_query=sys_updated_on>=<UTC
// yyyy-MM-dd HH:mm:ss>^ORDERBYsys_updated_on^ORDERBYsys_id&sysparm_limit
// &sysparm_offset&sysparm_fields&sysparm_display_value=false → {"result":
// [...]} with times in UTC. Auth: Basic hookgate-poller:sn-api-token.
type fakeServiceNowTableAPI struct {
	*fakeVendorAPI
	rows map[string]*serviceNowRow
}

var serviceNowQuery = regexp.MustCompile(`^sys_updated_on>=(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\^ORDERBYsys_updated_on\^ORDERBYsys_id$`)

func newFakeServiceNowTableAPI(t *testing.T) *fakeServiceNowTableAPI {
	f := &fakeServiceNowTableAPI{rows: map[string]*serviceNowRow{}}
	f.fakeVendorAPI = newFakeVendorAPI(t, f.serve)
	return f
}

func (f *fakeServiceNowTableAPI) serve(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "hookgate-poller" || p != "sn-api-token" {
		writeVendorJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"})
		return
	}
	label, path := splitAPIPath(r.URL.Path, "/api/")
	if path != "/api/now/table/incident" {
		writeVendorJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "Invalid table"}, "status": "failure"})
		return
	}
	q := r.URL.Query()
	m := serviceNowQuery.FindStringSubmatch(q.Get("sysparm_query"))
	since := ""
	if m != nil {
		since = m[1]
	}
	if f.canned(w, label, since) {
		return
	}
	limit, err1 := strconv.Atoi(q.Get("sysparm_limit"))
	offset, err2 := strconv.Atoi(q.Get("sysparm_offset"))
	fields := "," + q.Get("sysparm_fields") + ","
	if m == nil || err1 != nil || err2 != nil || limit < 1 || offset < 0 || q.Get("sysparm_display_value") != "false" ||
		!strings.Contains(fields, ",number,") || !strings.Contains(fields, ",state,") || !strings.Contains(fields, ",sys_updated_on,") {
		f.logCall(label, since, http.StatusBadRequest)
		writeVendorJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "unsupported query"}, "status": "failure"})
		return
	}
	from, _ := time.Parse(time.DateTime, since)
	f.mu.Lock()
	var hits []*serviceNowRow
	for _, row := range f.rows {
		if !row.updated.Before(from) {
			hits = append(hits, row)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].updated.Equal(hits[j].updated) {
			return hits[i].updated.Before(hits[j].updated)
		}
		return hits[i].number < hits[j].number // stands in for sys_id
	})
	end := min(offset+limit, len(hits))
	offset = min(offset, end)
	out := make([]any, 0, end-offset)
	for _, row := range hits[offset:end] {
		out = append(out, map[string]any{
			"number": row.number, "state": row.state, "comments": "",
			"sys_updated_on": row.updated.UTC().Format(time.DateTime), "sys_updated_by": row.updatedBy,
		})
	}
	f.calls = append(f.calls, vendorAPICall{at: time.Now(), label: label, since: since, status: http.StatusOK})
	f.mu.Unlock()
	writeVendorJSON(w, http.StatusOK, map[string]any{"result": out})
}

// set writes a record as an update in ServiceNow would (second-granular).
func (f *fakeServiceNowTableAPI) set(number, state, by string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows[number] = &serviceNowRow{number: number, state: state, updatedBy: by, updated: at.UTC().Truncate(time.Second)}
}

// ---- ManageEngine ServiceDesk Plus ----

type serviceDeskRequest struct {
	id, displayID, status string
	updated               time.Time
}

// fakeServiceDeskPlusAPI speaks ServiceDesk Plus API v3 as documented:
// GET /api/v3/requests?input_data={"list_info": {row_count, start_index,
// sort_field, sort_order, search_criteria: [{field: last_updated_time,
// condition: "greater or equal", value: <epoch ms>}]}} with the authtoken
// header → {"requests": [...], "list_info": {"has_more_rows": bool},
// "response_status": [...]}.
type fakeServiceDeskPlusAPI struct {
	*fakeVendorAPI
	requests map[string]*serviceDeskRequest
}

func newFakeServiceDeskPlusAPI(t *testing.T) *fakeServiceDeskPlusAPI {
	f := &fakeServiceDeskPlusAPI{requests: map[string]*serviceDeskRequest{}}
	f.fakeVendorAPI = newFakeVendorAPI(t, f.serve)
	return f
}

func (f *fakeServiceDeskPlusAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("authtoken") != "sdp-api-token" {
		writeVendorJSON(w, http.StatusUnauthorized, map[string]any{"response_status": map[string]any{"status_code": 4000, "status": "failed", "messages": []any{map[string]any{"status_code": 4001, "message": "Invalid authtoken"}}}})
		return
	}
	label, path := splitAPIPath(r.URL.Path, "/api/")
	if path != "/api/v3/requests" {
		http.NotFound(w, r)
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
	err := json.Unmarshal([]byte(r.URL.Query().Get("input_data")), &in)
	since := ""
	if err == nil && len(in.ListInfo.SearchCriteria) == 1 {
		since = in.ListInfo.SearchCriteria[0].Value
	}
	if f.canned(w, label, since) {
		return
	}
	li := in.ListInfo
	if err != nil || len(li.SearchCriteria) != 1 || li.SearchCriteria[0].Field != "last_updated_time" ||
		li.SearchCriteria[0].Condition != "greater or equal" || li.SortField != "last_updated_time" ||
		li.SortOrder != "asc" || li.StartIndex < 1 || li.RowCount < 1 ||
		!strings.HasPrefix(r.Header.Get("Accept"), "application/vnd.manageengine.sdp.v3+json") {
		f.logCall(label, since, http.StatusBadRequest)
		writeVendorJSON(w, http.StatusBadRequest, map[string]any{"response_status": map[string]any{"status_code": 4000, "status": "failed"}})
		return
	}
	ms, _ := strconv.ParseInt(since, 10, 64)
	f.mu.Lock()
	var hits []*serviceDeskRequest
	for _, rq := range f.requests {
		if rq.updated.UnixMilli() >= ms {
			hits = append(hits, rq)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].updated.Equal(hits[j].updated) {
			return hits[i].updated.Before(hits[j].updated)
		}
		return hits[i].id < hits[j].id
	})
	start := min(li.StartIndex-1, len(hits))
	end := min(start+li.RowCount, len(hits))
	out := make([]any, 0, end-start)
	for _, rq := range hits[start:end] {
		out = append(out, map[string]any{
			"id": rq.id, "display_id": rq.displayID, "subject": "Rotate leaked CI token",
			"status":            map[string]any{"id": "2", "name": rq.status, "color": "#006600"},
			"last_updated_time": map[string]any{"value": strconv.FormatInt(rq.updated.UnixMilli(), 10), "display_value": rq.updated.Format("Jan 2, 2006 03:04 PM")},
			"technician":        map[string]any{"name": "Ana Souza", "email_id": "ana.souza@example.com"},
		})
	}
	f.calls = append(f.calls, vendorAPICall{at: time.Now(), label: label, since: since, status: http.StatusOK})
	f.mu.Unlock()
	writeVendorJSON(w, http.StatusOK, map[string]any{
		"requests":        out,
		"list_info":       map[string]any{"has_more_rows": end < len(hits), "row_count": len(out), "start_index": start + 1},
		"response_status": []any{map[string]any{"status_code": 2000, "status": "success"}},
	})
}

// set writes a request as an update in ServiceDesk Plus would.
func (f *fakeServiceDeskPlusAPI) set(id, displayID, status string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[id] = &serviceDeskRequest{id: id, displayID: displayID, status: status, updated: at.UTC().Truncate(time.Millisecond)}
}

// ---- Caddy with the poller ----

// pollingCaddy is a Caddy process forwarding to a finding service, with
// ticket integrations the poller visits every second.
type pollingCaddy struct {
	*testcaddy.Instance
	admin string // http://host:port of the admin endpoint
}

func jiraPollIntegration(id, apiURL string) string {
	return fmt.Sprintf(`
		integration %s {
			vendor    jira
			scheme    hmac
			secret    %s
			api_url   %s
			api_user  poller@example.com
			api_token jira-api-token
		}`, id, secretFor(id), apiURL)
}

func serviceNowPollIntegration(id, apiURL string) string {
	return fmt.Sprintf(`
		integration %s {
			vendor    servicenow
			secret    %s
			api_url   %s
			api_user  hookgate-poller
			api_token sn-api-token
		}`, id, secretFor(id), apiURL)
}

func serviceDeskPollIntegration(id, apiURL string) string {
	return fmt.Sprintf(`
		integration %s {
			vendor    manageengine
			secret    %s
			api_url   %s
			api_token sdp-api-token
		}`, id, secretFor(id), apiURL)
}

// startPollingCaddy runs Caddy on Redis at redisAddr under prefix with the
// given integration blocks, poll_interval 1s.
func startPollingCaddy(t *testing.T, redisAddr, prefix, upstreamURL string, integrationBlocks ...string) *pollingCaddy {
	t.Helper()
	f := startForwardCaddy(t, redisAddr, prefix, upstreamURL, "\t\tpoll_interval 1s\n"+strings.Join(integrationBlocks, "\n")+"\n")
	return &pollingCaddy{Instance: f.caddy, admin: f.admin}
}

// pollerRow is one integration's row of GET /hookgate/poller.
type pollerRow struct {
	Integration string    `json:"integration"`
	Vendor      string    `json:"vendor"`
	Cursor      time.Time `json:"cursor"`
	LagSeconds  float64   `json:"lag_seconds"`
	LastSuccess time.Time `json:"last_success"`
	LastEvents  int       `json:"last_events"`
	LastError   string    `json:"last_error"`
	LastErrorAt time.Time `json:"last_error_at"`
	LeaseHolder string    `json:"lease_holder"`
	LeaseToken  int64     `json:"lease_token"`
	NextAttempt time.Time `json:"next_attempt"`
}

// pollerRows reads GET /hookgate/poller, by integration; an error when the
// endpoint does not answer or the poller is not running.
func (c *pollingCaddy) pollerRows() (map[string]pollerRow, error) {
	resp, err := http.Get(c.admin + "/hookgate/poller")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v struct {
		Running      bool        `json:"running"`
		Integrations []pollerRow `json:"integrations"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /hookgate/poller: %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	if !v.Running {
		return nil, fmt.Errorf("poller not running")
	}
	out := map[string]pollerRow{}
	for _, r := range v.Integrations {
		out[r.Integration] = r
	}
	return out, nil
}

func (c *pollingCaddy) pollerRow(id string) (pollerRow, bool) {
	rows, err := c.pollerRows()
	if err != nil {
		return pollerRow{}, false
	}
	r, ok := rows[id]
	return r, ok
}

// auditActions lists the actions of integration's accepted audit entries,
// newest first.
func (c *pollingCaddy) auditActions(t *testing.T, integration string) []string {
	t.Helper()
	resp, err := http.Get(c.admin + "/hookgate/integrations/" + integration + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Accepted []struct {
			Action  string `json:"action"`
			EventID string `json:"event_id"`
		} `json:"accepted"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET audit of %s: %d", integration, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range v.Accepted {
		out = append(out, e.Action+" "+e.EventID)
	}
	return out
}

// ticketChanges returns the ticket.status_changed events the finding
// service acknowledged for integration and ticket key.
func ticketChanges(fs *findingService, integration, key string) []map[string]any {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []map[string]any
	for _, ev := range fs.events {
		src, _ := ev["source"].(map[string]any)
		tk, _ := ev["ticket"].(map[string]any)
		if ev["type"] == "ticket.status_changed" && src["integration"] == integration && tk["key"] == key {
			out = append(out, ev)
		}
	}
	return out
}

// waitPolledChange waits for the one status change of key through the poll
// and checks what the finding service got; it returns the event id.
func waitPolledChange(t *testing.T, fs *findingService, limit time.Duration, integration, key, status, transition string) string {
	t.Helper()
	var evs []map[string]any
	eventually(t, limit, integration+" "+key+" at the finding service", func() bool {
		evs = ticketChanges(fs, integration, key)
		return len(evs) > 0
	})
	if len(evs) != 1 {
		t.Fatalf("%d status changes of %s %s at the finding service, want 1: %v", len(evs), integration, key, evs)
	}
	ev := evs[0]
	src, _ := ev["source"].(map[string]any)
	tk, _ := ev["ticket"].(map[string]any)
	if src["via"] != "poll" || tk["status"] != status || tk["finding_transition"] != transition {
		t.Fatalf("%s %s: event %v", integration, key, ev)
	}
	id, _ := ev["id"].(string)
	if n := fs.snapshot()[id]; n != 1 {
		t.Fatalf("event %s acknowledged %d times", id, n)
	}
	return id
}

// TestPollerTwoInstancesOneLeaseThenHandover: two Caddy instances on one
// Redis with the same Jira integration. Both admin endpoints name the same
// lease holder (fencing token 1: the lease was taken once), and only that
// instance's searches reach Jira, one per poll cycle. Killing it (SIGKILL:
// no release) leaves its lease in place until it expires; then the other
// instance takes over with the next fencing token, and a change made right
// after the crash reaches the finding service, once, as does the one before.
func TestPollerTwoInstancesOneLeaseThenHandover(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	jira := newFakeJiraCloudSearchAPI(t)
	const id = "jira-shared"
	inst := map[string]*pollingCaddy{}
	for _, label := range []string{"inst-a", "inst-b"} {
		inst[label] = startPollingCaddy(t, redisAddr, prefix, fs.URL, jiraPollIntegration(id, jira.URL+"/"+label))
	}

	var holder string
	var token int64
	eventually(t, 30*time.Second, "one lease holder shown on both admin endpoints", func() bool {
		a, ok1 := inst["inst-a"].pollerRow(id)
		b, ok2 := inst["inst-b"].pollerRow(id)
		if !ok1 || !ok2 || a.Cursor.IsZero() || a.LeaseHolder == "" {
			return false
		}
		holder, token = a.LeaseHolder, a.LeaseToken
		return a.LeaseHolder == b.LeaseHolder && a.LeaseToken == b.LeaseToken
	})
	if token != 1 {
		t.Fatalf("fencing token %d on a fresh Redis prefix: the lease changed hands %d times", token, token-1)
	}

	// Only the holder searches: every search carries one instance's api_url,
	// and no two come within one poll cycle (1s, jittered ±10%).
	mark := jira.callCount()
	eventually(t, 30*time.Second, "five searches", func() bool { return jira.callCount() >= mark+5 })
	calls := jira.callsFrom(mark)
	polling := calls[0].label
	for i, c := range calls {
		if c.label != polling {
			t.Fatalf("search %d came from %s, an earlier one from %s: two instances poll one integration", i, c.label, polling)
		}
		if i > 0 && c.at.Sub(calls[i-1].at) < 500*time.Millisecond {
			t.Fatalf("searches %d and %d %v apart: more than one search per poll cycle", i-1, i, c.at.Sub(calls[i-1].at))
		}
		if c.status != http.StatusOK {
			t.Fatalf("search %d answered %d", i, c.status)
		}
	}
	survivorLabel := "inst-a"
	if polling == "inst-a" {
		survivorLabel = "inst-b"
	}
	for label, in := range inst {
		if r, _ := in.pollerRow(id); r.LeaseHolder != holder || r.LeaseToken != token {
			t.Fatalf("%s shows lease %s/%d, want %s/%d", label, r.LeaseHolder, r.LeaseToken, holder, token)
		}
	}

	// A change while the holder runs.
	jira.transition("SEC-7", "Done", "10002", "done", time.Now().UTC())
	before := waitPolledChange(t, fs, 30*time.Second, id, "SEC-7", "Done", "retest")

	// Crash the holder; a change happens right after.
	inst[polling].Kill()
	killedAt := time.Now()
	killMark := jira.callCount()
	jira.transition("SEC-8", "Done", "10002", "done", killedAt.UTC())
	survivor := inst[survivorLabel]
	if r, _ := survivor.pollerRow(id); r.LeaseHolder != holder {
		t.Fatalf("right after the crash the lease is held by %q, want the crashed %q until it expires", r.LeaseHolder, holder)
	}

	// Lease TTL is max(2×poll_interval, 30s): the takeover comes within it.
	var after pollerRow
	eventually(t, 60*time.Second, "the surviving instance taking the lease over", func() bool {
		r, ok := survivor.pollerRow(id)
		after = r
		return ok && r.LeaseHolder != "" && r.LeaseHolder != holder
	})
	takeover := time.Since(killedAt)
	t.Logf("lease taken over %v after the crash: %s/%d -> %s/%d", takeover.Round(100*time.Millisecond), holder, token, after.LeaseHolder, after.LeaseToken)
	if after.LeaseToken != token+1 {
		t.Fatalf("fencing token after the takeover %d, want %d", after.LeaseToken, token+1)
	}
	if takeover < 15*time.Second {
		t.Fatalf("lease taken over %v after the crash: before the crashed holder's lease could expire", takeover)
	}

	id8 := waitPolledChange(t, fs, 30*time.Second, id, "SEC-8", "Done", "retest")
	postMark := jira.callCount()
	eventually(t, 30*time.Second, "three more searches by the new holder", func() bool { return jira.callCount() >= postMark+3 })
	sawSurvivor := false
	for _, c := range jira.callsFrom(killMark) {
		if c.label == polling && c.at.Sub(killedAt) > time.Second {
			t.Fatalf("a search from the killed instance %v after the kill", c.at.Sub(killedAt))
		}
		if c.label == survivorLabel {
			if d := c.at.Sub(killedAt); !sawSurvivor && d < 15*time.Second {
				t.Fatalf("the surviving instance searched %v after the crash, while the crashed holder's lease was live", d)
			}
			sawSurvivor = true
		}
	}
	if !sawSurvivor {
		t.Fatal("no search from the surviving instance")
	}
	if r, _ := survivor.pollerRow(id); r.LastError != "" || !r.Cursor.After(killedAt) || r.LeaseHolder != after.LeaseHolder {
		t.Fatalf("status after the takeover: %+v", r)
	}
	// The new holder passed over SEC-7 again (overlap window): still once.
	acks := fs.snapshot()
	if acks[before] != 1 || acks[id8] != 1 || len(acks) != 2 {
		t.Fatalf("acknowledged %v, want %s and %s once each", acks, before, id8)
	}
}

// TestPollerRestartResumesFromTheCursor: an instance polls ServiceNow and
// delivers a change, and is stopped (releasing its lease). While nothing
// runs, the ticket is touched without a state change and another ticket is
// resolved. A new instance on the same Redis starts its first query at the
// stored cursor minus the overlap (a lost cursor would start at now and
// query nothing on the first visit), delivers the new change, and re-emits
// nothing old: the audit log holds one forwarded,poll entry per change and
// no duplicates, and the finding service saw each id once.
func TestPollerRestartResumesFromTheCursor(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	sn := newFakeServiceNowTableAPI(t)
	const id = "servicenow-restart"
	block := serviceNowPollIntegration(id, sn.URL)

	first := startPollingCaddy(t, redisAddr, prefix, fs.URL, block)
	eventually(t, 30*time.Second, "the first visit", func() bool {
		r, ok := first.pollerRow(id)
		return ok && !r.Cursor.IsZero() && !r.LastSuccess.IsZero()
	})
	sn.set("INC0010001", "6", "r.okafor", time.Now())
	old := waitPolledChange(t, fs, 30*time.Second, id, "INC0010001", "6", "retest")
	mark := sn.callCount()
	eventually(t, 30*time.Second, "two more polls", func() bool { return sn.callCount() >= mark+2 })
	firstHolder := ""
	if r, ok := first.pollerRow(id); ok {
		firstHolder = r.LeaseHolder
	}
	first.Stop()

	rc := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rc.Close()
	ctx := context.Background()
	if n, err := rc.Exists(ctx, prefix+"{hg}:poll:lease:"+id).Result(); err != nil || n != 0 {
		t.Fatalf("lease key after a graceful stop: exists=%d err=%v; the lease should be released", n, err)
	}
	ms, err := rc.Get(ctx, prefix+"{hg}:poll:cursor:"+id).Int64()
	if err != nil {
		t.Fatalf("cursor in Redis after the stop: %v", err)
	}
	cursor := time.UnixMilli(ms).UTC()

	// While down: a work note on the old ticket (state unchanged), and a
	// new resolution.
	sn.set("INC0010001", "6", "a.nilsen", time.Now())
	sn.set("INC0010002", "7", "r.okafor", time.Now())

	restartMark := sn.callCount()
	second := startPollingCaddy(t, redisAddr, prefix, fs.URL, block)
	newer := waitPolledChange(t, fs, 30*time.Second, id, "INC0010002", "7", "retest")
	calls := sn.callsFrom(restartMark)
	if len(calls) == 0 {
		t.Fatal("the new change arrived without a ServiceNow query")
	}
	// poller.DefaultOverlap is 2m.
	if want := cursor.Add(-2 * time.Minute).Truncate(time.Second).Format(time.DateTime); calls[0].since != want {
		t.Fatalf("first query after the restart starts at %q, want the stored cursor %v minus the overlap: %q", calls[0].since, cursor, want)
	}

	mark = sn.callCount()
	eventually(t, 30*time.Second, "three more polls", func() bool { return sn.callCount() >= mark+3 })
	r, ok := second.pollerRow(id)
	if !ok || r.LastError != "" || !r.Cursor.After(cursor) || r.LeaseHolder == "" || r.LeaseHolder == firstHolder || r.LastEvents != 0 {
		t.Fatalf("status after the restart: %+v (first holder %q, cursor before %v)", r, firstHolder, cursor)
	}
	acks := fs.snapshot()
	if acks[old] != 1 || acks[newer] != 1 || len(acks) != 2 || fs.attemptCount() != 2 {
		t.Fatalf("finding service acknowledged %v in %d attempts, want %s and %s once each", acks, fs.attemptCount(), old, newer)
	}
	audit := second.auditActions(t, id)
	want := []string{"forwarded,poll " + newer, "forwarded,poll " + old}
	if strings.Join(audit, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log %q, want %q: an old change was re-emitted", audit, want)
	}
}

// TestPollerFailingVendorIsolated: three integrations on one instance.
// jira-a's searches answer 429 with Retry-After: 3, then garbage JSON, then
// 500 (each until the test saw it in the status); servicenow-b and
// manageengine-c answer normally. Their changes are delivered while jira-a
// shows each failure as last_error and next_attempt, with its cursor and
// last success standing still; its searches all start from that cursor,
// the one after the 429 waits out Retry-After and later ones the doubling
// backoff. Once Jira recovers, jira-a's change (made during the failures)
// is delivered, once.
func TestPollerFailingVendorIsolated(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	jira := newFakeJiraCloudSearchAPI(t)
	sn := newFakeServiceNowTableAPI(t)
	sdp := newFakeServiceDeskPlusAPI(t)
	rateLimited := &cannedAnswer{status: http.StatusTooManyRequests,
		header: map[string]string{"Retry-After": "3", "Content-Type": "application/json"},
		body:   `{"errorMessages":["Rate limit exceeded."]}`}
	garbage := &cannedAnswer{status: http.StatusOK, header: map[string]string{"Content-Type": "application/json"},
		body: `{"issues":[{"key":"SEC-1","fields":{"status":`}
	serverError := &cannedAnswer{status: http.StatusInternalServerError, header: map[string]string{"Content-Type": "text/html"},
		body: "<html><body>Internal Server Error</body></html>"}
	// Each failure holds until the test has seen it in the status.
	jira.failWith(nil, rateLimited)

	c := startPollingCaddy(t, redisAddr, prefix, fs.URL,
		jiraPollIntegration("jira-a", jira.URL),
		serviceNowPollIntegration("servicenow-b", sn.URL),
		serviceDeskPollIntegration("manageengine-c", sdp.URL))

	var start map[string]pollerRow
	eventually(t, 30*time.Second, "the first visit of all three", func() bool {
		rows, err := c.pollerRows()
		if err != nil || len(rows) != 3 {
			return false
		}
		for _, r := range rows {
			if r.Cursor.IsZero() || r.LastSuccess.IsZero() {
				return false
			}
		}
		start = rows
		return true
	})
	jiraCursor, jiraSuccess := start["jira-a"].Cursor, start["jira-a"].LastSuccess

	now := time.Now().UTC()
	jira.transition("SEC-99", "Done", "10002", "done", now)
	sn.set("INC0020001", "6", "r.okafor", now)
	sdp.set("91000000000417", "417", "Resolved", now)

	// jiraFailing reads the status and fails the test if jira-a moved on
	// or another integration shows an error.
	var snCursors []time.Time
	jiraFailing := func(wantErr string) bool {
		rows, err := c.pollerRows()
		if err != nil {
			return false
		}
		ja := rows["jira-a"]
		if !ja.Cursor.Equal(jiraCursor) || !ja.LastSuccess.Equal(jiraSuccess) {
			t.Fatalf("jira-a moved on while failing: cursor %v (was %v), last success %v (was %v)", ja.Cursor, jiraCursor, ja.LastSuccess, jiraSuccess)
		}
		for _, other := range []string{"servicenow-b", "manageengine-c"} {
			if rows[other].LastError != "" {
				t.Fatalf("%s shows an error: %q", other, rows[other].LastError)
			}
		}
		snCursors = append(snCursors, rows["servicenow-b"].Cursor)
		return strings.Contains(ja.LastError, wantErr) && !ja.NextAttempt.IsZero()
	}
	eventually(t, 30*time.Second, "jira-a's 429 in its status", func() bool { return jiraFailing("jira search: HTTP 429 rate limited, retry after 3s") })
	jira.failWith(nil, garbage)
	eventually(t, 30*time.Second, "jira-a's garbage JSON in its status", func() bool { return jiraFailing("jira search: response is not the expected JSON") })
	jira.failWith(nil, serverError)
	eventually(t, 30*time.Second, "jira-a's HTTP 500 in its status", func() bool { return jiraFailing("jira search: HTTP 500") })
	// The others deliver while Jira still fails.
	snID := waitPolledChange(t, fs, 30*time.Second, "servicenow-b", "INC0020001", "6", "retest")
	sdpID := waitPolledChange(t, fs, 30*time.Second, "manageengine-c", "417", "Resolved", "retest")
	eventually(t, time.Second, "jira-a still failing", func() bool { return jiraFailing("jira search: HTTP 500") })
	if len(ticketChanges(fs, "jira-a", "SEC-99")) != 0 {
		t.Fatal("jira-a's change delivered while Jira failed")
	}
	if !snCursors[len(snCursors)-1].After(snCursors[0]) {
		t.Fatalf("servicenow-b's cursor stood still while jira-a failed: %v", snCursors[0])
	}
	failing := jira.callsFrom(0)
	jira.recoverAPI()

	// Before the recovery: 429, garbage, 500 (each at least once), every
	// search from the same cursor, the one after the 429 no sooner than
	// Retry-After, and each after a further failure no sooner than the
	// backoff (base poll_interval/2, doubling).
	var kinds []int
	for _, c := range failing {
		if len(kinds) == 0 || kinds[len(kinds)-1] != c.status {
			kinds = append(kinds, c.status)
		}
	}
	if fmt.Sprint(kinds) != fmt.Sprint([]int{429, 200, 500}) {
		t.Fatalf("Jira searches before recovery answered %v, want 429, then garbage (200), then 500: %+v", kinds, failing)
	}
	since := jiraCursor.Add(-2 * time.Minute).Truncate(time.Minute).Format("2006-01-02 15:04")
	for i, c := range failing {
		if c.since != since {
			t.Fatalf("failing search %d started at %q, want %q: the cursor moved", i, c.since, since)
		}
		if i == 0 {
			continue
		}
		wait := 500 * time.Millisecond << (i - 1) // after the i-th failure in a row
		if failing[i-1].status == http.StatusTooManyRequests {
			wait = max(wait, 3*time.Second)
		}
		if gap := c.at.Sub(failing[i-1].at); gap < wait*9/10 {
			t.Fatalf("search %d came %v after failure %d (HTTP %d), want at least %v", i, gap, i, failing[i-1].status, wait)
		}
	}

	sec99 := waitPolledChange(t, fs, 30*time.Second, "jira-a", "SEC-99", "Done", "retest")
	eventually(t, 30*time.Second, "jira-a's status after recovery", func() bool {
		r, ok := c.pollerRow("jira-a")
		return ok && r.LastError == "" && r.Cursor.After(jiraCursor) && r.LastSuccess.After(jiraSuccess) && r.NextAttempt.IsZero()
	})
	acks := fs.snapshot()
	if acks[snID] != 1 || acks[sdpID] != 1 || acks[sec99] != 1 || len(acks) != 3 {
		t.Fatalf("finding service acknowledged %v, want %s, %s and %s once each", acks, snID, sdpID, sec99)
	}
}
