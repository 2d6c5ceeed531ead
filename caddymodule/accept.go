package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/delivery"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
)

// headerDuplicate marks the answer to a delivery already handled.
const headerDuplicate = "X-Hookgate-Duplicate"

var bodyDuplicate = []byte(`{"duplicate":true}`)

// commit hands a verified delivery on durably: its events, audit entry and
// dedupe mark in one round trip. It answers the caller itself when the
// delivery is a duplicate or the store is down, and reports whether it did.
func (h *Handler) commit(ctx context.Context, w http.ResponseWriter, repl *caddy.Replacer, v *delivery.Verified) (answered bool, err error) {
	dup, err := delivery.Commit(ctx, h.app.state.deliveries, h.app.policy(), v)
	switch {
	case errors.Is(err, state.ErrOutboxFull):
		if h.app.outboxFullLog.allow(time.Now()) {
			h.logger.Warn("outbox full (max_outbox): refusing verified deliveries with 503 until the finding service catches up; vendors retry",
				zap.Int("max_outbox", h.app.MaxOutbox))
		}
		w.Header().Set("Retry-After", "60")
		return true, h.refuseAs(w, repl, http.StatusServiceUnavailable, resultOutboxFull, "outbox full (max_outbox)", v.Delivery.Vendor, v.Record.ID)
	case errors.Is(err, state.ErrUnavailable):
		h.logger.Error("storing a verified delivery failed; answering 503 so the vendor retries",
			zap.String("integration", v.Record.ID), zap.Error(err))
		return true, h.refuse(w, repl, http.StatusServiceUnavailable, "state store unavailable", v.Delivery.Vendor, v.Record.ID)
	case err != nil:
		h.logger.Error("encoding a verified delivery's events failed", zap.String("integration", v.Record.ID), zap.Error(err))
		return true, h.refuse(w, repl, http.StatusInternalServerError, "encoding events failed", v.Delivery.Vendor, v.Record.ID)
	case dup:
		h.app.metrics.dedupeHit(v.Delivery.Vendor)
		h.app.metrics.delivery(v.Delivery.Vendor, resultDuplicate)
		return true, writeDuplicate(w)
	}
	h.app.metrics.delivery(v.Delivery.Vendor, resultAccepted)
	return false, nil
}

// passGated hands a verified delivery to the next handler in pure gate
// mode: a delivery already passed on successfully is answered as a
// duplicate, and the delivery is marked only after the next handler
// answered 2xx, so a vendor's retry after a backend failure still goes
// through.
func (h *Handler) passGated(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, v *delivery.Verified) error {
	ctx := r.Context()
	key := v.Delivery.DeliveryKey
	seen, err := h.app.state.deliveries.Seen(ctx, key)
	if err != nil {
		// Dedupe is best effort in gate mode: the backend gets the
		// delivery rather than the vendor a refusal.
		h.logger.Warn("dedupe check failed; passing the delivery on", zap.String("integration", v.Record.ID), zap.Error(err))
	}
	if seen {
		entry := v.Entry
		entry.Action = "duplicate"
		if err := h.app.state.deliveries.Mark(ctx, v.Record.ID, "", 0, entry, h.app.AuditSize); err != nil {
			h.logger.Warn("auditing a duplicate failed", zap.String("integration", v.Record.ID), zap.Error(err))
		}
		h.app.metrics.dedupeHit(v.Delivery.Vendor)
		h.app.metrics.delivery(v.Delivery.Vendor, resultDuplicate)
		return writeDuplicate(w)
	}
	rec := caddyhttp.NewResponseRecorder(w, nil, nil)
	if err := next.ServeHTTP(rec, r); err != nil {
		h.app.metrics.delivery(v.Delivery.Vendor, resultBackendFailed)
		return err
	}
	status := rec.Status()
	h.app.metrics.delivery(v.Delivery.Vendor, gateResult(status))
	if status >= 200 && status < 300 {
		entry := v.Entry
		entry.Action = "passed"
		if v.Action == "ignored" {
			entry.Action = "passed,ignored"
		}
		if err := h.app.state.deliveries.Mark(context.WithoutCancel(ctx), v.Record.ID, key, time.Duration(h.app.DedupeWindow), entry, h.app.AuditSize); err != nil {
			h.logger.Warn("marking a passed delivery failed", zap.String("integration", v.Record.ID), zap.Error(err))
		}
	}
	return nil
}

// auditRejected records a refused delivery of a known integration in its
// rejected list. Unknown ids never reach here: no key is created for them.
func (h *Handler) auditRejected(ctx context.Context, rec *integrations.Record, r *http.Request, signature, reason string, now time.Time) {
	entry := delivery.RejectedEntry(*rec, r.Header, signature, reason, now)
	if err := h.app.state.deliveries.Reject(ctx, rec.ID, entry, h.app.AuditSize); err != nil && !errors.Is(err, context.Canceled) {
		h.logger.Warn("auditing a refused delivery failed", zap.String("integration", rec.ID), zap.Error(err))
	}
}

func writeDuplicate(w http.ResponseWriter) error {
	w.Header().Set(headerDuplicate, "true")
	return writeJSON(w, http.StatusOK, bodyDuplicate)
}
