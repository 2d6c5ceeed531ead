package upstream

import (
	"context"

	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/state"
)

// maxAckBatch is the most delivered events one Done call records.
const maxAckBatch = 128

// acker records delivered events in batches: every event that finished
// while the previous Done call was on the wire goes out in the next one, so
// a busy worker pays one outbox round trip for many events, and an idle
// one records each event at once.
type acker struct {
	w       *Worker
	pending chan state.Pending
	done    chan struct{}
}

// startAcker starts the goroutine that records Done for w; stop ends it
// after everything queued has been recorded.
func (w *Worker) startAcker() *acker {
	a := &acker{w: w, pending: make(chan state.Pending, 2*w.concurrency), done: make(chan struct{})}
	go a.run()
	return a
}

// ack queues one delivered event.
func (a *acker) ack(p state.Pending) { a.pending <- p }

// stop records what is queued and returns once it is recorded. No ack may
// follow it.
func (a *acker) stop() {
	close(a.pending)
	<-a.done
}

func (a *acker) run() {
	defer close(a.done)
	batch := make([]state.Pending, 0, maxAckBatch)
	for p := range a.pending {
		batch = append(batch[:0], p)
	gather:
		for len(batch) < maxAckBatch {
			select {
			case q, ok := <-a.pending:
				if !ok {
					break gather
				}
				batch = append(batch, q)
			default:
				break gather
			}
		}
		a.record(batch)
	}
}

// record marks a batch done on a context of its own: an attempt that
// succeeded is recorded even while the worker shuts down.
func (a *acker) record(batch []state.Pending) {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := a.w.outbox.Done(ctx, batch...); err != nil {
		a.w.storeTrouble("delivered but could not mark done; the events will be delivered again", err,
			zap.Int("events", len(batch)), zap.String("first_event_id", batch[0].Event.ID))
	}
}
