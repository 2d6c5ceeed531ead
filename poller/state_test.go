package poller_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/poller"
)

// testState checks a State: leases with fencing, expiry, a cursor that only
// moves forward under the lease, ticket memory and results. expire makes
// every lease taken with ttl run out.
func testState(t *testing.T, st poller.State, ttl time.Duration, expire func()) {
	ctx := context.Background()
	a, err := st.Acquire(ctx, "it-1", "a", ttl)
	if err != nil || a.Token < 1 || a.Holder != "a" {
		t.Fatalf("Acquire: %+v %v", a, err)
	}
	if _, err := st.Acquire(ctx, "it-1", "b", ttl); !errors.Is(err, poller.ErrLeaseHeld) {
		t.Fatalf("second Acquire: %v, want ErrLeaseHeld", err)
	}
	if _, err := st.Acquire(ctx, "it-2", "b", ttl); err != nil {
		t.Fatalf("other integration: %v", err)
	}
	if err := st.Renew(ctx, a, ttl); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if c, err := st.Cursor(ctx, "it-1"); err != nil || !c.IsZero() {
		t.Fatalf("fresh cursor %v %v", c, err)
	}
	t1 := time.Date(2025, 3, 4, 14, 0, 0, 0, time.UTC)
	if err := st.Advance(ctx, a, t1); err != nil {
		t.Fatal(err)
	}
	if err := st.Advance(ctx, a, t1.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Cursor(ctx, "it-1"); !c.Equal(t1) {
		t.Fatalf("cursor %v, want %v (never backwards)", c, t1)
	}
	if err := st.Remember(ctx, a, map[string]string{"INC1": "6", "INC2": "2"}); err != nil {
		t.Fatal(err)
	}
	seen, err := st.Seen(ctx, "it-1", []string{"INC1", "INC3"})
	if err != nil || len(seen) != 1 || seen["INC1"] != "6" {
		t.Fatalf("Seen: %v %v", seen, err)
	}
	if err := st.Record(ctx, "it-1", poller.Result{At: t1, Events: 3}); err != nil {
		t.Fatal(err)
	}
	if err := st.Record(ctx, "it-1", poller.Result{At: t1.Add(time.Minute), Err: "HTTP 500"}); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "it-1")
	if err != nil || !s.Cursor.Equal(t1) || !s.LastSuccess.Equal(t1) || s.LastEvents != 3 ||
		s.LastError != "HTTP 500" || !s.LastErrorAt.Equal(t1.Add(time.Minute)) || s.LeaseHolder != "a" || s.LeaseToken != a.Token {
		t.Fatalf("Status: %+v %v", s, err)
	}

	// The holder crashes: its lease expires, b takes over with a larger
	// token, and a's stale lease writes nothing.
	expire()
	b, err := st.Acquire(ctx, "it-1", "b", ttl)
	if err != nil || b.Token <= a.Token {
		t.Fatalf("takeover: %+v %v (old token %d)", b, err, a.Token)
	}
	if err := st.Renew(ctx, a, ttl); !errors.Is(err, poller.ErrLeaseLost) {
		t.Errorf("stale Renew: %v", err)
	}
	if err := st.Advance(ctx, a, t1.Add(time.Hour)); !errors.Is(err, poller.ErrLeaseLost) {
		t.Errorf("stale Advance: %v", err)
	}
	if err := st.Remember(ctx, a, map[string]string{"INC1": "7"}); !errors.Is(err, poller.ErrLeaseLost) {
		t.Errorf("stale Remember: %v", err)
	}
	if err := st.Release(ctx, a); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.Status(ctx, "it-1"); s.LeaseHolder != "b" || !s.Cursor.Equal(t1) {
		t.Errorf("stale release freed b's lease or moved the cursor: %+v", s)
	}
	if err := st.Release(ctx, b); err != nil {
		t.Fatal(err)
	}
	c, err := st.Acquire(ctx, "it-1", "a", ttl)
	if err != nil || c.Token <= b.Token {
		t.Errorf("after release: %+v %v", c, err)
	}
	if s, _ := st.Status(ctx, "unknown"); s != (poller.Stored{}) {
		t.Errorf("unknown integration: %+v", s)
	}
}

func TestMemoryState(t *testing.T) {
	clock := &testClock{t: t0}
	testState(t, poller.NewMemoryState(clock.Now), time.Minute, func() { clock.Advance(time.Minute) })
}

func TestRedisState(t *testing.T) {
	st, c, prefix := newTestRedisState(t)
	testState(t, st, 150*time.Millisecond, func() { time.Sleep(200 * time.Millisecond) })
	// Every key is under the prefix and the {hg} hash tag.
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys {
		if len(k) < len(prefix)+10 || k[len(prefix):len(prefix)+10] != "{hg}:poll:" {
			t.Errorf("key %q outside %s{hg}:poll:", k, prefix)
		}
	}
}
