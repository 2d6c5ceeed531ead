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
	// DedupeWindow is how long a committed delivery is remembered.
	DedupeWindow time.Duration
	// AuditSize is how many entries each audit list keeps.
	AuditSize int
	// MaxOutbox bounds the outbox; 0: no bound.
	MaxOutbox int
}

// Commit hands a verified delivery's events, audit entry and dedupe mark
// to the outbox in one atomic step. duplicate reports a delivery already
// committed (nothing but a "duplicate" audit entry was written). Errors:
// state.ErrOutboxFull (nothing written; the vendor should retry later),
// state.ErrUnavailable (the store is down), or an encoding failure.
func Commit(ctx context.Context, store state.Deliveries, p Policy, v *Verified) (duplicate bool, err error) {
	out, err := OutboxEvents(v.Events)
	if err != nil {
		return false, err
	}
	return store.Commit(ctx, state.Accepted{
		Integration: v.Record.ID,
		DedupeKey:   v.DedupeKey(),
		DedupeTTL:   p.DedupeWindow,
		Events:      out,
		Audit:       v.Entry,
		AuditSize:   p.AuditSize,
		MaxOutbox:   p.MaxOutbox,
	})
}

// CommitPolled commits one event the ticket poller found, through the same
// outbox as webhooks, with its ticket event id as dedupe key: the poll
// overlap, repeated polls and a webhook for the same change never deliver
// it twice.
func CommitPolled(ctx context.Context, store state.Deliveries, p Policy, rec integrations.Record, ev events.Event, now time.Time) (duplicate bool, err error) {
	v := &Verified{
		Record:   rec,
		Delivery: events.Delivery{Vendor: rec.Vendor, Integration: rec.ID, DeliveryKey: TicketDedupeKey(ev.ID)},
		Events:   []events.Event{ev},
		Entry:    PolledEntry(rec, ev, now),
	}
	return Commit(ctx, store, p, v)
}

// OutboxEvents encodes events as the finding service receives them.
func OutboxEvents(evs []events.Event) ([]state.OutboxEvent, error) {
	out := make([]state.OutboxEvent, len(evs))
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, fmt.Errorf("delivery: encoding event: %w", err)
		}
		out[i] = state.OutboxEvent{ID: evs[i].ID, Body: b}
	}
	return out, nil
}
