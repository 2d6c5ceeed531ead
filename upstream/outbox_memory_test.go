package upstream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/state"
)

// memOutbox is the worker tests' outbox: a state.Memory on the test's
// clock, which does every outbox operation, wrapped to record the worker's
// calls and to make them fail on demand.
type memOutbox struct {
	*state.Memory
	clock func() time.Time

	mu sync.Mutex
	// fail makes Next, Done, Retry and Dead fail as an unreachable store
	// does, without reaching the Memory.
	fail bool
	// nextCalls counts Next calls; maxAsked is the most events one asked for.
	nextCalls int
	maxAsked  int
	// done lists the events of every Done call that succeeded, in order;
	// doneBatches holds the size of every Done call.
	done        []state.Pending
	doneBatches []int
	// retries lists the Retry calls that succeeded, in order.
	retries []retryRecord
	// doneGate, when set, is received from before each Done call records
	// or does anything.
	doneGate chan struct{}
}

type retryRecord struct {
	p       state.Pending
	at      time.Time
	lastErr string
	// now is the outbox clock when Retry was called.
	now time.Time
}

var _ state.Outbox = (*memOutbox)(nil)

func newMemOutbox(clock func() time.Time) *memOutbox {
	return &memOutbox{Memory: state.NewMemory(state.MemoryOptions{Now: clock}), clock: clock}
}

// add queues events as the handler does: one accepted delivery, committed.
func (o *memOutbox) add(t *testing.T, events ...state.OutboxEvent) {
	t.Helper()
	dup, err := o.Commit(context.Background(), state.Accepted{
		Integration: "test", Events: events, Audit: state.AuditEntry{Action: "accepted"}, AuditSize: 1,
	})
	if err != nil || dup != state.Committed {
		t.Fatalf("Commit: duplicate %v, %v", dup, err)
	}
}

func (o *memOutbox) setFail(fail bool) {
	o.mu.Lock()
	o.fail = fail
	o.mu.Unlock()
}

func (o *memOutbox) failing() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fail
}

// snapshot runs fn under the lock on the records.
func (o *memOutbox) snapshot(fn func(o *memOutbox)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fn(o)
}

// deadLetters lists the Memory's dead letters, oldest first.
func (o *memOutbox) deadLetters(t *testing.T) []state.DeadLetter {
	t.Helper()
	dead, err := o.DeadLetters(context.Background(), 0)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	return dead
}

// length is the Memory's outbox length: queued, handed out and waiting to
// retry.
func (o *memOutbox) length(t *testing.T) int {
	t.Helper()
	n, _, err := o.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return n
}

func (o *memOutbox) Next(ctx context.Context, consumer string, n int, block, reclaimAfter time.Duration) ([]state.Pending, error) {
	o.mu.Lock()
	o.nextCalls++
	o.maxAsked = max(o.maxAsked, n)
	fail := o.fail
	o.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("%w: connection refused", state.ErrUnavailable)
	}
	return o.Memory.Next(ctx, consumer, n, block, reclaimAfter)
}

func (o *memOutbox) Done(ctx context.Context, ps ...state.Pending) error {
	o.mu.Lock()
	gate := o.doneGate
	o.mu.Unlock()
	if gate != nil {
		<-gate
	}
	o.mu.Lock()
	o.doneBatches = append(o.doneBatches, len(ps))
	fail := o.fail
	o.mu.Unlock()
	if fail {
		return state.ErrUnavailable
	}
	if err := o.Memory.Done(ctx, ps...); err != nil {
		return err
	}
	o.mu.Lock()
	o.done = append(o.done, ps...) // copies: the caller may reuse ps
	o.mu.Unlock()
	return nil
}

func (o *memOutbox) Retry(ctx context.Context, p state.Pending, at time.Time, lastErr string) error {
	if o.failing() {
		return state.ErrUnavailable
	}
	now := o.clock()
	if err := o.Memory.Retry(ctx, p, at, lastErr); err != nil {
		return err
	}
	o.mu.Lock()
	o.retries = append(o.retries, retryRecord{p: p, at: at, lastErr: lastErr, now: now})
	o.mu.Unlock()
	return nil
}

func (o *memOutbox) Dead(ctx context.Context, p state.Pending, lastErr string, at time.Time) error {
	if o.failing() {
		return state.ErrUnavailable
	}
	return o.Memory.Dead(ctx, p, lastErr, at)
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// waitFor polls cond until it holds; the long limit only guards against a
// hung test, it asserts nothing about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
