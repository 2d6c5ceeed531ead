package fakevendors

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ServiceNowOptions configures a ServiceNow fake.
type ServiceNowOptions struct {
	// Auth pins the accepted credentials; zero accepts any.
	Auth Auth
	// Table is the one table that exists. Default incident.
	Table string
}

// ServiceNowRecord is a row of the fake's table.
type ServiceNowRecord struct {
	Number, State, UpdatedBy, Comments string
	// Updated is sys_updated_on; ServiceNow keeps it to the second.
	Updated time.Time
}

// ServiceNow speaks the ServiceNow Table API as documented:
// GET /api/now/table/<table>?sysparm_query=sys_updated_on>=<UTC
// yyyy-MM-dd HH:mm:ss>^ORDERBYsys_updated_on^ORDERBYsys_id&sysparm_limit
// &sysparm_offset&sysparm_fields&sysparm_display_value=false → {"result":
// [...]}, times in UTC, oldest update first (the record number stands in
// for sys_id). Auth: Basic user:api_token or Bearer api_token (OAuth);
// otherwise 401. Another table answers 400 "Invalid table". Table reads
// are the logged list calls.
type ServiceNow struct {
	*Server
	table   string
	records map[string]*ServiceNowRecord
}

var snQuery = regexp.MustCompile(`^sys_updated_on>=(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\^ORDERBYsys_updated_on\^ORDERBYsys_id$`)

// NewServiceNow starts a ServiceNow fake, closed when the test ends.
func NewServiceNow(t testing.TB, o ServiceNowOptions) *ServiceNow {
	f := &ServiceNow{table: o.Table, records: map[string]*ServiceNowRecord{}}
	if f.table == "" {
		f.table = "incident"
	}
	f.Server = newServer(t, o.Auth, f.serve)
	return f
}

func (f *ServiceNow) serve(w http.ResponseWriter, r *http.Request) {
	user, token := userToken(r)
	if !f.auth.allows(user, token) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"})
		return
	}
	label, path := splitPath(r.URL.Path, "/api/")
	table, ok := strings.CutPrefix(path, "/api/now/table/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if table != f.table {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "Invalid table"}, "status": "failure"})
		return
	}
	q := r.URL.Query()
	m := snQuery.FindStringSubmatch(q.Get("sysparm_query"))
	c := Call{Label: label, Token: token}
	if m != nil {
		c.Since = m[1]
	}
	if f.injected(w, c) {
		return
	}
	limit, err1 := strconv.Atoi(q.Get("sysparm_limit"))
	offset, err2 := strconv.Atoi(q.Get("sysparm_offset"))
	fields := "," + q.Get("sysparm_fields") + ","
	if m == nil || err1 != nil || err2 != nil || limit < 1 || offset < 0 || q.Get("sysparm_display_value") != "false" ||
		!strings.Contains(fields, ",number,") || !strings.Contains(fields, ",state,") || !strings.Contains(fields, ",sys_updated_on,") {
		f.log(c, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "unsupported query"}, "status": "failure"})
		return
	}
	since, _ := time.Parse(time.DateTime, c.Since)
	f.mu.Lock()
	var hits []*ServiceNowRecord
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
			"sys_updated_on": rec.Updated.Format(time.DateTime), "sys_updated_by": rec.UpdatedBy,
		})
	}
	f.logLocked(c, http.StatusOK)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
}

// Set writes rec as an update in ServiceNow would: keyed by number,
// sys_updated_on in UTC to the second.
func (f *ServiceNow) Set(rec ServiceNowRecord) {
	rec.Updated = rec.Updated.UTC().Truncate(time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[rec.Number] = &rec
}
