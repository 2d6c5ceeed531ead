package upstream

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/state"
)

// countingDeliverer succeeds at once and counts its attempts.
type countingDeliverer struct{ n atomic.Int64 }

func (d *countingDeliverer) Deliver(context.Context, state.OutboxEvent) error {
	d.n.Add(1)
	return nil
}

// TestWorkerAcksInBatches holds the first Done call until every event was
// delivered: the events that finished meanwhile must be recorded together
// in few calls, each exactly once. (While Done is held, a worker of
// concurrency 4 can finish 1 + 2×4 + 4 events before it stops taking more.)
func TestWorkerAcksInBatches(t *testing.T) {
	const events = 12
	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	gate := make(chan struct{})
	ob.doneGate = gate
	for i := range events {
		ob.add(t, state.OutboxEvent{ID: fmt.Sprintf("ev-%d", i)})
	}
	d := &countingDeliverer{}
	startWorker(t, WorkerConfig{Outbox: ob, Client: d, Now: clock.Now, Concurrency: 4})

	waitFor(t, "every event attempted", func() bool { return d.n.Load() == events })
	close(gate)
	waitFor(t, "every event done", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.done) })
		return n == events
	})
	ob.snapshot(func(f *memOutbox) {
		seen := map[string]int{}
		for _, p := range f.done {
			seen[p.Event.ID]++
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s marked done %d times", id, n)
			}
		}
		if len(seen) != events || f.length(t) != 0 {
			t.Errorf("done %d distinct, %d left in the outbox", len(seen), f.length(t))
		}
		// The first call carries one event; the rest finished while it
		// was held and share one call, or two if the last finished late.
		if len(f.doneBatches) > 3 {
			t.Errorf("%d Done calls for %d events (sizes %v): not batched", len(f.doneBatches), events, f.doneBatches)
		}
	})
}

// TestWorkerRecordsAcksAtShutdown cancels the worker while delivered events
// wait for their Done call: Run must not return before they are recorded.
func TestWorkerRecordsAcksAtShutdown(t *testing.T) {
	const events = 10
	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	gate := make(chan struct{})
	ob.doneGate = gate
	for i := range events {
		ob.add(t, state.OutboxEvent{ID: fmt.Sprintf("ev-%d", i)})
	}
	d := &countingDeliverer{}
	stop := startWorker(t, WorkerConfig{Outbox: ob, Client: d, Now: clock.Now, Concurrency: 4})
	waitFor(t, "every event attempted", func() bool { return d.n.Load() == events })

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	close(gate)
	<-stopped
	ob.snapshot(func(f *memOutbox) {
		if len(f.done) != events {
			t.Errorf("Run returned with %d of %d delivered events recorded", len(f.done), events)
		}
	})
}

// slowDeliverer succeeds after a millisecond, like a nearby finding service.
type slowDeliverer struct{ n atomic.Int64 }

func (d *slowDeliverer) Deliver(context.Context, state.OutboxEvent) error {
	time.Sleep(time.Millisecond)
	d.n.Add(1)
	return nil
}

// TestBusyWorkerReadsInBatches: while the outbox is full, the worker waits
// for half its slots before reading again, so it reads several events per
// outbox call rather than one per finished delivery.
func TestBusyWorkerReadsInBatches(t *testing.T) {
	const events = 400
	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	for i := range events {
		ob.add(t, state.OutboxEvent{ID: fmt.Sprintf("ev-%d", i)})
	}
	d := &slowDeliverer{}
	startWorker(t, WorkerConfig{Outbox: ob, Client: d, Now: clock.Now, Concurrency: 8})
	waitFor(t, "every event delivered", func() bool { return d.n.Load() == events })
	ob.snapshot(func(f *memOutbox) {
		// One read per finished delivery would be about 400 reads; half
		// the slots per read is about 100.
		if f.nextCalls > events/2 {
			t.Errorf("%d outbox reads for %d events: the busy worker reads one event at a time", f.nextCalls, events)
		}
		t.Logf("%d outbox reads for %d events", f.nextCalls, events)
	})
}
