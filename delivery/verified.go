package delivery

import (
	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
)

// Verified is a delivery whose credential checked out (or that its
// integration lets in unsigned), normalized and orchestrated: what it
// will move, on its way to the outbox or the next handler.
type Verified struct {
	Record   integrations.Record
	Delivery events.Delivery
	// Events are what the finding service gets, in order; none for an
	// ignored delivery.
	Events []events.Event
	// Action is what was done, as audited: e.g. "scan:sast,sca,runbook",
	// or "ignored".
	Action string
	// Entry is the accepted audit entry.
	Entry state.AuditEntry
	// PrimaryID is the X-Hookgate-Event-Id annotation: the first event's
	// id, or the delivery's own for an ignored one.
	PrimaryID string
}

// Prepare normalizes and orchestrates a verified delivery. A body that is
// not what the vendor's event needs is events.ErrMalformed; nothing else
// fails.
func Prepare(rec integrations.Record, d events.Delivery) (*Verified, error) {
	evs, ignored, reason, err := events.Normalize(d)
	if err != nil {
		return nil, err
	}
	v := &Verified{Record: rec, Delivery: d}
	if ignored {
		v.Action = "ignored"
		v.Entry = AuditEntry(d, nil, "ignored", reason)
		v.PrimaryID = events.EventID(d.DeliveryKey)
		return v, nil
	}
	v.Events, v.Action = events.Orchestrate(rec, evs)
	var primary *events.Event
	if len(evs) > 0 {
		primary = &evs[0]
		v.PrimaryID = evs[0].ID
	} else {
		v.PrimaryID = events.EventID(d.DeliveryKey)
	}
	v.Entry = AuditEntry(d, primary, v.Action, "")
	return v, nil
}

// DedupeKey is what marks the delivery handled: its delivery key, except
// for a ticket delivery, which is deduplicated by its ticket event's id.
// That id depends only on the integration, ticket, new status and the
// vendor's change time, so the webhook and the poller's sighting of one
// change collapse into one.
func (v *Verified) DedupeKey() string {
	if !v.Delivery.Vendor.IsCI() && len(v.Events) > 0 && v.Events[0].Ticket != nil {
		return TicketDedupeKey(v.Events[0].ID)
	}
	return v.Delivery.DeliveryKey
}

// TicketDedupeKey is the dedupe key of one ticket event.
func TicketDedupeKey(eventID string) string { return "ticket:" + eventID }
