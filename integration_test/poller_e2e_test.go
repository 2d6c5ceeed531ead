package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/internal/fakevendors"
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
// No vendor SaaS is reachable from these machines: the Jira Cloud,
// ServiceNow and ServiceDesk Plus APIs are internal/fakevendors, local HTTP
// servers that answer the calls the poller makes in the request and
// response shapes the vendors document, check the credentials where the
// vendor expects them, and log every list or search call. A path segment
// in front of the API path (api_url http://fake/inst-a) tells the fakes
// which instance asked.

// The fake vendor APIs pin the credentials the integration blocks below
// carry (jiraPollIntegration, serviceNowPollIntegration,
// serviceDeskPollIntegration).

func newFakeJiraCloudSearchAPI(t *testing.T) *fakevendors.Jira {
	return fakevendors.NewJira(t, fakevendors.JiraOptions{Auth: fakevendors.Auth{User: "poller@example.com", Token: "jira-api-token"}})
}

func newFakeServiceNowTableAPI(t *testing.T) *fakevendors.ServiceNow {
	return fakevendors.NewServiceNow(t, fakevendors.ServiceNowOptions{Auth: fakevendors.Auth{User: "hookgate-poller", Token: "sn-api-token"}})
}

func newFakeServiceDeskPlusAPI(t *testing.T) *fakevendors.ServiceDeskPlus {
	return fakevendors.NewServiceDeskPlus(t, fakevendors.ServiceDeskPlusOptions{Auth: fakevendors.Auth{Token: "sdp-api-token"}})
}

// ---- Caddy with the poller ----

// pollingCaddy is a Caddy process forwarding to a finding service, with
// ticket integrations the poller visits every second.
type pollingCaddy struct {
	*testcaddy.Instance
	admin string // http://host:port of the admin endpoint
	base  string // http://host:port of the webhook listener
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
	return &pollingCaddy{Instance: f.caddy, admin: f.admin, base: f.base}
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
	mark := jira.CallCount()
	eventually(t, 30*time.Second, "five searches", func() bool { return jira.CallCount() >= mark+5 })
	calls := jira.CallsFrom(mark)
	polling := calls[0].Label
	for i, c := range calls {
		if c.Label != polling {
			t.Fatalf("search %d came from %s, an earlier one from %s: two instances poll one integration", i, c.Label, polling)
		}
		if i > 0 && c.At.Sub(calls[i-1].At) < 500*time.Millisecond {
			t.Fatalf("searches %d and %d %v apart: more than one search per poll cycle", i-1, i, c.At.Sub(calls[i-1].At))
		}
		if c.Status != http.StatusOK {
			t.Fatalf("search %d answered %d", i, c.Status)
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
	jira.Transition("SEC-7", "Done", "10002", "done", time.Now().UTC())
	before := waitPolledChange(t, fs, 30*time.Second, id, "SEC-7", "Done", "retest")

	// Crash the holder; a change happens right after.
	inst[polling].Kill()
	killedAt := time.Now()
	killMark := jira.CallCount()
	jira.Transition("SEC-8", "Done", "10002", "done", killedAt.UTC())
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
	postMark := jira.CallCount()
	eventually(t, 30*time.Second, "three more searches by the new holder", func() bool { return jira.CallCount() >= postMark+3 })
	sawSurvivor := false
	for _, c := range jira.CallsFrom(killMark) {
		if c.Label == polling && c.At.Sub(killedAt) > time.Second {
			t.Fatalf("a search from the killed instance %v after the kill", c.At.Sub(killedAt))
		}
		if c.Label == survivorLabel {
			if d := c.At.Sub(killedAt); !sawSurvivor && d < 15*time.Second {
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
	sn.Set(fakevendors.ServiceNowRecord{Number: "INC0010001", State: "6", UpdatedBy: "r.okafor", Updated: time.Now()})
	old := waitPolledChange(t, fs, 30*time.Second, id, "INC0010001", "6", "retest")
	mark := sn.CallCount()
	eventually(t, 30*time.Second, "two more polls", func() bool { return sn.CallCount() >= mark+2 })
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
	sn.Set(fakevendors.ServiceNowRecord{Number: "INC0010001", State: "6", UpdatedBy: "a.nilsen", Updated: time.Now()})
	sn.Set(fakevendors.ServiceNowRecord{Number: "INC0010002", State: "7", UpdatedBy: "r.okafor", Updated: time.Now()})

	restartMark := sn.CallCount()
	second := startPollingCaddy(t, redisAddr, prefix, fs.URL, block)
	newer := waitPolledChange(t, fs, 30*time.Second, id, "INC0010002", "7", "retest")
	calls := sn.CallsFrom(restartMark)
	if len(calls) == 0 {
		t.Fatal("the new change arrived without a ServiceNow query")
	}
	// poller.DefaultOverlap is 2m.
	if want := cursor.Add(-2 * time.Minute).Truncate(time.Second).Format(time.DateTime); calls[0].Since != want {
		t.Fatalf("first query after the restart starts at %q, want the stored cursor %v minus the overlap: %q", calls[0].Since, cursor, want)
	}

	mark = sn.CallCount()
	eventually(t, 30*time.Second, "three more polls", func() bool { return sn.CallCount() >= mark+3 })
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
	rateLimited := &fakevendors.Answer{Status: http.StatusTooManyRequests,
		Header: map[string]string{"Retry-After": "3", "Content-Type": "application/json"},
		Body:   `{"errorMessages":["Rate limit exceeded."]}`}
	garbage := &fakevendors.Answer{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json"},
		Body: `{"issues":[{"key":"SEC-1","fields":{"status":`}
	serverError := &fakevendors.Answer{Status: http.StatusInternalServerError, Header: map[string]string{"Content-Type": "text/html"},
		Body: "<html><body>Internal Server Error</body></html>"}
	// Each failure holds until the test has seen it in the status.
	jira.FailNext(nil, rateLimited)

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
	jira.Transition("SEC-99", "Done", "10002", "done", now)
	sn.Set(fakevendors.ServiceNowRecord{Number: "INC0020001", State: "6", UpdatedBy: "r.okafor", Updated: now})
	sdp.Set(fakevendors.ServiceDeskPlusRequest{ID: "91000000000417", DisplayID: "417", Status: "Resolved", Updated: now})

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
	jira.FailNext(nil, garbage)
	eventually(t, 30*time.Second, "jira-a's garbage JSON in its status", func() bool { return jiraFailing("jira search: response is not the expected JSON") })
	jira.FailNext(nil, serverError)
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
	failing := jira.CallsFrom(0)
	jira.Recover()

	// Before the recovery: 429, garbage, 500 (each at least once), every
	// search from the same cursor, the one after the 429 no sooner than
	// Retry-After, and each after a further failure no sooner than the
	// backoff (base poll_interval/2, doubling).
	var kinds []int
	for _, c := range failing {
		if len(kinds) == 0 || kinds[len(kinds)-1] != c.Status {
			kinds = append(kinds, c.Status)
		}
	}
	if fmt.Sprint(kinds) != fmt.Sprint([]int{429, 200, 500}) {
		t.Fatalf("Jira searches before recovery answered %v, want 429, then garbage (200), then 500: %+v", kinds, failing)
	}
	since := jiraCursor.Add(-2 * time.Minute).Truncate(time.Minute).Format("2006-01-02 15:04")
	for i, c := range failing {
		if c.Since != since {
			t.Fatalf("failing search %d started at %q, want %q: the cursor moved", i, c.Since, since)
		}
		if i == 0 {
			continue
		}
		wait := 500 * time.Millisecond << (i - 1) // after the i-th failure in a row
		if failing[i-1].Status == http.StatusTooManyRequests {
			wait = max(wait, 3*time.Second)
		}
		if gap := c.At.Sub(failing[i-1].At); gap < wait*9/10 {
			t.Fatalf("search %d came %v after failure %d (HTTP %d), want at least %v", i, gap, i, failing[i-1].Status, wait)
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
