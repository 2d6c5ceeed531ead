package upstream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/state"
)

// fakeOutbox is an in-memory state.Outbox with simple semantics: events
// are handed out in order when due and not claimed (or claimed longer than
// reclaimAfter ago, by the real clock); Retry makes an event due at at by
// the test clock (or at once when ignoreDue is set).
type fakeOutbox struct {
	clock     func() time.Time
	ignoreDue bool

	mu        sync.Mutex
	seq       int
	entries   []*fakeEntry
	done      []state.Pending
	retries   []retryCall
	dead      []state.DeadLetter
	fail      bool
	nextCalls int
	maxAsked  int
	// doneBatches holds the size of every Done call; doneGate, when set,
	// is received from before each Done call records anything.
	doneBatches []int
	doneGate    chan struct{}
}

type fakeEntry struct {
	p       state.Pending
	due     time.Time
	owner   string
	claimed time.Time
}

type retryCall struct {
	p       state.Pending
	at      time.Time
	lastErr string
}

var _ state.Outbox = (*fakeOutbox)(nil)

func newFakeOutbox(clock func() time.Time) *fakeOutbox {
	return &fakeOutbox{clock: clock}
}

// add queues events due now.
func (f *fakeOutbox) add(events ...state.OutboxEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range events {
		f.seq++
		f.entries = append(f.entries, &fakeEntry{p: state.Pending{StreamID: fmt.Sprintf("%d-0", f.seq), Event: ev}})
	}
}

func (f *fakeOutbox) setFail(fail bool) {
	f.mu.Lock()
	f.fail = fail
	f.mu.Unlock()
}

// snapshot runs fn under the lock.
func (f *fakeOutbox) snapshot(fn func(f *fakeOutbox)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeOutbox) Next(ctx context.Context, consumer string, n int, block, reclaimAfter time.Duration) ([]state.Pending, error) {
	deadline := time.Now().Add(block)
	for {
		if out, err := f.take(consumer, n, reclaimAfter); err != nil || len(out) > 0 {
			return out, err
		}
		if !time.Now().Before(deadline) {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (f *fakeOutbox) take(consumer string, n int, reclaimAfter time.Duration) ([]state.Pending, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextCalls++
	f.maxAsked = max(f.maxAsked, n)
	if f.fail {
		return nil, fmt.Errorf("%w: connection refused", state.ErrUnavailable)
	}
	var out []state.Pending
	for _, e := range f.entries {
		if len(out) == n {
			break
		}
		if e.owner != "" && time.Since(e.claimed) < reclaimAfter {
			continue
		}
		if !f.ignoreDue && !e.due.IsZero() && e.due.After(f.clock()) {
			continue
		}
		e.owner, e.claimed = consumer, time.Now()
		out = append(out, e.p)
	}
	return out, nil
}

// remove drops the entry for p and reports whether it was there.
func (f *fakeOutbox) remove(p state.Pending) *fakeEntry {
	for i, e := range f.entries {
		if e.p.StreamID == p.StreamID {
			f.entries = append(f.entries[:i], f.entries[i+1:]...)
			return e
		}
	}
	return nil
}

func (f *fakeOutbox) Done(_ context.Context, ps ...state.Pending) error {
	f.mu.Lock()
	gate := f.doneGate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	f.doneBatches = append(f.doneBatches, len(ps))
	defer f.mu.Unlock()
	if f.fail {
		return state.ErrUnavailable
	}
	for _, p := range ps {
		f.remove(p)
		f.done = append(f.done, p)
	}
	return nil
}

func (f *fakeOutbox) Retry(_ context.Context, p state.Pending, at time.Time, lastErr string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return state.ErrUnavailable
	}
	f.retries = append(f.retries, retryCall{p: p, at: at, lastErr: lastErr})
	for _, e := range f.entries {
		if e.p.StreamID == p.StreamID {
			e.p.Attempts++
			e.p.LastError = lastErr
			e.due, e.owner = at, ""
		}
	}
	return nil
}

func (f *fakeOutbox) Dead(_ context.Context, p state.Pending, lastErr string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return state.ErrUnavailable
	}
	f.remove(p)
	f.dead = append(f.dead, state.DeadLetter{
		ID: p.Event.ID, Event: p.Event.Body, Attempts: p.Attempts + 1, LastError: lastErr, FailedAt: at,
	})
	return nil
}

func (f *fakeOutbox) DeadLetters(context.Context, int) ([]state.DeadLetter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]state.DeadLetter(nil), f.dead...), nil
}

func (f *fakeOutbox) Redrive(context.Context, []string) (int, error) { return 0, nil }

func (f *fakeOutbox) Stats(context.Context) (int, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.entries), 0, nil
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
