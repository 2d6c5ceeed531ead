package delivery

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
	"github.com/hookgate/caddy-hookgate/verifiers"
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
	// ReplayKey is the body's key for a scheme whose MAC covers the body
	// but not the delivery id (verifiers.SignsBodyOnly): the same body
	// under another delivery id, or none, is a replay. Empty otherwise.
	ReplayKey string
	// Facts are what the signed body states about the delivery.
	Facts events.Facts
}

// ErrTooOld is Prepare's answer to a delivery whose vendor event time is
// older than the integration's max_age: a replay no dedupe mark
// remembers any more.
var ErrTooOld = errors.New("event older than max_age")

// ErrWrongTarget is Prepare's answer to a delivery whose body names a
// repository or project other than the integration's target, or none.
var ErrWrongTarget = errors.New("wrong target")

// Prepare normalizes and orchestrates a verified delivery and checks what
// its signed body states against the integration: the vendor's event time
// against max_age (p.MaxAge unless the record overrides it), the
// repository or project against the record's target. Errors:
// events.ErrMalformed (the body is not what the vendor's event needs),
// ErrTooOld, ErrWrongTarget; RefusedEntry audits each.
func Prepare(rec integrations.Record, d events.Delivery, p Policy) (*Verified, error) {
	n, err := events.NormalizeDelivery(d)
	if err != nil {
		return nil, err
	}
	if maxAge := rec.EffectiveMaxAge(p.MaxAge); maxAge > 0 && !n.Facts.EventTime.IsZero() && d.ReceivedAt.Sub(n.Facts.EventTime) > maxAge {
		return nil, ErrTooOld
	}
	if rec.BindsTarget() && !namesTarget(n.Facts.Targets, rec.Target) && (len(n.Facts.Targets) > 0 || !n.Ignored) {
		return nil, ErrWrongTarget
	}
	v := &Verified{Record: rec, Delivery: d, Facts: n.Facts}
	if d.Signature == "valid" && verifiers.SignsBodyOnly(rec.Vendor, rec.EffectiveScheme()) {
		v.ReplayKey = events.DeliveryKey(rec.ID, "", d.Body)
	}
	if n.Ignored {
		v.Action = "ignored"
		v.Entry = AuditEntry(d, nil, "ignored", n.Reason)
		v.Entry.Hook = n.Facts.Hook
		v.PrimaryID = events.EventID(d.DeliveryKey)
		return v, nil
	}
	v.Events, v.Action = events.Orchestrate(rec, n.Events)
	var primary *events.Event
	if len(n.Events) > 0 {
		primary = &n.Events[0]
		v.PrimaryID = n.Events[0].ID
	} else {
		v.PrimaryID = events.EventID(d.DeliveryKey)
	}
	v.Entry = AuditEntry(d, primary, v.Action, "")
	v.Entry.Hook = n.Facts.Hook
	return v, nil
}

// namesTarget reports whether the body's names include target (a body may
// give several spellings of one project: GitLab's path and id, Azure
// DevOps's ids and name). Names of repositories and projects are
// case-insensitive at every vendor that binds targets. A delivery that
// names another target is refused; one that names none is refused unless
// it is ignored (a GitHub star, a GitLab note: nothing was read from its
// body, and nothing moves).
func namesTarget(names []string, target string) bool {
	for _, n := range names {
		if strings.EqualFold(n, target) {
			return true
		}
	}
	return false
}

// RefusedEntry is the rejected-list audit entry of a verified delivery
// that Prepare refused with err; like every refused delivery's, its hook
// is the one its headers name.
func RefusedEntry(d events.Delivery, err error) state.AuditEntry {
	var e state.AuditEntry
	switch {
	case errors.Is(err, ErrTooOld):
		e = AuditEntry(d, nil, "stale", ErrTooOld.Error())
	case errors.Is(err, ErrWrongTarget):
		e = AuditEntry(d, nil, "rejected", ErrWrongTarget.Error())
	default:
		e = AuditEntry(d, nil, "rejected", malformedReason(err))
	}
	e.Hook = d.Identity.Hook
	return e
}

// malformedReason is the audited reason of a malformed body: "malformed
// body: " and the fixed phrase the normalizer chose.
func malformedReason(err error) string {
	what := strings.TrimPrefix(err.Error(), events.ErrMalformed.Error())
	what = strings.TrimPrefix(what, ": ")
	if what == "" {
		return "malformed body"
	}
	return fmt.Sprintf("malformed body: %s", what)
}

// DedupeKey is what marks the delivery handled: its delivery key, except
// for a ticket delivery, which is deduplicated by its ticket event's id
// (that id depends only on the integration, ticket, new status and the
// vendor's change time, so the webhook and the poller's sighting of one
// change collapse into one).
func (v *Verified) DedupeKey() string {
	if !v.Delivery.Vendor.IsCI() && len(v.Events) > 0 && v.Events[0].Ticket != nil {
		return TicketDedupeKey(v.Events[0].ID)
	}
	return v.Delivery.DeliveryKey
}

// TicketDedupeKey is the dedupe key of one ticket event.
func TicketDedupeKey(eventID string) string { return "ticket:" + eventID }

// orderOf places a ticket status change in its ticket's history; other
// events are not ordered.
func orderOf(ev *events.Event) state.Order {
	if ev.Type != events.TypeTicketStatus || ev.Ticket == nil || ev.Ticket.Key == "" {
		return state.Order{}
	}
	return state.Order{Ticket: ev.Ticket.Key, At: ev.OccurredAt}
}
