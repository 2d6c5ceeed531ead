package state

import (
	"context"
	"slices"
	"testing"
	"time"
)

// The conformance tests of replay keys, claims and ticket order: run by
// runConformance against Memory and Redis alike.

func bodyMAC(integration, key, replay string, n int) Accepted {
	a := delivery(integration, key, n)
	a.ReplayKey, a.ReplayOwner = replay, key
	return a
}

func testReplayKey(t *testing.T, h *harness) {
	first := bodyMAC("demo-gh", "id-1", "body-A", 1)
	if o := commitOutcome(t, h, first); o != Committed {
		t.Fatalf("first commit: %v", o)
	}
	// The same body under a new delivery id: a replay, audited in the
	// rejected list, nothing queued, and the new id stays unmarked so the
	// genuine delivery with that id still passes.
	replay := bodyMAC("demo-gh", "id-2", "body-A", 1)
	replay.Events[0].ID = "replayed"
	if o := commitOutcome(t, h, replay); o != Replay {
		t.Fatalf("same body, new id: %v, want replay", o)
	}
	if mustSeen(t, h, "id-2") {
		t.Fatal("a refused replay marked its delivery id")
	}
	genuine := bodyMAC("demo-gh", "id-2", "body-B", 1)
	if o := commitOutcome(t, h, genuine); o != Committed {
		t.Fatalf("genuine delivery after a replay chose its id: %v", o)
	}
	// The same delivery again is a duplicate, not a replay: the dedupe key
	// is checked first.
	if o := commitOutcome(t, h, first); o != Duplicate {
		t.Fatalf("first delivery again: %v, want duplicate", o)
	}
	if ids := eventIDs(next(t, h, "w", 10, time.Minute)); !slices.Equal(ids, []string{"id-1-0", "id-2-0"}) {
		t.Errorf("outbox %v", ids)
	}
	acc, rej := mustAudit(t, h, "demo-gh")
	if len(acc) != 3 || acc[0].Action != "duplicate" {
		t.Errorf("accepted %+v", acc)
	}
	if len(rej) != 1 || rej[0].Action != "replay" || rej[0].Signature != "valid" || rej[0].Delivery != "id-2" || rej[0].Reason == "" {
		t.Errorf("rejected %+v", rej)
	}
	// A ticket change is keyed by the change, not the delivery: the same
	// body under another delivery is still a replay, while the poller's
	// sighting of the change (no replay key) is a duplicate.
	change := bodyMAC("demo-gh", "change-1", "body-T", 1)
	change.ReplayOwner = "delivery-1"
	commitOutcome(t, h, change)
	change.ReplayOwner = "delivery-2"
	if o := commitOutcome(t, h, change); o != Replay {
		t.Errorf("ticket change body under another delivery: %v, want replay", o)
	}
	change.ReplayOwner = "delivery-1"
	if o := commitOutcome(t, h, change); o != Duplicate {
		t.Errorf("ticket change delivery again: %v, want duplicate", o)
	}
	polled := delivery("demo-gh", "change-1", 1)
	if o := commitOutcome(t, h, polled); o != Duplicate {
		t.Errorf("polled sighting of the change: %v, want duplicate", o)
	}
	// A delivery without an id is keyed by its body; the same body with an
	// id is a replay of it.
	noID := bodyMAC("demo-gh", "body-N", "body-N", 1)
	commitOutcome(t, h, noID)
	if o := commitOutcome(t, h, bodyMAC("demo-gh", "id-N", "body-N", 1)); o != Replay {
		t.Errorf("body of a delivery without id, now with one: %v, want replay", o)
	}
	// ... and the other way round: a body first handled under an id, sent
	// again without one.
	if o := commitOutcome(t, h, bodyMAC("demo-gh", "body-A", "body-A", 1)); o != Replay {
		t.Errorf("body handled under id-1, now without an id: %v, want replay", o)
	}
	// A replay key equal to the dedupe key (no delivery id: the key is the
	// body's) is one key, a duplicate.
	same := bodyMAC("demo-gh", "body-C", "body-C", 1)
	commitOutcome(t, h, same)
	if o := commitOutcome(t, h, same); o != Duplicate {
		t.Errorf("key equal to replay key: %v", o)
	}
}

func testClaimLifecycle(t *testing.T, h *harness) {
	ctx := context.Background()
	a := bodyMAC("demo-gh", "id-1", "body-A", 0)
	a.Audit.Action = "passed"
	if o := claimOutcome(t, h, a, "t1", time.Minute); o != Claimed {
		t.Fatalf("claim: %v", o)
	}
	// Another copy, by delivery id or by body, is in flight; so is a
	// forward-mode commit of it.
	if o := claimOutcome(t, h, a, "t2", time.Minute); o != InFlight {
		t.Fatalf("second copy: %v, want in flight", o)
	}
	if o := claimOutcome(t, h, bodyMAC("demo-gh", "id-9", "body-A", 0), "t3", time.Minute); o != InFlight {
		t.Fatalf("same body, new id while in flight: %v", o)
	}
	if o := commitOutcome(t, h, bodyMAC("demo-gh", "id-1", "", 1)); o != InFlight {
		t.Fatalf("commit while claimed: %v", o)
	}
	// A release by another token leaves the claim; the holder's frees it.
	if err := h.d.Release(ctx, a, "t2"); err != nil {
		t.Fatal(err)
	}
	if o := claimOutcome(t, h, a, "t4", time.Minute); o != InFlight {
		t.Fatalf("after a stranger's release: %v", o)
	}
	if err := h.d.Release(ctx, a, "t1"); err != nil {
		t.Fatal(err)
	}
	if o := claimOutcome(t, h, a, "t5", time.Minute); o != Claimed {
		t.Fatalf("after release: %v, want claimed", o)
	}
	if err := h.d.Finish(ctx, a); err != nil {
		t.Fatal(err)
	}
	if o := claimOutcome(t, h, a, "t6", time.Minute); o != Duplicate {
		t.Fatalf("after finish: %v, want duplicate", o)
	}
	if o := claimOutcome(t, h, bodyMAC("demo-gh", "id-7", "body-A", 0), "t7", time.Minute); o != Replay {
		t.Fatalf("same body after finish: %v, want replay", o)
	}
	acc, rej := mustAudit(t, h, "demo-gh")
	if len(acc) != 2 || acc[0].Action != "duplicate" || acc[1].Action != "passed" {
		t.Errorf("accepted %+v", acc)
	}
	if len(rej) != 1 || rej[0].Action != "replay" {
		t.Errorf("rejected %+v", rej)
	}
	if n, _ := mustStats(t, h); n != 0 {
		t.Errorf("claims queued %d events", n)
	}
}

func testClaimLeaseExpires(t *testing.T, h *harness) {
	a := bodyMAC("demo-gh", "id-1", "body-A", 0)
	claimOutcome(t, h, a, "crashed", time.Second)
	h.elapse(1200 * time.Millisecond)
	if o := claimOutcome(t, h, a, "retry", time.Minute); o != Claimed {
		t.Fatalf("after the lease: %v, want claimed", o)
	}
}

// ticket is a delivery of one status change of ticket at at.
func ticket(key, ticketKey string, at time.Time) Accepted {
	a := delivery("demo-jira", key, 1)
	a.Events[0].Order = Order{Ticket: ticketKey, At: at}
	return a
}

func testTicketOrderCommit(t *testing.T, h *harness) {
	t0 := time.Date(2026, 3, 1, 10, 50, 0, 0, time.UTC)
	done := ticket("done", "SEC-1", t0.Add(9*time.Minute))
	if o := commitOutcome(t, h, done); o != Committed {
		t.Fatalf("done: %v", o)
	}
	// The late retry of the move to In Progress: stale, not queued, not
	// marked, audited in the rejected list.
	late := ticket("progress", "SEC-1", t0)
	if o := commitOutcome(t, h, late); o != Stale {
		t.Fatalf("older change: %v, want stale", o)
	}
	// Its key, the change's own, is marked: the poller's next sighting of
	// the same change is a duplicate rather than another stale entry.
	if !mustSeen(t, h, "progress") {
		t.Error("a stale change left its key unmarked")
	}
	if o := commitOutcome(t, h, late); o != Duplicate {
		t.Errorf("the stale change again: %v, want duplicate", o)
	}
	// Same time again (a replay past the dedupe window): stale.
	if o := commitOutcome(t, h, ticket("done-again", "SEC-1", t0.Add(9*time.Minute))); o != Stale {
		t.Fatalf("same change time: %v, want stale", o)
	}
	// Another ticket, and a newer change of this one, pass.
	if o := commitOutcome(t, h, ticket("other", "SEC-2", t0)); o != Committed {
		t.Fatalf("other ticket: %v", o)
	}
	if o := commitOutcome(t, h, ticket("reopen", "SEC-1", t0.Add(10*time.Minute))); o != Committed {
		t.Fatalf("newer change: %v", o)
	}
	// One delivery, a stale status change and an unordered comment: the
	// comment goes, the change does not.
	mixed := ticket("mixed", "SEC-1", t0.Add(5*time.Minute))
	mixed.Events = append(mixed.Events, OutboxEvent{ID: "comment", Body: []byte(`{}`)})
	if o := commitOutcome(t, h, mixed); o != Committed {
		t.Fatalf("mixed: %v", o)
	}
	if ids := eventIDs(next(t, h, "w", 10, time.Minute)); !slices.Equal(ids, []string{"done-0", "other-0", "reopen-0", "comment"}) {
		t.Errorf("outbox %v", ids)
	}
	_, rej := mustAudit(t, h, "demo-jira")
	if len(rej) != 2 || rej[0].Action != "stale" || rej[0].Signature != "valid" {
		t.Errorf("rejected %+v", rej)
	}
	// Order is per integration.
	elsewhere := ticket("x", "SEC-1", t0)
	elsewhere.Integration = "other-jira"
	if o := commitOutcome(t, h, elsewhere); o != Committed {
		t.Errorf("same key in another integration: %v", o)
	}
}

func testTicketOrderClaim(t *testing.T, h *harness) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 10, 50, 0, 0, time.UTC)
	done := ticket("done", "SEC-1", t0.Add(9*time.Minute))
	claimOutcome(t, h, done, "a", time.Minute)
	// Until the next handler answered, the order is unchanged: a claim
	// that fails leaves nothing behind.
	if err := h.d.Release(ctx, done, "a"); err != nil {
		t.Fatal(err)
	}
	if o := claimOutcome(t, h, ticket("progress", "SEC-1", t0), "b", time.Minute); o != Claimed {
		t.Fatalf("older change after the newer one failed: %v", o)
	}
	if err := h.d.Finish(ctx, ticket("progress", "SEC-1", t0)); err != nil {
		t.Fatal(err)
	}
	if o := claimOutcome(t, h, done, "c", time.Minute); o != Claimed {
		t.Fatalf("newer change: %v", o)
	}
	if err := h.d.Finish(ctx, done); err != nil {
		t.Fatal(err)
	}
	if o := claimOutcome(t, h, ticket("late", "SEC-1", t0.Add(time.Minute)), "d", time.Minute); o != Stale {
		t.Fatalf("late change after done: %v, want stale", o)
	}
	if mustSeen(t, h, "late") {
		t.Error("stale claim marked its key")
	}
	// The forward-mode commit reads the same order.
	if o := commitOutcome(t, h, ticket("late2", "SEC-1", t0.Add(2*time.Minute))); o != Stale {
		t.Errorf("commit after a gate-mode finish: %v", o)
	}
}
