package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
)

// headerDuplicate marks the answer to a delivery already handled.
const headerDuplicate = "X-Hookgate-Duplicate"

var bodyDuplicate = []byte(`{"duplicate":true}`)

// verifiedDelivery is a delivery that passed verification, on its way to
// the outbox or the next handler.
type verifiedDelivery struct {
	rec       integrations.Record
	delivery  events.Delivery
	events    []events.Event
	action    string
	entry     state.AuditEntry
	primaryID string
}

// prepare normalizes and orchestrates a verified delivery. A body that is
// not what the vendor's event needs is ErrMalformed.
func prepare(rec integrations.Record, d events.Delivery) (*verifiedDelivery, error) {
	evs, ignored, reason, err := events.Normalize(d)
	if err != nil {
		return nil, err
	}
	v := &verifiedDelivery{rec: rec, delivery: d}
	if ignored {
		v.action = "ignored"
		v.entry = auditEntryOf(d, nil, "ignored", reason)
		v.primaryID = events.EventID(d.DeliveryKey)
		return v, nil
	}
	v.events, v.action = events.Orchestrate(rec, evs)
	var primary *events.Event
	if len(evs) > 0 {
		primary = &evs[0]
		v.primaryID = evs[0].ID
	} else {
		v.primaryID = events.EventID(d.DeliveryKey)
	}
	v.entry = auditEntryOf(d, primary, v.action, "")
	return v, nil
}

// auditEntryOf is the audit entry of a delivery, with the CI or ticket
// fields of its primary event.
func auditEntryOf(d events.Delivery, primary *events.Event, action, reason string) state.AuditEntry {
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

// outboxEvents encodes events as the finding service receives them.
func outboxEvents(evs []events.Event) ([]state.OutboxEvent, error) {
	out := make([]state.OutboxEvent, len(evs))
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, err
		}
		out[i] = state.OutboxEvent{ID: evs[i].ID, Body: b}
	}
	return out, nil
}

// commit hands a verified delivery on durably: its events, audit entry and
// dedupe mark in one round trip. It answers the caller itself when the
// delivery is a duplicate or the store is down, and reports whether it did.
func (h *Handler) commit(ctx context.Context, w http.ResponseWriter, repl *caddy.Replacer, v *verifiedDelivery) (answered bool, err error) {
	out, err := outboxEvents(v.events)
	if err != nil {
		return true, h.refuse(w, repl, http.StatusInternalServerError, "encoding events failed", v.delivery.Vendor, v.rec.ID)
	}
	dup, err := h.app.state.deliveries.Commit(ctx, state.Accepted{
		Integration: v.rec.ID,
		DedupeKey:   dedupeKey(v),
		DedupeTTL:   time.Duration(h.app.DedupeWindow),
		Events:      out,
		Audit:       v.entry,
		AuditSize:   h.app.AuditSize,
		MaxOutbox:   h.app.MaxOutbox,
	})
	switch {
	case errors.Is(err, state.ErrOutboxFull):
		if h.app.outboxFullLog.allow(time.Now()) {
			h.logger.Warn("outbox full (max_outbox): refusing verified deliveries with 503 until the finding service catches up; vendors retry",
				zap.Int("max_outbox", h.app.MaxOutbox))
		}
		w.Header().Set("Retry-After", "60")
		return true, h.refuseAs(w, repl, http.StatusServiceUnavailable, resultOutboxFull, "outbox full (max_outbox)", v.delivery.Vendor, v.rec.ID)
	case err != nil:
		h.logger.Error("storing a verified delivery failed; answering 503 so the vendor retries",
			zap.String("integration", v.rec.ID), zap.Error(err))
		return true, h.refuse(w, repl, http.StatusServiceUnavailable, "state store unavailable", v.delivery.Vendor, v.rec.ID)
	case dup:
		h.app.metrics.dedupeHit(v.delivery.Vendor)
		h.app.metrics.delivery(v.delivery.Vendor, resultDuplicate)
		return true, writeDuplicate(w)
	}
	h.app.metrics.delivery(v.delivery.Vendor, resultAccepted)
	return false, nil
}

// dedupeKey is the delivery key, except for a ticket delivery, which is
// deduplicated by its ticket event's id: that id depends only on the
// integration, ticket, new status and the vendor's change time, so the
// webhook and the poller's sighting of one change collapse into one.
func dedupeKey(v *verifiedDelivery) string {
	if !v.delivery.Vendor.IsCI() && len(v.events) > 0 && v.events[0].Ticket != nil {
		return ticketDedupeKey(v.events[0].ID)
	}
	return v.delivery.DeliveryKey
}

// ticketDedupeKey is the dedupe key of one ticket event.
func ticketDedupeKey(eventID string) string { return "ticket:" + eventID }

// passGated hands a verified delivery to the next handler in pure gate
// mode: a delivery already passed on successfully is answered as a
// duplicate, and the delivery is marked only after the next handler
// answered 2xx, so a vendor's retry after a backend failure still goes
// through.
func (h *Handler) passGated(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, v *verifiedDelivery) error {
	ctx := r.Context()
	key := v.delivery.DeliveryKey
	seen, err := h.app.state.deliveries.Seen(ctx, key)
	if err != nil {
		// Dedupe is best effort in gate mode: the backend gets the
		// delivery rather than the vendor a refusal.
		h.logger.Warn("dedupe check failed; passing the delivery on", zap.String("integration", v.rec.ID), zap.Error(err))
	}
	if seen {
		entry := v.entry
		entry.Action = "duplicate"
		if err := h.app.state.deliveries.Mark(ctx, v.rec.ID, "", 0, entry, h.app.AuditSize); err != nil {
			h.logger.Warn("auditing a duplicate failed", zap.String("integration", v.rec.ID), zap.Error(err))
		}
		h.app.metrics.dedupeHit(v.delivery.Vendor)
		h.app.metrics.delivery(v.delivery.Vendor, resultDuplicate)
		return writeDuplicate(w)
	}
	rec := caddyhttp.NewResponseRecorder(w, nil, nil)
	if err := next.ServeHTTP(rec, r); err != nil {
		h.app.metrics.delivery(v.delivery.Vendor, resultBackendFailed)
		return err
	}
	status := rec.Status()
	h.app.metrics.delivery(v.delivery.Vendor, gateResult(status))
	if status >= 200 && status < 300 {
		entry := v.entry
		entry.Action = "passed"
		if v.action == "ignored" {
			entry.Action = "passed,ignored"
		}
		if err := h.app.state.deliveries.Mark(context.WithoutCancel(ctx), v.rec.ID, key, time.Duration(h.app.DedupeWindow), entry, h.app.AuditSize); err != nil {
			h.logger.Warn("marking a passed delivery failed", zap.String("integration", v.rec.ID), zap.Error(err))
		}
	}
	return nil
}

// auditRejected records a refused delivery of a known integration in its
// rejected list. Unknown ids never reach here: no key is created for them.
func (h *Handler) auditRejected(ctx context.Context, rec *integrations.Record, r *http.Request, signature, reason string, now time.Time) {
	ident := events.Identify(rec.Vendor, rec.EffectiveScheme(), r.Header, nil) // headers only: the body is unverified
	entry := state.AuditEntry{
		Time:      now.UTC(),
		Vendor:    string(rec.Vendor),
		Event:     ident.Event,
		Delivery:  ident.Delivery,
		Action:    "rejected",
		Signature: signature,
		Reason:    reason,
	}
	if err := h.app.state.deliveries.Reject(ctx, rec.ID, entry, h.app.AuditSize); err != nil && !errors.Is(err, context.Canceled) {
		h.logger.Warn("auditing a refused delivery failed", zap.String("integration", rec.ID), zap.Error(err))
	}
}

func writeDuplicate(w http.ResponseWriter) error {
	w.Header().Set(headerDuplicate, "true")
	return writeJSON(w, http.StatusOK, bodyDuplicate)
}
