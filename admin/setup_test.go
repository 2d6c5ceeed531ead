package admin

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/state"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// TestAwaitDeliveryByHand: for a delivery the operator triggers by hand,
// setup's wait takes the first delivery accepted as new after it started
// and names it; a refused one is reported with its reason; earlier
// entries and copies are not taken.
func TestAwaitDeliveryByHand(t *testing.T) {
	s, _, _, _ := newService(t)
	ctx := context.Background()
	start := time.Now()
	mem := s.Deliveries
	if err := mem.Reject(ctx, "gh", state.AuditEntry{Time: start.Add(-time.Minute), Signature: "invalid", Reason: "signature invalid: old"}, 10); err != nil {
		t.Fatal(err)
	}
	// A copy of an earlier delivery: duplicate, and a replay refused.
	_, _ = mem.Commit(ctx, state.Accepted{Integration: "gh", Audit: state.AuditEntry{Time: start, Delivery: "old", Signature: "valid", Action: "duplicate"}, AuditSize: 10})
	_ = mem.Reject(ctx, "gh", state.AuditEntry{Time: start, Delivery: "copy", Signature: "valid", Action: "replay", Reason: "body already handled under another delivery id"}, 10)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = mem.Commit(ctx, state.Accepted{Integration: "gh", Audit: state.AuditEntry{Time: time.Now(), Event: "push", Delivery: "d-7", Signature: "valid", Action: "forwarded"}, AuditSize: 10})
	}()
	seen := s.awaitDelivery(ctx, "gh", start, 5*time.Second, testDelivery{})
	if !seen.verified || seen.delivery != "d-7" || seen.event != "push" || seen.ignored != 2 {
		t.Fatalf("verified delivery: %+v", seen)
	}
	if err := mem.Reject(ctx, "jira", state.AuditEntry{Time: time.Now(), Delivery: "j-1", Signature: "invalid", Reason: "signature invalid: signature mismatch"}, 10); err != nil {
		t.Fatal(err)
	}
	if seen := s.awaitDelivery(ctx, "jira", start, 5*time.Second, testDelivery{}); seen.verified || !seen.found || seen.delivery != "j-1" ||
		seen.problem != "delivery seen but signature invalid: signature mismatch" {
		t.Fatalf("refused delivery: %+v", seen)
	}
	if seen := s.awaitDelivery(ctx, "quiet", time.Now(), 300*time.Millisecond, testDelivery{}); seen.found || seen.problem != "" {
		t.Fatalf("nothing seen: %+v", seen)
	}
}

// TestTestDeliveryFind: a test delivery named by its hook (a GitHub ping)
// or by its delivery ids (GitLab) is the only one taken; someone else's
// verified delivery, a copy of the test delivery itself, and entries from
// before the start are ignored, and a refused test delivery is reported
// with its reason.
func TestTestDeliveryFind(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	at := start.Add(time.Second)
	ping := testDelivery(vendorapi.TestDelivery{Sent: true, Event: "ping", Hook: "101"})
	gitlab := testDelivery(vendorapi.TestDelivery{Sent: true, Deliveries: []string{"idem-1", "uuid-1"}})
	foreignPush := state.AuditEntry{Time: at, Event: "push", Delivery: "p-1", Signature: "valid", Action: "forwarded"}
	otherHookPing := state.AuditEntry{Time: at, Event: "ping", Delivery: "p-2", Hook: "7", Signature: "valid", Action: "forwarded"}
	pushNamingHook := state.AuditEntry{Time: at, Event: "push", Delivery: "p-3", Hook: "101", Signature: "valid", Action: "forwarded"}
	replayedPing := state.AuditEntry{Time: at, Event: "ping", Delivery: "p-4", Hook: "101", Signature: "valid", Action: "replay", Reason: "body already handled under another delivery id"}
	duplicatePing := state.AuditEntry{Time: at, Event: "ping", Delivery: "p-5", Hook: "101", Signature: "valid", Action: "duplicate"}
	earlyPing := state.AuditEntry{Time: start.Add(-time.Second), Event: "ping", Delivery: "p-0", Hook: "101", Signature: "valid", Action: "forwarded"}
	ourPing := state.AuditEntry{Time: at, Event: "ping", Delivery: "ping-ok", Hook: "101", Signature: "valid", Action: "forwarded"}
	badPing := state.AuditEntry{Time: at, Event: "ping", Delivery: "ping-bad", Hook: "101", Signature: "invalid", Action: "rejected", Reason: "signature invalid: signature mismatch"}
	wrongTarget := state.AuditEntry{Time: at, Event: "ping", Delivery: "ping-wt", Hook: "101", Signature: "valid", Action: "rejected", Reason: "wrong target"}
	glTest := state.AuditEntry{Time: at, Event: "Push Hook", Delivery: "uuid-1", Signature: "valid", Action: "forwarded"}
	glPush := state.AuditEntry{Time: at, Event: "Push Hook", Delivery: "idem-9", Signature: "valid", Action: "forwarded"}
	for _, c := range []struct {
		name               string
		want               testDelivery
		accepted, rejected []state.AuditEntry
		found, verified    bool
		delivery, problem  string
		ignored            int
	}{
		{"foreign deliveries only", ping, []state.AuditEntry{foreignPush, otherHookPing, pushNamingHook, duplicatePing, earlyPing}, []state.AuditEntry{replayedPing}, false, false, "", "", 5},
		{"the ping among them", ping, []state.AuditEntry{foreignPush, ourPing, duplicatePing}, []state.AuditEntry{replayedPing}, true, true, "ping-ok", "", 3},
		{"ping with a bad signature", ping, []state.AuditEntry{foreignPush}, []state.AuditEntry{badPing}, true, false, "ping-bad", "delivery seen but signature invalid: signature mismatch", 1},
		{"ping refused for its target", ping, nil, []state.AuditEntry{wrongTarget}, true, false, "ping-wt", "delivery seen but refused: wrong target", 0},
		{"verified wins over refused", ping, []state.AuditEntry{ourPing}, []state.AuditEntry{badPing}, true, true, "ping-ok", "", 0},
		{"gitlab test by its id", gitlab, []state.AuditEntry{glPush, glTest}, nil, true, true, "uuid-1", "", 1},
		{"gitlab push that is not the test", gitlab, []state.AuditEntry{glPush, foreignPush}, nil, false, false, "", "", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.want.find(c.accepted, c.rejected, start)
			if got.found != c.found || got.verified != c.verified || got.delivery != c.delivery || got.problem != c.problem || got.ignored != c.ignored {
				t.Fatalf("find = %+v, want found %v verified %v delivery %q problem %q ignored %d", got, c.found, c.verified, c.delivery, c.problem, c.ignored)
			}
		})
	}
}
