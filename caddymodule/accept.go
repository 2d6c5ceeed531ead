package caddymodule

import (
	"context"
	"crypto/rand"
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

// inFlightRetryAfter is what a 409 asks a copy of a delivery in flight to
// wait, in seconds: long enough for the next handler to answer the first.
const inFlightRetryAfter = "10"

var (
	bodyDuplicate = []byte(`{"duplicate":true}`)
	bodyStale     = []byte(`{"stale":true}`)
	bodyInFlight  = []byte(`{"error":"delivery in flight"}`)
)

// commit hands a verified delivery on durably: its events, audit entry and
// marks in one round trip. It answers the caller itself when the delivery
// is not handed on (a duplicate, a replay, a stale ticket change, a copy
// in flight, the store down or full), and reports whether it did.
func (h *Handler) commit(ctx context.Context, w http.ResponseWriter, repl *caddy.Replacer, v *delivery.Verified) (answered bool, err error) {
	o, err := delivery.Commit(ctx, h.app.state.deliveries, h.app.policy(), v)
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
	case o != state.Committed:
		return true, h.notHandedOn(w, repl, v, o)
	}
	h.app.metrics.delivery(v.Delivery.Vendor, resultAccepted)
	return false, nil
}

// notHandedOn answers a verified delivery that the store's atomic step
// kept back: a duplicate or a replay (200, X-Hookgate-Duplicate), a ticket
// change older than one already handed on (200, nothing moves), or a copy
// of a delivery still in flight (409 with Retry-After).
func (h *Handler) notHandedOn(w http.ResponseWriter, repl *caddy.Replacer, v *delivery.Verified, o state.Outcome) error {
	vendor := v.Delivery.Vendor
	repl.Set(placeholderScope+"reason", o.String())
	switch o {
	case state.Duplicate:
		h.app.metrics.dedupeHit(vendor)
		h.app.metrics.delivery(vendor, resultDuplicate)
		return writeDuplicate(w)
	case state.Replay:
		h.app.metrics.dedupeHit(vendor)
		h.app.metrics.delivery(vendor, resultReplay)
		h.logger.Info("webhook replay: body already handled under another delivery id", zap.String("vendor", string(vendor)), zap.String("integration", v.Record.ID))
		return writeDuplicate(w)
	case state.Stale:
		h.app.metrics.delivery(vendor, resultStale)
		return writeJSON(w, http.StatusOK, bodyStale)
	default:
		w.Header().Set("Retry-After", inFlightRetryAfter)
		h.app.metrics.delivery(vendor, resultInFlight)
		return writeJSON(w, http.StatusConflict, bodyInFlight)
	}
}

// claim claims a verified delivery before gate mode passes it on, in one
// atomic step on the shared store: a delivery already passed on is
// answered as a duplicate (or a replay, or a stale ticket change), a copy
// in flight on any instance gets 409, and only the claim's holder goes on
// to the next handler. A store that is down is 503: passed on unclaimed,
// every copy would reach the backend.
func (h *Handler) claim(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, v *delivery.Verified) (token string, answered bool, err error) {
	token = rand.Text()
	o, err := delivery.Claim(r.Context(), h.app.state.deliveries, h.app.policy(), v, token)
	if err != nil {
		h.logger.Error("claiming a verified delivery failed; answering 503 so the vendor retries",
			zap.String("integration", v.Record.ID), zap.Error(err))
		return "", true, h.refuse(w, repl, http.StatusServiceUnavailable, "state store unavailable", v.Delivery.Vendor, v.Record.ID)
	}
	if o != state.Claimed {
		return "", true, h.notHandedOn(w, repl, v, o)
	}
	return token, false, nil
}

// passGated hands a claimed delivery to the next handler in pure gate
// mode. A 2xx from it marks the delivery handled; anything else releases
// the claim, so the vendor's retry goes through.
func (h *Handler) passGated(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, v *delivery.Verified, token string) error {
	p := h.app.policy()
	done := context.WithoutCancel(r.Context())
	rec := caddyhttp.NewResponseRecorder(w, nil, nil)
	if err := next.ServeHTTP(rec, r); err != nil {
		h.release(done, p, v, token)
		h.app.metrics.delivery(v.Delivery.Vendor, resultBackendFailed)
		return err
	}
	status := rec.Status()
	h.app.metrics.delivery(v.Delivery.Vendor, gateResult(status))
	if status < 200 || status > 299 {
		h.release(done, p, v, token)
		return nil
	}
	if err := delivery.Finish(done, h.app.state.deliveries, p, v); err != nil {
		h.logger.Warn("marking a passed delivery failed; its claim runs out after the lease",
			zap.String("integration", v.Record.ID), zap.Duration("lease", delivery.ClaimLease), zap.Error(err))
	}
	return nil
}

// release gives up a claim after the next handler failed.
func (h *Handler) release(ctx context.Context, p delivery.Policy, v *delivery.Verified, token string) {
	if err := delivery.Release(ctx, h.app.state.deliveries, p, v, token); err != nil {
		h.logger.Warn("releasing a claim failed; the vendor's retry waits for the lease",
			zap.String("integration", v.Record.ID), zap.Duration("lease", delivery.ClaimLease), zap.Error(err))
	}
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
