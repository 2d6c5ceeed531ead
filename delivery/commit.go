package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
)

// Policy is what a commit keeps and how much: the app's settings.
type Policy struct {
	// DedupeWindow is how long a committed delivery (and a replay-guarded
	// body) is remembered.
	DedupeWindow time.Duration
	// AuditSize is how many entries each audit list keeps.
	AuditSize int
	// MaxOutbox bounds the outbox; 0: no bound.
	MaxOutbox int
	// MaxAge refuses a webhook whose vendor event time is older (records
	// may override it); 0: no check.
	MaxAge time.Duration
}

// Commit hands a verified delivery's events, audit entry and marks to the
// outbox in one atomic step (forward mode). The outcome says whether it
// did: state.Committed, or Duplicate, Replay, Stale or InFlight with
// nothing handed on. Errors: state.ErrOutboxFull (nothing written; the
// vendor should retry later), state.ErrUnavailable (the store is down), or
// an encoding failure.
func Commit(ctx context.Context, store state.Deliveries, p Policy, v *Verified) (state.Outcome, error) {
	out, err := OutboxEvents(v.Events)
	if err != nil {
		return state.Committed, err
	}
	return store.Commit(ctx, v.accepted(p, out, v.Entry))
}

// CommitPolled commits one event the ticket poller found, through the same
// outbox as webhooks, with its ticket event id as dedupe key: the poll
// overlap, repeated polls and a webhook for the same change never deliver
// it twice, and a change older than one already handed on for its ticket
// is Stale.
func CommitPolled(ctx context.Context, store state.Deliveries, p Policy, rec integrations.Record, ev events.Event, now time.Time) (state.Outcome, error) {
	v := &Verified{
		Record:   rec,
		Delivery: events.Delivery{Vendor: rec.Vendor, Integration: rec.ID, DeliveryKey: TicketDedupeKey(ev.ID)},
		Events:   []events.Event{ev},
		Entry:    PolledEntry(rec, ev, now),
	}
	return Commit(ctx, store, p, v)
}

// accepted is what the store keeps of v: its marks, events and entry.
func (v *Verified) accepted(p Policy, out []state.OutboxEvent, entry state.AuditEntry) state.Accepted {
	return state.Accepted{
		Integration: v.Record.ID,
		DedupeKey:   v.DedupeKey(),
		ReplayKey:   v.ReplayKey,
		ReplayOwner: v.Delivery.DeliveryKey,
		DedupeTTL:   p.DedupeWindow,
		Events:      out,
		Audit:       entry,
		AuditSize:   p.AuditSize,
		MaxOutbox:   p.MaxOutbox,
	}
}

// OutboxEvents encodes events as the finding service receives them, each
// with its place in its ticket's history.
func OutboxEvents(evs []events.Event) ([]state.OutboxEvent, error) {
	out := make([]state.OutboxEvent, len(evs))
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, fmt.Errorf("delivery: encoding event: %w", err)
		}
		out[i] = state.OutboxEvent{ID: evs[i].ID, Body: b, Order: orderOf(&evs[i])}
	}
	return out, nil
}
