package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// harness is one store under the conformance suite.
type harness struct {
	d Deliveries
	o Outbox
	// now is the store's injected clock.
	now func() time.Time
	// advance moves the injected clock only: retry due times and ages.
	advance func(time.Duration)
	// elapse lets d pass for the store's own clock too (dedupe expiry,
	// reclaim idle time): Memory moves its clock, Redis sleeps.
	elapse func(time.Duration)
}

// fakeClock is an injectable clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// runConformance runs every shared test against stores newHarness makes,
// a fresh one per test.
func runConformance(t *testing.T, newHarness func(t *testing.T) *harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"CommitWritesEventsAuditAndMark", testCommitWritesAll},
		{"DuplicateCommit", testDuplicateCommit},
		{"DedupeExpiry", testDedupeExpiry},
		{"SeenMarkReject", testSeenMarkReject},
		{"ReplayKey", testReplayKey},
		{"ClaimLifecycle", testClaimLifecycle},
		{"ClaimLeaseExpires", testClaimLeaseExpires},
		{"TicketOrderCommit", testTicketOrderCommit},
		{"TicketOrderClaim", testTicketOrderClaim},
		{"AuditCapping", testAuditCapping},
		{"NextDone", testNextDone},
		{"DoneBatch", testDoneBatch},
		{"RetryNotBeforeDue", testRetryNotBeforeDue},
		{"DeadLettersAndRedrive", testDeadAndRedrive},
		{"ReclaimFromCrashedConsumer", testReclaim},
		{"HandBackFromStoppingConsumer", testHandBack},
		{"ConcurrentDrain", testConcurrentDrain},
		{"Stats", testStats},
		{"NextWakesOnCommit", testNextWakesOnCommit},
		{"OutboxFull", testOutboxFull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness(t)) })
	}
}

// delivery builds an accepted delivery of n events with ids key-0, key-1…
func delivery(integration, key string, n int) Accepted {
	a := Accepted{
		Integration: integration,
		DedupeKey:   key,
		DedupeTTL:   time.Hour,
		AuditSize:   200,
		Audit: AuditEntry{
			Time:        time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			Vendor:      "github",
			Event:       "push",
			Repository:  "org/repo",
			Branch:      "main",
			Commit:      "0123456789abcdef",
			PullRequest: 12,
			Delivery:    key,
			EventID:     key + "-0",
			Action:      "forwarded",
			Signature:   "valid",
		},
	}
	for i := range n {
		id := fmt.Sprintf("%s-%d", key, i)
		a.Events = append(a.Events, OutboxEvent{
			ID:   id,
			Body: []byte(fmt.Sprintf(`{"id":%q,"type":"ci.push","ci":{"branch":"main","note":"é/\\\"\n"}}`, id)),
		})
	}
	return a
}

func eventIDs(ps []Pending) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.Event.ID
	}
	return ids
}

func next(t *testing.T, h *harness, consumer string, n int, reclaimAfter time.Duration) []Pending {
	t.Helper()
	ps, err := h.o.Next(context.Background(), consumer, n, 0, reclaimAfter)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ps
}

func mustAudit(t *testing.T, h *harness, integration string) (accepted, rejected []AuditEntry) {
	t.Helper()
	acc, rej, err := h.d.Audit(context.Background(), integration)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return acc, rej
}

func mustStats(t *testing.T, h *harness) (int, time.Duration) {
	t.Helper()
	n, age, err := h.o.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return n, age
}

// mustCommit commits a and reports whether it was a duplicate.
func mustCommit(t *testing.T, h *harness, a Accepted) bool {
	t.Helper()
	return commitOutcome(t, h, a) == Duplicate
}

func commitOutcome(t *testing.T, h *harness, a Accepted) Outcome {
	t.Helper()
	o, err := h.d.Commit(context.Background(), a)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return o
}

func claimOutcome(t *testing.T, h *harness, a Accepted, token string, lease time.Duration) Outcome {
	t.Helper()
	o, err := h.d.Claim(context.Background(), a, token, lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return o
}

func mustSeen(t *testing.T, h *harness, key string) bool {
	t.Helper()
	seen, err := h.d.Seen(context.Background(), key)
	if err != nil {
		t.Fatalf("Seen: %v", err)
	}
	return seen
}

func doneAll(t *testing.T, h *harness, ps []Pending) {
	t.Helper()
	for _, p := range ps {
		if err := h.o.Done(context.Background(), p); err != nil {
			t.Fatalf("Done: %v", err)
		}
	}
}

func testCommitWritesAll(t *testing.T, h *harness) {
	a := delivery("demo-gh", "d1", 2)
	if mustCommit(t, h, a) {
		t.Fatal("first commit reported duplicate")
	}
	if !mustSeen(t, h, "d1") {
		t.Error("dedupe key not marked")
	}
	if mustSeen(t, h, "d2") {
		t.Error("unrelated key marked")
	}
	acc, rej := mustAudit(t, h, "demo-gh")
	if len(acc) != 1 || len(rej) != 0 {
		t.Fatalf("audit: %d accepted, %d rejected; want 1, 0", len(acc), len(rej))
	}
	if !acc[0].Time.Equal(a.Audit.Time) {
		t.Errorf("audit time %v, want %v", acc[0].Time, a.Audit.Time)
	}
	got, want := acc[0], a.Audit
	got.Time, want.Time = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("audit entry %+v, want %+v", got, want)
	}
	if acc, _ := mustAudit(t, h, "other"); len(acc) != 0 {
		t.Errorf("other integration has %d entries", len(acc))
	}

	ps := next(t, h, "w1", 10, time.Minute)
	if len(ps) != 2 {
		t.Fatalf("Next gave %d events, want 2", len(ps))
	}
	for i, p := range ps {
		e := a.Events[i]
		if p.Event.ID != e.ID || string(p.Event.Body) != string(e.Body) {
			t.Errorf("event %d: %q %s, want %q %s", i, p.Event.ID, p.Event.Body, e.ID, e.Body)
		}
		if p.Attempts != 0 || p.LastError != "" || p.StreamID == "" {
			t.Errorf("event %d: attempts %d, last error %q, stream id %q", i, p.Attempts, p.LastError, p.StreamID)
		}
	}
	if n, _ := mustStats(t, h); n != 2 {
		t.Errorf("Stats length %d, want 2", n)
	}
}

func testDuplicateCommit(t *testing.T, h *harness) {
	mustCommit(t, h, delivery("demo-gh", "d1", 2))
	again := delivery("demo-gh", "d1", 3)
	again.Events[0].ID = "other"
	if !mustCommit(t, h, again) {
		t.Fatal("second commit with the same key not a duplicate")
	}
	if ids := eventIDs(next(t, h, "w1", 10, time.Minute)); !slices.Equal(ids, []string{"d1-0", "d1-1"}) {
		t.Errorf("outbox holds %v, want the first delivery's events only", ids)
	}
	acc, rej := mustAudit(t, h, "demo-gh")
	if len(acc) != 2 || len(rej) != 0 {
		t.Fatalf("audit: %d accepted, %d rejected; want 2, 0", len(acc), len(rej))
	}
	if acc[0].Action != "duplicate" || acc[1].Action != "forwarded" {
		t.Errorf("audit actions %q, %q; want duplicate, forwarded", acc[0].Action, acc[1].Action)
	}
	if acc[0].Delivery != "d1" || acc[0].Signature != "valid" {
		t.Errorf("duplicate entry lost its fields: %+v", acc[0])
	}
}

func testDedupeExpiry(t *testing.T, h *harness) {
	a := delivery("demo-gh", "d1", 1)
	a.DedupeTTL = time.Second
	mustCommit(t, h, a)
	if !mustSeen(t, h, "d1") {
		t.Fatal("not marked right after commit")
	}
	h.elapse(1200 * time.Millisecond)
	if mustSeen(t, h, "d1") {
		t.Fatal("mark still there after its TTL")
	}
	if mustCommit(t, h, a) {
		t.Fatal("commit after the mark expired reported duplicate")
	}
	if n, _ := mustStats(t, h); n != 2 {
		t.Errorf("Stats length %d, want 2", n)
	}

	// A delivery without a dedupe key, or with no TTL, leaves no mark.
	b := delivery("demo-gh", "", 1)
	mustCommit(t, h, b)
	if mustCommit(t, h, b) {
		t.Error("delivery without dedupe key reported duplicate")
	}
	c := delivery("demo-gh", "d2", 1)
	c.DedupeTTL = 0
	mustCommit(t, h, c)
	if mustSeen(t, h, "d2") {
		t.Error("zero TTL left a mark")
	}
}

func testSeenMarkReject(t *testing.T, h *harness) {
	ctx := context.Background()
	if mustSeen(t, h, "g1") || mustSeen(t, h, "") {
		t.Fatal("seen before mark")
	}
	passed := delivery("demo-gl", "g1", 0)
	passed.Audit.Action = "passed"
	if o := claimOutcome(t, h, passed, "tok", time.Minute); o != Claimed {
		t.Fatalf("claim: %v", o)
	}
	if mustSeen(t, h, "g1") {
		t.Fatal("a claim counts as handled")
	}
	if err := h.d.Finish(ctx, passed); err != nil {
		t.Fatal(err)
	}
	if !mustSeen(t, h, "g1") {
		t.Fatal("not seen after mark")
	}
	if !mustCommit(t, h, delivery("demo-gl", "g1", 1)) {
		t.Error("commit after mark not a duplicate")
	}
	bad := AuditEntry{Vendor: "gitlab", Signature: "invalid", Reason: "token mismatch"}
	if err := h.d.Reject(ctx, "demo-gl", bad, 200); err != nil {
		t.Fatal(err)
	}
	acc, rej := mustAudit(t, h, "demo-gl")
	if len(acc) != 2 || acc[0].Action != "duplicate" || acc[1].Action != "passed" {
		t.Errorf("accepted %+v; want duplicate then passed", acc)
	}
	if len(rej) != 1 || rej[0].Reason != "token mismatch" || rej[0].Signature != "invalid" {
		t.Errorf("rejected %+v", rej)
	}
	if n, _ := mustStats(t, h); n != 0 {
		t.Errorf("duplicate commit queued events: length %d", n)
	}
}

func testAuditCapping(t *testing.T, h *harness) {
	ctx := context.Background()
	for i := range 230 {
		a := Accepted{Integration: "demo", Audit: AuditEntry{Delivery: fmt.Sprintf("acc-%d", i), Signature: "valid"}, AuditSize: 200}
		mustCommit(t, h, a)
	}
	for i := range 300 {
		e := AuditEntry{Delivery: fmt.Sprintf("rej-%d", i), Signature: "invalid"}
		if err := h.d.Reject(ctx, "demo", e, 200); err != nil {
			t.Fatal(err)
		}
	}
	acc, rej := mustAudit(t, h, "demo")
	if len(acc) != 200 || len(rej) != 200 {
		t.Fatalf("audit lengths %d accepted, %d rejected; want 200, 200", len(acc), len(rej))
	}
	for i, e := range acc {
		if want := fmt.Sprintf("acc-%d", 229-i); e.Delivery != want {
			t.Fatalf("accepted[%d] = %s, want %s (newest first)", i, e.Delivery, want)
		}
	}
	for i, e := range rej {
		if want := fmt.Sprintf("rej-%d", 299-i); e.Delivery != want {
			t.Fatalf("rejected[%d] = %s, want %s (newest first)", i, e.Delivery, want)
		}
	}
	// A caller passing no size gets the default.
	for i := range DefaultAuditSize + 5 {
		if err := h.d.Reject(ctx, "demo2", AuditEntry{Delivery: fmt.Sprint(i)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, rej := mustAudit(t, h, "demo2"); len(rej) != DefaultAuditSize {
		t.Errorf("default size kept %d entries", len(rej))
	}
}

func testNextDone(t *testing.T, h *harness) {
	mustCommit(t, h, delivery("demo", "d", 3))
	first := next(t, h, "w1", 2, time.Minute)
	second := next(t, h, "w1", 2, time.Minute)
	if ids := eventIDs(append(slices.Clone(first), second...)); !slices.Equal(ids, []string{"d-0", "d-1", "d-2"}) {
		t.Fatalf("handed out %v", ids)
	}
	if len(first) != 2 {
		t.Fatalf("Next(n=2) gave %d", len(first))
	}
	if ps := next(t, h, "w2", 10, time.Minute); len(ps) != 0 {
		t.Fatalf("events in flight handed out again: %v", eventIDs(ps))
	}
	doneAll(t, h, first)
	doneAll(t, h, second)
	if n, age := mustStats(t, h); n != 0 || age != 0 {
		t.Errorf("after Done: length %d age %v; want 0, 0", n, age)
	}
	h.elapse(10 * time.Millisecond)
	if ps := next(t, h, "w2", 10, time.Millisecond); len(ps) != 0 {
		t.Errorf("done events handed out again: %v", eventIDs(ps))
	}
}

// testDoneBatch marks more events done in one call than one Redis script
// call takes (maxDoneBatch), plus one that is no longer in flight.
func testDoneBatch(t *testing.T, h *harness) {
	const n = maxDoneBatch + 44
	mustCommit(t, h, delivery("demo", "d", n))
	ps := next(t, h, "w1", n, time.Minute)
	if len(ps) != n {
		t.Fatalf("Next(n=%d) gave %d", n, len(ps))
	}
	if err := h.o.Done(context.Background(), ps[0]); err != nil {
		t.Fatalf("Done: %v", err)
	}
	if err := h.o.Done(context.Background(), ps...); err != nil {
		t.Fatalf("Done of %d: %v", n, err)
	}
	if length, age := mustStats(t, h); length != 0 || age != 0 {
		t.Errorf("after Done: length %d age %v; want 0, 0", length, age)
	}
	h.elapse(10 * time.Millisecond)
	if got := next(t, h, "w2", n, time.Millisecond); len(got) != 0 {
		t.Errorf("%d done events handed out again", len(got))
	}
}

func testRetryNotBeforeDue(t *testing.T, h *harness) {
	ctx := context.Background()
	mustCommit(t, h, delivery("demo", "d", 1))
	p := next(t, h, "w1", 1, time.Minute)[0]
	if err := h.o.Retry(ctx, p, h.now().Add(time.Hour), "upstream: 503"); err != nil {
		t.Fatal(err)
	}
	if ps := next(t, h, "w1", 10, time.Minute); len(ps) != 0 {
		t.Fatalf("retry handed out before due: %v", eventIDs(ps))
	}
	if n, _ := mustStats(t, h); n != 1 {
		t.Errorf("waiting retry not counted: length %d", n)
	}
	h.advance(59 * time.Minute)
	if ps := next(t, h, "w1", 10, time.Minute); len(ps) != 0 {
		t.Fatalf("retry handed out a minute early: %v", eventIDs(ps))
	}
	h.advance(2 * time.Minute)
	ps := next(t, h, "w1", 10, time.Minute)
	if len(ps) != 1 {
		t.Fatalf("due retry: got %d events", len(ps))
	}
	got := ps[0]
	if got.Event.ID != p.Event.ID || string(got.Event.Body) != string(p.Event.Body) {
		t.Errorf("retried event changed: %q %s", got.Event.ID, got.Event.Body)
	}
	if got.Attempts != 1 || got.LastError != "upstream: 503" {
		t.Errorf("attempts %d last error %q; want 1, upstream: 503", got.Attempts, got.LastError)
	}
	// A due time in the past comes back at once, counting on.
	if err := h.o.Retry(ctx, got, h.now().Add(-time.Second), "timeout"); err != nil {
		t.Fatal(err)
	}
	ps = next(t, h, "w1", 10, time.Minute)
	if len(ps) != 1 || ps[0].Attempts != 2 || ps[0].LastError != "timeout" {
		t.Fatalf("second retry: %+v", ps)
	}
	doneAll(t, h, ps)
	if n, _ := mustStats(t, h); n != 0 {
		t.Errorf("length %d after Done", n)
	}
}

func testDeadAndRedrive(t *testing.T, h *harness) {
	ctx := context.Background()
	a := delivery("demo", "d", 3)
	mustCommit(t, h, a)
	ps := next(t, h, "w1", 3, time.Minute)
	if len(ps) != 3 {
		t.Fatalf("got %d events", len(ps))
	}
	// d-0 fails once before it dies.
	if err := h.o.Retry(ctx, ps[0], h.now().Add(-time.Millisecond), "503"); err != nil {
		t.Fatal(err)
	}
	again := next(t, h, "w1", 1, time.Minute)
	if len(again) != 1 {
		t.Fatal("retry not handed out")
	}
	t0 := h.now().Truncate(time.Millisecond)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(h.o.Dead(ctx, ps[1], "400 bad request", t0.Add(1*time.Second)))
	must(h.o.Dead(ctx, again[0], "410 gone", t0.Add(2*time.Second)))
	must(h.o.Dead(ctx, ps[2], "max attempts", t0.Add(3*time.Second)))
	if n, _ := mustStats(t, h); n != 0 {
		t.Errorf("dead letters counted in outbox length: %d", n)
	}

	dl, err := h.o.DeadLetters(ctx, 0)
	must(err)
	want := []struct {
		id       string
		attempts int
		lastErr  string
		failed   time.Time
		body     []byte
	}{
		{"d-1", 1, "400 bad request", t0.Add(time.Second), a.Events[1].Body},
		{"d-0", 2, "410 gone", t0.Add(2 * time.Second), a.Events[0].Body},
		{"d-2", 1, "max attempts", t0.Add(3 * time.Second), a.Events[2].Body},
	}
	if len(dl) != len(want) {
		t.Fatalf("%d dead letters, want %d", len(dl), len(want))
	}
	for i, w := range want {
		d := dl[i]
		if d.ID != w.id || d.Attempts != w.attempts || d.LastError != w.lastErr ||
			!d.FailedAt.Equal(w.failed) || string(d.Event) != string(w.body) {
			t.Errorf("dead letter %d: %+v (event %s), want %+v", i, d, d.Event, w)
		}
	}
	if dl, _ := h.o.DeadLetters(ctx, 2); len(dl) != 2 || dl[1].ID != "d-0" {
		t.Errorf("DeadLetters(2) = %d entries", len(dl))
	}

	n, err := h.o.Redrive(ctx, []string{"d-0", "no-such-id"})
	must(err)
	if n != 1 {
		t.Errorf("Redrive(d-0) moved %d", n)
	}
	if dl, _ := h.o.DeadLetters(ctx, 0); len(dl) != 2 || dl[0].ID != "d-1" || dl[1].ID != "d-2" {
		t.Errorf("after redrive of d-0: %+v", dl)
	}
	ps = next(t, h, "w2", 10, time.Minute)
	if len(ps) != 1 || ps[0].Event.ID != "d-0" || ps[0].Attempts != 0 || ps[0].LastError != "" ||
		string(ps[0].Event.Body) != string(a.Events[0].Body) {
		t.Fatalf("redriven event: %+v", ps)
	}
	doneAll(t, h, ps)

	n, err = h.o.Redrive(ctx, nil)
	must(err)
	if n != 2 {
		t.Errorf("Redrive(all) moved %d, want 2", n)
	}
	if dl, _ := h.o.DeadLetters(ctx, 0); len(dl) != 0 {
		t.Errorf("dead letters left after redrive of all: %d", len(dl))
	}
	if ids := eventIDs(next(t, h, "w2", 10, time.Minute)); !slices.Equal(ids, []string{"d-1", "d-2"}) {
		t.Errorf("redriven all: %v, want oldest failure first", ids)
	}
	if n, err := h.o.Redrive(ctx, nil); err != nil || n != 0 {
		t.Errorf("Redrive of nothing: %d, %v", n, err)
	}
}

func testReclaim(t *testing.T, h *harness) {
	ctx := context.Background()
	const reclaimAfter = 200 * time.Millisecond
	mustCommit(t, h, delivery("demo", "d", 2))
	crashed := next(t, h, "crashed", 10, reclaimAfter)
	if len(crashed) != 2 {
		t.Fatalf("got %d", len(crashed))
	}
	if ps := next(t, h, "w2", 10, reclaimAfter); len(ps) != 0 {
		t.Fatalf("reclaimed before reclaimAfter: %v", eventIDs(ps))
	}
	if ps := next(t, h, "w2", 10, 0); len(ps) != 0 {
		t.Fatalf("reclaimAfter 0 reclaimed: %v", eventIDs(ps))
	}
	h.elapse(300 * time.Millisecond)
	got := next(t, h, "w2", 10, reclaimAfter)
	if ids := eventIDs(got); !slices.Equal(ids, []string{"d-0", "d-1"}) {
		t.Fatalf("reclaimed %v", ids)
	}
	if ps := next(t, h, "w3", 10, reclaimAfter); len(ps) != 0 {
		t.Fatalf("freshly reclaimed events handed out again: %v", eventIDs(ps))
	}
	doneAll(t, h, got)
	// The crashed consumer comes back late: its verdicts change nothing.
	if err := h.o.Retry(ctx, crashed[0], h.now(), "late"); err != nil {
		t.Fatal(err)
	}
	if err := h.o.Dead(ctx, crashed[1], "late", h.now()); err != nil {
		t.Fatal(err)
	}
	if err := h.o.Done(ctx, crashed[1]); err != nil {
		t.Fatal(err)
	}
	if n, _ := mustStats(t, h); n != 0 {
		t.Errorf("length %d after a late verdict", n)
	}
	if dl, _ := h.o.DeadLetters(ctx, 0); len(dl) != 0 {
		t.Errorf("late Dead made %d dead letters", len(dl))
	}
	if ps := next(t, h, "w2", 10, reclaimAfter); len(ps) != 0 {
		t.Errorf("late Retry requeued %v", eventIDs(ps))
	}
}

// testHandBack: events a stopping consumer hands back go to the next
// consumer at once, long before reclaimAfter, with their attempts and last
// error as they were; a hand-back of an event already finished (or handed
// back) changes nothing.
func testHandBack(t *testing.T, h *harness) {
	ctx := context.Background()
	const reclaimAfter = time.Hour
	mustCommit(t, h, delivery("demo", "hb", 3))
	held := next(t, h, "stopping", 10, reclaimAfter)
	if len(held) != 3 {
		t.Fatalf("got %d", len(held))
	}
	// One was retried once before: its count must survive the hand-back.
	if err := h.o.Retry(ctx, held[0], h.now(), "503 once"); err != nil {
		t.Fatal(err)
	}
	again := next(t, h, "stopping", 10, reclaimAfter)
	if len(again) != 1 || again[0].Attempts != 1 {
		t.Fatalf("after a retry: %+v", again)
	}
	held[0] = again[0]
	doneAll(t, h, held[2:])
	if err := h.o.HandBack(ctx, held...); err != nil {
		t.Fatal(err)
	}
	got := next(t, h, "successor", 10, reclaimAfter)
	if ids := slices.Sorted(slices.Values(eventIDs(got))); !slices.Equal(ids, []string{"hb-0", "hb-1"}) {
		t.Fatalf("handed back and taken at once: %v, want hb-0 hb-1 (hb-2 was done)", ids)
	}
	for _, p := range got {
		want, lastErr := 0, ""
		if p.Event.ID == "hb-0" {
			want, lastErr = 1, "503 once"
		}
		if p.Attempts != want || p.LastError != lastErr {
			t.Errorf("%s: attempts %d, last error %q; want %d, %q", p.Event.ID, p.Attempts, p.LastError, want, lastErr)
		}
	}
	// The stopping consumer's late hand-back of what it no longer holds.
	if err := h.o.HandBack(ctx, held...); err != nil {
		t.Fatal(err)
	}
	if ps := next(t, h, "third", 10, reclaimAfter); len(ps) != 0 {
		t.Fatalf("a late hand-back requeued %v", eventIDs(ps))
	}
	doneAll(t, h, got)
	if n, _ := mustStats(t, h); n != 0 {
		t.Errorf("length %d after all were done", n)
	}
}

func testConcurrentDrain(t *testing.T, h *harness) {
	const deliveries, perDelivery = 50, 10
	const total = deliveries * perDelivery
	for i := range deliveries {
		mustCommit(t, h, delivery("demo", fmt.Sprintf("c%03d", i), perDelivery))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		mu      sync.Mutex
		counts  = map[string]int{}
		handed  atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		firstEr error
	)
	for w := range 2 {
		wg.Go(func() {
			consumer := fmt.Sprintf("w%d", w)
			for handed.Load() < total && ctx.Err() == nil {
				ps, err := h.o.Next(ctx, consumer, 7, 50*time.Millisecond, time.Minute)
				if err == nil {
					for _, p := range ps {
						mu.Lock()
						counts[p.Event.ID]++
						mu.Unlock()
						handed.Add(1)
						if err = h.o.Done(ctx, p); err != nil {
							break
						}
					}
				}
				if err != nil {
					errOnce.Do(func() { firstEr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstEr != nil {
		t.Fatal(firstEr)
	}
	if len(counts) != total || handed.Load() != total {
		t.Fatalf("%d distinct events in %d hand-outs, want %d each", len(counts), handed.Load(), total)
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("%s handed out %d times", id, n)
		}
	}
	if n, _ := mustStats(t, h); n != 0 {
		t.Errorf("length %d after draining", n)
	}
}

func testStats(t *testing.T, h *harness) {
	ctx := context.Background()
	if n, age := mustStats(t, h); n != 0 || age != 0 {
		t.Fatalf("empty outbox: %d, %v", n, age)
	}
	mustCommit(t, h, delivery("demo", "a", 2))
	h.advance(10 * time.Second)
	mustCommit(t, h, delivery("demo", "b", 1))
	n, age := mustStats(t, h)
	if n != 3 || age < 10*time.Second || age > 12*time.Second {
		t.Fatalf("Stats = %d, %v; want 3, about 10s", n, age)
	}
	// The oldest event waiting to retry still counts, with its first
	// enqueue time.
	ps := next(t, h, "w1", 1, time.Minute)
	if err := h.o.Retry(ctx, ps[0], h.now().Add(time.Hour), "503"); err != nil {
		t.Fatal(err)
	}
	h.advance(5 * time.Second)
	n, age = mustStats(t, h)
	if n != 3 || age < 15*time.Second || age > 17*time.Second {
		t.Fatalf("Stats with a retry = %d, %v; want 3, about 15s", n, age)
	}
	rest := next(t, h, "w1", 10, time.Minute)
	doneAll(t, h, rest)
	n, age = mustStats(t, h)
	if n != 1 || age < 15*time.Second || age > 17*time.Second {
		t.Fatalf("Stats with only the retry = %d, %v; want 1, about 15s", n, age)
	}
	h.advance(time.Hour)
	doneAll(t, h, next(t, h, "w1", 10, time.Minute))
	if n, age := mustStats(t, h); n != 0 || age != 0 {
		t.Fatalf("drained outbox: %d, %v", n, age)
	}
}

func testNextWakesOnCommit(t *testing.T, h *harness) {
	// Make sure everything a blocking Next needs exists before timing it.
	next(t, h, "w1", 1, time.Minute)
	committed := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, err := h.d.Commit(context.Background(), delivery("demo", "late", 1))
		committed <- err
	}()
	start := time.Now()
	ps, err := h.o.Next(context.Background(), "w1", 5, 5*time.Second, time.Minute)
	if cerr := <-committed; cerr != nil {
		t.Fatalf("Commit: %v", cerr)
	}
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if len(ps) != 1 || ps[0].Event.ID != "late-0" {
		t.Fatalf("blocking Next gave %v", eventIDs(ps))
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Next woke after %v, not on the commit", el)
	}
}

// testOutboxFull fills the outbox to MaxOutbox: the delivery that would
// pass it writes nothing (no events, audit entry or dedupe mark), counting
// queued, in-flight and retrying events alike; once events are delivered
// there is room again, and a duplicate is still answered as one.
func testOutboxFull(t *testing.T, h *harness) {
	ctx := context.Background()
	capped := func(a Accepted) Accepted { a.MaxOutbox = 4; return a }
	mustCommit(t, h, capped(delivery("demo", "d1", 2)))
	p := next(t, h, "w1", 1, time.Minute)[0] // one in flight
	if err := h.o.Retry(ctx, p, h.now().Add(time.Hour), "upstream: 503"); err != nil {
		t.Fatal(err) // ... and now waiting to retry
	}
	mustCommit(t, h, capped(delivery("demo", "d2", 1)))
	o, err := h.d.Commit(ctx, capped(delivery("demo", "d3", 2)))
	if dup := o == Duplicate; !errors.Is(err, ErrOutboxFull) || dup {
		t.Fatalf("commit past max_outbox: duplicate=%v err=%v, want ErrOutboxFull", dup, err)
	}
	if n, _ := mustStats(t, h); n != 3 {
		t.Fatalf("outbox length %d after a refused commit, want 3", n)
	}
	if seen, _ := h.d.Seen(ctx, "d3"); seen {
		t.Fatal("a refused commit marked its delivery handled")
	}
	if acc, _ := mustAudit(t, h, "demo"); len(acc) != 2 {
		t.Fatalf("%d accepted entries after a refused commit, want 2", len(acc))
	}
	// One more event still fits; a duplicate needs no room.
	mustCommit(t, h, capped(delivery("demo", "d4", 1)))
	if dup, err := h.d.Commit(ctx, capped(delivery("demo", "d1", 2))); err != nil || dup != Duplicate {
		t.Fatalf("duplicate into a full outbox: duplicate=%v err=%v", dup, err)
	}
	doneAll(t, h, next(t, h, "w1", 10, time.Minute))
	if dup, err := h.d.Commit(ctx, capped(delivery("demo", "d3", 2))); err != nil || dup != Committed {
		t.Fatalf("commit after the drain: duplicate=%v err=%v", dup, err)
	}
}
