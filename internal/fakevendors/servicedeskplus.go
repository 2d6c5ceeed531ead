package fakevendors

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ServiceDeskPlusOptions configures a ServiceDesk Plus fake.
type ServiceDeskPlusOptions struct {
	// Auth pins the accepted authtoken (Auth.Token; ServiceDesk Plus has
	// no user); zero accepts any.
	Auth Auth
}

// ServiceDeskPlusRequest is a request (ticket) in the fake.
type ServiceDeskPlusRequest struct {
	ID, DisplayID, Status string
	// Updated is last_updated_time, kept to the millisecond.
	Updated time.Time
}

// ServiceDeskPlus speaks ManageEngine ServiceDesk Plus API v3 as
// documented: GET /api/v3/requests?input_data={"list_info": {row_count,
// start_index, sort_field, sort_order, search_criteria: [{field:
// last_updated_time, condition: "greater or equal", value: <epoch ms>}]}}
// with the authtoken header and Accept:
// application/vnd.manageengine.sdp.v3+json → {"requests": [...],
// "list_info": {"has_more_rows": bool, ...}, "response_status": [...]},
// oldest update first (request id breaking ties). A missing or wrong
// authtoken answers 401. Request lists are the logged list calls.
type ServiceDeskPlus struct {
	*Server
	requests map[string]*ServiceDeskPlusRequest
}

// NewServiceDeskPlus starts a ServiceDesk Plus fake, closed when the test
// ends.
func NewServiceDeskPlus(t testing.TB, o ServiceDeskPlusOptions) *ServiceDeskPlus {
	f := &ServiceDeskPlus{requests: map[string]*ServiceDeskPlusRequest{}}
	f.Server = newServer(t, Auth{Token: o.Auth.Token}, f.serve)
	return f
}

func (f *ServiceDeskPlus) serve(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get("authtoken")
	if !f.auth.allows("", token) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"response_status": map[string]any{"status_code": 4000, "status": "failed", "messages": []any{map[string]any{"status_code": 4001, "message": "Invalid authtoken"}}}})
		return
	}
	label, path := splitPath(r.URL.Path, "/api/")
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
	c := Call{Label: label, Token: token}
	if err == nil && len(in.ListInfo.SearchCriteria) == 1 {
		c.Since = in.ListInfo.SearchCriteria[0].Value
	}
	if f.injected(w, c) {
		return
	}
	li := in.ListInfo
	if err != nil || len(li.SearchCriteria) != 1 || li.SearchCriteria[0].Field != "last_updated_time" ||
		li.SearchCriteria[0].Condition != "greater or equal" || li.SortField != "last_updated_time" ||
		li.SortOrder != "asc" || li.StartIndex < 1 || li.RowCount < 1 ||
		!strings.HasPrefix(r.Header.Get("Accept"), "application/vnd.manageengine.sdp.v3+json") {
		f.log(c, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, map[string]any{"response_status": map[string]any{"status_code": 4000, "status": "failed"}})
		return
	}
	ms, _ := strconv.ParseInt(c.Since, 10, 64)
	f.mu.Lock()
	var hits []*ServiceDeskPlusRequest
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
	start := min(li.StartIndex-1, len(hits))
	end := min(start+li.RowCount, len(hits))
	out := make([]any, 0, end-start)
	for _, rq := range hits[start:end] {
		out = append(out, map[string]any{
			"id": rq.ID, "display_id": rq.DisplayID, "subject": "Rotate leaked CI token",
			"status":            map[string]any{"id": "2", "name": rq.Status, "color": "#006600"},
			"last_updated_time": map[string]any{"value": strconv.FormatInt(rq.Updated.UnixMilli(), 10), "display_value": rq.Updated.Format("Jan 2, 2006 03:04 PM")},
			"technician":        map[string]any{"name": "Ana Souza", "email_id": "ana.souza@example.com"},
		})
	}
	f.logLocked(c, http.StatusOK)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"requests":        out,
		"list_info":       map[string]any{"has_more_rows": end < len(hits), "row_count": len(out), "start_index": start + 1},
		"response_status": []any{map[string]any{"status_code": 2000, "status": "success"}},
	})
}

// Set writes rq as an update in ServiceDesk Plus would: keyed by request
// id, last_updated_time in UTC to the millisecond.
func (f *ServiceDeskPlus) Set(rq ServiceDeskPlusRequest) {
	rq.Updated = rq.Updated.UTC().Truncate(time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[rq.ID] = &rq
}
