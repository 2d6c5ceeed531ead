package delivery

import (
	"net/http"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
)

// AuditEntry is the audit entry of a delivery, with the CI or ticket
// fields of its primary event when there is one.
func AuditEntry(d events.Delivery, primary *events.Event, action, reason string) state.AuditEntry {
	e := state.AuditEntry{
		Time:      d.ReceivedAt.UTC(),
		Vendor:    string(d.Vendor),
		Event:     d.Identity.Event,
		Delivery:  d.Identity.Delivery,
		Action:    action,
		Signature: d.Signature,
		Reason:    reason,
	}
	if primary != nil {
		e.EventID = primary.ID
		if ci := primary.CI; ci != nil {
			e.Repository, e.Branch, e.Commit, e.PullRequest = ci.Repository, ci.Branch, ci.Commit, ci.PullRequest
		}
		if t := primary.Ticket; t != nil {
			e.Repository = t.Key
		}
	}
	return e
}

// RejectedEntry is the audit entry of a refused delivery of a known
// integration, from its headers only: its body is unverified.
func RejectedEntry(rec integrations.Record, h http.Header, signature, reason string, now time.Time) state.AuditEntry {
	ident := events.Identify(rec.Vendor, rec.EffectiveScheme(), h, nil)
	return state.AuditEntry{
		Time:      now.UTC(),
		Vendor:    string(rec.Vendor),
		Event:     ident.Event,
		Delivery:  ident.Delivery,
		Hook:      ident.Hook,
		Action:    "rejected",
		Signature: signature,
		Reason:    reason,
	}
}

// PolledEntry is the audit entry of one event the ticket poller found.
func PolledEntry(rec integrations.Record, ev events.Event, now time.Time) state.AuditEntry {
	e := state.AuditEntry{
		Time:      now.UTC(),
		Vendor:    string(rec.Vendor),
		Event:     ev.Source.Event,
		EventID:   ev.ID,
		Action:    "forwarded,poll",
		Signature: "valid",
	}
	if t := ev.Ticket; t != nil {
		e.Repository = t.Key
	}
	return e
}
