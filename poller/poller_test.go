package poller_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakevendors"
	"github.com/hookgate/caddy-hookgate/poller"
)

// The changes the testdata webhook payloads describe, as the vendors' APIs
// show them afterwards.
var (
	jiraDoneAt      = time.UnixMilli(1741097622000).UTC() // issue-updated.json
	jiraCommentAt   = time.Date(2025, 3, 4, 14, 45, 0, 0, time.UTC)
	snResolvedAt    = time.Date(2025, 3, 4, 14, 5, 11, 0, time.UTC) // incident-resolved.json
	meClosedAt      = time.UnixMilli(1741098311000).UTC()           // request-closed.json
	snResolvedNotes = "Patched to the fixed release and redeployed; please retest."
)

func (h *harness) dropWebhooks() {
	h.jira.Transition("SEC-42", "In Progress", "3", "indeterminate", t0.Add(5*time.Minute))
	h.jira.Transition("SEC-42", "Done", "10002", "done", jiraDoneAt)
	h.jira.Comment("SEC-42", fakevendors.JiraComment{ID: "20417", Author: "Ola Berg",
		Body: "Fix deployed to staging; the export now uses bound parameters.", Created: jiraCommentAt, Updated: jiraCommentAt})
	h.sn.Set(fakevendors.ServiceNowRecord{Number: "INC0010234", State: "6", Comments: snResolvedNotes, UpdatedBy: "r.okafor", Updated: snResolvedAt})
	h.me.Set(fakevendors.ServiceDeskPlusRequest{ID: "118000004412077", DisplayID: "5731", Status: "Closed", Updated: meClosedAt})
}

func byID(evs []events.Event) map[string]events.Event {
	m := map[string]events.Event{}
	for _, e := range evs {
		m[e.ID] = e
	}
	return m
}

// A status change only the vendor API shows (its webhook was dropped) is
// committed with via=poll and the finding transition, under the id the
// webhook would have had.
func TestPollCommitsWhatWebhooksMissed(t *testing.T) {
	h := newHarness(t)
	jr := h.add("sec-jira", integrations.Jira)
	sn := h.add("ops-snow", integrations.ServiceNow)
	me := h.add("it-sdp", integrations.ManageEngine)
	p := h.poller("a", nil)

	if e := pollOnce(t, p); e != "" {
		t.Fatal(e)
	}
	for _, rec := range []integrations.Record{jr, sn, me} {
		if c := h.cursor(rec.ID); !c.Equal(t0) {
			t.Errorf("%s: first visit cursor %v, want %v (no history replay)", rec.ID, c, t0)
		}
	}
	if n := h.jira.CallsOf(jr.APIToken) + h.sn.CallsOf(sn.APIToken) + h.me.CallsOf(me.APIToken); n != 0 {
		t.Errorf("first visit asked the vendors %d times, want 0", n)
	}

	h.dropWebhooks()
	h.clock.Set(t0.Add(time.Hour))
	if e := pollOnce(t, p); e != "" {
		t.Fatal(e)
	}

	cases := []struct {
		rec      integrations.Record
		webhooks []string
		// every webhook event is expected except comments the API does not list
		skipComments bool
	}{
		{jr, []string{"jira/issue-updated.json", "jira/comment-created.json"}, false},
		{sn, []string{"servicenow/incident-resolved.json"}, false},
		{me, []string{"manageengine/request-closed.json"}, true},
	}
	for _, c := range cases {
		polled := byID(h.committed(c.rec.ID))
		for _, f := range c.webhooks {
			for _, wh := range webhookEvents(t, c.rec, f) {
				if c.skipComments && wh.Type == events.TypeTicketComment {
					continue
				}
				got, ok := polled[wh.ID]
				if !ok {
					t.Errorf("%s: webhook %s event %s (%s) not among polled %v", c.rec.ID, f, wh.ID, wh.Type, keys(polled))
					continue
				}
				if got.Type != wh.Type || got.Source.Via != "poll" || got.Source.Vendor != string(c.rec.Vendor) ||
					got.Source.Integration != c.rec.ID || got.Ticket.Key != wh.Ticket.Key {
					t.Errorf("%s: polled %+v, webhook %+v", c.rec.ID, got, wh)
				}
				if wh.Type == events.TypeTicketStatus {
					if got.Ticket.FindingTransition != events.TransitionRetest || got.Ticket.Status != wh.Ticket.Status ||
						!got.OccurredAt.Equal(wh.OccurredAt) {
						t.Errorf("%s: polled status %+v, webhook %+v", c.rec.ID, got.Ticket, wh.Ticket)
					}
				}
			}
		}
		if cur := h.cursor(c.rec.ID); !cur.Equal(t0.Add(time.Hour)) {
			t.Errorf("%s: cursor %v, want the poll time", c.rec.ID, cur)
		}
	}
	// The intermediate Jira transition is there too, without a transition.
	var inProgress int
	for _, e := range h.committed(jr.ID) {
		if e.Type == events.TypeTicketStatus && e.Ticket.Status == "In Progress" {
			inProgress++
			if e.Ticket.FindingTransition != "" {
				t.Errorf("In Progress asks for %q", e.Ticket.FindingTransition)
			}
		}
	}
	if inProgress != 1 {
		t.Errorf("%d In Progress events, want 1", inProgress)
	}

	st := h.status(p)
	for _, rec := range []integrations.Record{jr, sn, me} {
		s := st[rec.ID]
		if s.LeaseHolder != "a" || !s.LastSuccess.Equal(t0.Add(time.Hour)) || s.LastError != "" || s.LastEvents == 0 {
			t.Errorf("%s: status %+v", rec.ID, s)
		}
	}

	// Polling again finds nothing new: ServiceNow and ManageEngine remember
	// the state they saw, Jira's histories are older than the overlap.
	before := map[string]int{}
	for _, rec := range []integrations.Record{jr, sn, me} {
		before[rec.ID] = len(h.committed(rec.ID))
	}
	h.clock.Advance(5 * time.Minute)
	if e := pollOnce(t, p); e != "" {
		t.Fatal(e)
	}
	for _, rec := range []integrations.Record{jr, sn, me} {
		if n := len(h.committed(rec.ID)); n != before[rec.ID] {
			t.Errorf("%s: second poll committed %d more events", rec.ID, n-before[rec.ID])
		}
	}
}

func keys(m map[string]events.Event) []string {
	var out []string
	for k, e := range m {
		out = append(out, k+"("+e.Type+")")
	}
	return out
}

// Two instances on one Redis: each integration is polled by exactly one;
// when that one stops renewing, the other takes over once the lease
// expires.
func TestPollTwoInstancesOneLeaseEach(t *testing.T) {
	h := newHarness(t)
	var recs []integrations.Record
	for i := range 2 {
		recs = append(recs,
			h.add(fmt.Sprintf("jira-%d", i), integrations.Jira),
			h.add(fmt.Sprintf("snow-%d", i), integrations.ServiceNow),
			h.add(fmt.Sprintf("sdp-%d", i), integrations.ManageEngine))
	}
	short := func(c *poller.Config) { c.LeaseTTL = time.Second }
	pa, pb := h.poller("a", short), h.poller("b", short)
	both := func() {
		var wg sync.WaitGroup
		for _, p := range []*poller.Poller{pa, pb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.PollOnce(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	calls := func(rec integrations.Record) int {
		switch rec.Vendor {
		case integrations.Jira:
			return h.jira.CallsOf(rec.APIToken)
		case integrations.ServiceNow:
			return h.sn.CallsOf(rec.APIToken)
		}
		return h.me.CallsOf(rec.APIToken)
	}

	both()
	h.dropWebhooks()
	h.clock.Set(t0.Add(time.Hour))
	both()

	holders := h.status(pa)
	for _, rec := range recs {
		holder := holders[rec.ID].LeaseHolder
		if holder != "a" && holder != "b" {
			t.Fatalf("%s: lease holder %q", rec.ID, holder)
		}
		if n := calls(rec); n != 1 {
			t.Errorf("%s: vendor asked %d times, want once", rec.ID, n)
		}
		cs := h.commitCalls(rec.ID)
		if len(cs) == 0 {
			t.Errorf("%s: nothing committed", rec.ID)
		}
		for _, c := range cs {
			if c.instance != holder {
				t.Errorf("%s: committed by %s, lease held by %s", rec.ID, c.instance, holder)
			}
		}
	}

	// "a" crashes: it stops renewing. Its leases expire on Redis's clock.
	time.Sleep(1200 * time.Millisecond)
	h.sn.Set(fakevendors.ServiceNowRecord{Number: "INC0010234", State: "7", UpdatedBy: "r.okafor", Updated: t0.Add(61 * time.Minute)})
	h.clock.Set(t0.Add(62 * time.Minute))
	if e := pollOnce(t, pb); e != "" {
		t.Fatal(e)
	}
	after := h.status(pb)
	for _, rec := range recs {
		if after[rec.ID].LeaseHolder != "b" {
			t.Errorf("%s: lease holder %q after a crashed, want b", rec.ID, after[rec.ID].LeaseHolder)
		}
		if after[rec.ID].LeaseToken <= holders[rec.ID].LeaseToken && holders[rec.ID].LeaseHolder == "a" {
			t.Errorf("%s: fencing token %d did not grow past %d", rec.ID, after[rec.ID].LeaseToken, holders[rec.ID].LeaseToken)
		}
		if n := calls(rec); n != 2 {
			t.Errorf("%s: vendor asked %d times, want twice", rec.ID, n)
		}
		if rec.Vendor == integrations.ServiceNow {
			cs := h.commitCalls(rec.ID)
			if last := cs[len(cs)-1]; last.instance != "b" || last.evs[0].Ticket.Status != "7" {
				t.Errorf("%s: closing change committed by %s: %+v", rec.ID, last.instance, last.evs)
			}
		}
	}
	// "a" comes back with stale leases: it polls nothing.
	if e := pollOnce(t, pa); e != "" {
		t.Fatal(e)
	}
	for _, rec := range recs {
		if n := calls(rec); n != 2 {
			t.Errorf("%s: vendor asked %d times after a came back, want 2", rec.ID, n)
		}
	}
}

// A new Poller on the same Redis resumes from the cursor: what the last
// one committed is not committed again.
func TestPollRestartResumesFromCursor(t *testing.T) {
	h := newHarness(t)
	jr := h.add("sec-jira", integrations.Jira)
	sn := h.add("ops-snow", integrations.ServiceNow)
	me := h.add("it-sdp", integrations.ManageEngine)
	recs := []integrations.Record{jr, sn, me}
	p1 := h.poller("a", nil)
	pollOnce(t, p1)
	h.dropWebhooks()
	h.clock.Set(t0.Add(time.Hour))
	if e := pollOnce(t, p1); e != "" {
		t.Fatal(e)
	}
	counts := func() map[string]int {
		m := map[string]int{}
		for _, r := range recs {
			m[r.ID] = len(h.committed(r.ID))
		}
		return m
	}
	first := counts()
	p1.Release(context.Background())

	h.clock.Advance(10 * time.Minute)
	p2 := h.poller("b", nil)
	if e := pollOnce(t, p2); e != "" {
		t.Fatal(e)
	}
	if got := counts(); fmt.Sprint(got) != fmt.Sprint(first) {
		t.Errorf("restart re-emitted: %v, before %v", got, first)
	}
	for _, r := range recs {
		if c := h.cursor(r.ID); !c.Equal(t0.Add(70 * time.Minute)) {
			t.Errorf("%s: cursor %v after restart", r.ID, c)
		}
	}

	// A change just before the next restart lies inside the overlap window:
	// ServiceNow and ManageEngine remember what they saw; Jira sees the
	// history again, and it yields the same id, so nothing new reaches the
	// finding service.
	h.jira.Transition("SEC-42", "Reopened", "4", "new", t0.Add(71*time.Minute))
	h.sn.Set(fakevendors.ServiceNowRecord{Number: "INC0010234", State: "2", UpdatedBy: "r.okafor", Updated: t0.Add(71 * time.Minute)})
	h.me.Set(fakevendors.ServiceDeskPlusRequest{ID: "118000004412077", DisplayID: "5731", Status: "Open", Updated: t0.Add(71 * time.Minute)})
	h.clock.Set(t0.Add(72 * time.Minute))
	if e := pollOnce(t, p2); e != "" {
		t.Fatal(e)
	}
	second := counts()
	for _, r := range recs {
		if second[r.ID] != first[r.ID]+1 {
			t.Errorf("%s: %d new events for one change", r.ID, second[r.ID]-first[r.ID])
		}
	}
	p2.Release(context.Background())
	h.clock.Advance(30 * time.Second)
	p3 := h.poller("c", nil)
	if e := pollOnce(t, p3); e != "" {
		t.Fatal(e)
	}
	for _, r := range []integrations.Record{sn, me} {
		if n := len(h.committed(r.ID)); n != second[r.ID] {
			t.Errorf("%s: restart inside the overlap committed %d more", r.ID, n-second[r.ID])
		}
	}
	ids := map[string]int{}
	for _, e := range h.committed(jr.ID) {
		ids[e.ID]++
	}
	if len(ids) != second[jr.ID] {
		t.Errorf("jira: %d distinct ids, want %d: the overlap must only repeat ids", len(ids), second[jr.ID])
	}
}

// A vendor answering 429, 500 or garbage: the error is in the status, the
// cursor stays, the others are polled, and the failing one is retried
// after its backoff (never before a 429's Retry-After).
func TestPollVendorFailures(t *testing.T) {
	h := newHarness(t)
	jBad := h.add("j-bad", integrations.Jira)
	sBad := h.add("s-bad", integrations.ServiceNow)
	mBad := h.add("m-bad", integrations.ManageEngine)
	jOK := h.add("j-ok", integrations.Jira)
	sOK := h.add("s-ok", integrations.ServiceNow)
	p := h.poller("a", nil)
	pollOnce(t, p)
	h.dropWebhooks()
	h.jira.FailToken(jBad.APIToken, fakevendors.Answer{Status: 429, Header: map[string]string{"Retry-After": "600"}, Body: `{"errorMessages":["Rate limit exceeded"]}`})
	h.sn.FailToken(sBad.APIToken, fakevendors.Answer{Status: 500, Body: "<html>Internal Server Error</html>"})
	h.me.FailToken(mBad.APIToken, fakevendors.Answer{Status: 200, Body: `{"requests": [{"display_id": "5731", `})
	h.clock.Set(t0.Add(time.Hour))

	e := pollOnce(t, p)
	for _, id := range []string{"j-bad", "s-bad", "m-bad"} {
		if !strings.Contains(e, id) {
			t.Errorf("PollOnce error %q does not name %s", e, id)
		}
	}
	st := h.status(p)
	want := map[string]string{"j-bad": "HTTP 429", "s-bad": "HTTP 500", "m-bad": "not the expected JSON"}
	for id, w := range want {
		s := st[id]
		if !strings.Contains(s.LastError, w) || !s.LastErrorAt.Equal(t0.Add(time.Hour)) || s.NextAttempt.IsZero() {
			t.Errorf("%s: status %+v, want error %q and a next attempt", id, s, w)
		}
		if strings.Contains(s.LastError, "tok-") {
			t.Errorf("%s: error %q carries the api_token", id, s.LastError)
		}
		if c := h.cursor(id); !c.Equal(t0) {
			t.Errorf("%s: cursor moved to %v on failure", id, c)
		}
	}
	if na := st["j-bad"].NextAttempt; na.Before(t0.Add(time.Hour + 10*time.Minute)) {
		t.Errorf("429 with Retry-After 600 retried at %v", na)
	}
	for _, rec := range []integrations.Record{jOK, sOK} {
		if len(h.committed(rec.ID)) == 0 || !h.cursor(rec.ID).Equal(t0.Add(time.Hour)) || st[rec.ID].LastError != "" {
			t.Errorf("%s: healthy integration not polled: %+v", rec.ID, st[rec.ID])
		}
	}

	// Backing off: not asked again at once (the first backoff is half an
	// interval), even with the vendor well.
	h.jira.Recover()
	h.sn.Recover()
	h.me.Recover()
	callsBefore := h.jira.CallsOf(jBad.APIToken) + h.sn.CallsOf(sBad.APIToken) + h.me.CallsOf(mBad.APIToken)
	h.clock.Advance(20 * time.Second)
	if e := pollOnce(t, p); e != "" {
		t.Fatal(e)
	}
	if n := h.jira.CallsOf(jBad.APIToken) + h.sn.CallsOf(sBad.APIToken) + h.me.CallsOf(mBad.APIToken); n != callsBefore {
		t.Errorf("failing integrations asked again during backoff (%d calls, before %d)", n, callsBefore)
	}
	if h.sn.CallsOf(sOK.APIToken) != 2 {
		t.Errorf("healthy integration held up: %d calls", h.sn.CallsOf(sOK.APIToken))
	}

	// After the backoff they catch up from their unmoved cursors.
	h.clock.Advance(10 * time.Minute)
	if e := pollOnce(t, p); e != "" {
		t.Fatal(e)
	}
	st = h.status(p)
	for _, rec := range []integrations.Record{jBad, sBad, mBad} {
		s := st[rec.ID]
		if s.LastError != "" || !s.NextAttempt.IsZero() || len(h.committed(rec.ID)) == 0 {
			t.Errorf("%s: not recovered: %+v", rec.ID, s)
		}
		if c := h.cursor(rec.ID); !c.Equal(t0.Add(70*time.Minute + 20*time.Second)) {
			t.Errorf("%s: cursor %v after recovery", rec.ID, c)
		}
	}
}

// Pagination reads to the end (keyset pages across runs of equal
// timestamps included) and emits each change once.
func TestPollPagination(t *testing.T) {
	h := newHarness(t)
	h.jira.SetPageSize(2)
	jr := h.add("sec-jira", integrations.Jira)
	sn := h.add("ops-snow", integrations.ServiceNow)
	me := h.add("it-sdp", integrations.ManageEngine)
	p := h.poller("a", nil)
	pollOnce(t, p)

	for i := range 5 {
		h.jira.Transition(fmt.Sprintf("SEC-%d", i), "Done", "10002", "done", t0.Add(time.Duration(10+i)*time.Minute))
	}
	same := t0.Add(20 * time.Minute)
	for i := range 250 {
		at := same // 150 tickets updated in the same second, then 100 spread out
		if i >= 150 {
			at = same.Add(time.Duration(i) * time.Second)
		}
		h.sn.Set(fakevendors.ServiceNowRecord{Number: fmt.Sprintf("INC%07d", i), State: "6", Updated: at})
	}
	for i := range 230 {
		at := same.Add(time.Duration(i/120) * time.Second) // 120 in one second, then 110 in the next
		h.me.Set(fakevendors.ServiceDeskPlusRequest{ID: fmt.Sprint(9000 + i), DisplayID: fmt.Sprint(i), Status: "Resolved", Updated: at})
	}
	h.clock.Set(t0.Add(time.Hour))
	if e := pollOnce(t, p); e != "" {
		t.Fatal(e)
	}
	for _, c := range []struct {
		rec       integrations.Record
		n         int
		minCalls  int
		callsOfFn func(string) int
	}{
		{jr, 5, 3, h.jira.CallsOf},
		{sn, 250, 3, h.sn.CallsOf},
		{me, 230, 3, h.me.CallsOf},
	} {
		evs := h.committed(c.rec.ID)
		ids := byID(evs)
		if len(evs) != c.n || len(ids) != c.n {
			t.Errorf("%s: %d events, %d distinct, want %d", c.rec.ID, len(evs), len(ids), c.n)
		}
		if calls := c.callsOfFn(c.rec.APIToken); calls < c.minCalls {
			t.Errorf("%s: %d pages read, want at least %d", c.rec.ID, calls, c.minCalls)
		}
		if n := len(h.commitCalls(c.rec.ID)); n < 2 {
			t.Errorf("%s: %d commits, want one per page", c.rec.ID, n)
		}
	}
}

// A failed Commit stops the visit: the cursor stays at the last committed
// page, and the next visit commits the rest.
func TestPollCommitFailureKeepsCursor(t *testing.T) {
	h := newHarness(t)
	h.jira.SetPageSize(2)
	jr := h.add("sec-jira", integrations.Jira)
	p := h.poller("a", nil)
	pollOnce(t, p)
	for i := range 5 {
		h.jira.Transition(fmt.Sprintf("SEC-%d", i), "Done", "10002", "done", t0.Add(time.Duration(10*(i+1))*time.Minute))
	}
	h.commitErr = func(_ string, n int) error {
		if n == 1 {
			return errors.New("outbox unavailable")
		}
		return nil
	}
	h.clock.Set(t0.Add(2 * time.Hour))
	if e := pollOnce(t, p); !strings.Contains(e, "commit: outbox unavailable") {
		t.Fatalf("PollOnce: %q", e)
	}
	if n := len(h.committed(jr.ID)); n != 2 {
		t.Fatalf("%d events committed, want the first page's 2", n)
	}
	if c := h.cursor(jr.ID); !c.Equal(t0.Add(20 * time.Minute)) {
		t.Errorf("cursor %v, want the first page's newest update %v", c, t0.Add(20*time.Minute))
	}
	if s := h.status(p)[jr.ID]; !strings.Contains(s.LastError, "commit") {
		t.Errorf("status %+v", s)
	}

	h.commitErr = nil
	h.clock.Advance(time.Hour)
	if e := pollOnce(t, p); e != "" {
		t.Fatal(e)
	}
	// The overlap window re-reads the first page's newest change; it comes
	// again under the same id, which the finding service already has.
	evs := h.committed(jr.ID)
	if len(byID(evs)) != 5 || len(evs) > 6 {
		t.Errorf("%d events (%d distinct) after recovery, want the 5 changes", len(evs), len(byID(evs)))
	}
	if c := h.cursor(jr.ID); !c.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("cursor %v after recovery", c)
	}
}

type failingTransport struct{ msg string }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New(f.msg)
}

// Errors never carry the api_token, even when a transport echoes it.
func TestPollErrorsRedactToken(t *testing.T) {
	rec := integrations.Record{ID: "sn", Vendor: integrations.ServiceNow, Active: true,
		APIURL: "https://user:pw@example.invalid", APIUser: "u", APIToken: "s3cr3t-token"}
	st := poller.NewMemoryState(nil)
	clock := &testClock{t: t0}
	p, err := poller.New(poller.Config{
		Lister: func(context.Context) ([]integrations.Record, error) { return []integrations.Record{rec}, nil },
		Commit: func(context.Context, integrations.Record, []events.Event) error { return nil },
		State:  st, Now: clock.Now,
		HTTP: &http.Client{Transport: failingTransport{"proxy refused the request for s3cr3t-token"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pollOnce(t, p)
	clock.Advance(time.Hour)
	e := pollOnce(t, p)
	s, _ := st.Status(context.Background(), "sn")
	if e == "" || s.LastError == "" {
		t.Fatalf("no error: %q %+v", e, s)
	}
	for _, msg := range []string{e, s.LastError} {
		if strings.Contains(msg, "s3cr3t-token") || strings.Contains(msg, "pw@") {
			t.Errorf("error leaks a credential: %q", msg)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"120": 2 * time.Minute, "0": time.Second, "": poller.DefaultRetryAfter, "soon": poller.DefaultRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second, "999999": time.Hour,
	} {
		if got := poller.RetryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// Run polls at once, then every interval, and releases its leases when
// its context ends, so another instance need not wait for them to expire.
func TestRunReleasesLeasesOnStop(t *testing.T) {
	h := newHarness(t)
	jr := h.add("sec-jira", integrations.Jira)
	p := h.poller("a", func(c *poller.Config) { c.Interval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for h.cursor(jr.ID).IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("Run did not poll")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := h.status(p)[jr.ID]; s.LeaseHolder != "a" {
		t.Fatalf("status while running: %+v", s)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	if s := h.status(p)[jr.ID]; s.LeaseHolder != "" {
		t.Errorf("lease still held by %q after Run stopped", s.LeaseHolder)
	}
}
