package caddymodule

import (
	"errors"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/delivery"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/secretstore"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// inbound is one delivery that the headers let in: its integration, the
// check that will judge its body, and the buffer the body is read into.
type inbound struct {
	vendor integrations.Vendor
	rec    integrations.Record
	scheme integrations.Scheme
	check  *verifiers.Check // nil: the integration has no secret (unsigned allowed)
	now    time.Time
	buf    bodyBuffer
}

// finish gives back what the delivery held: its body budget, its pooled
// check and itself. The body handed out by buf.bytes stays with whoever
// holds it.
func (in *inbound) finish(h *Handler) {
	in.buf.release()
	if in.check != nil {
		h.checks.Put(in.check)
	}
	*in = inbound{}
	h.inbound.Put(in)
}

// admit decides everything the headers can: the method, the receiver, the
// limiter for unknown ids, the record (unknown, invalid), the client
// address (allow_ips), the record's checks (vendor mismatch, inactive, no
// secret), the declared size, a credential that is missing,
// malformed or (for token schemes) wrong, and the room left in the body
// budget. Each refusal is answered here, before a byte of the body is read,
// and costs no body memory. When it admits the delivery, the body budget
// already holds its declared length.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer) (in *inbound, answered bool, err error) {
	if r.Method != http.MethodPost {
		return nil, true, h.refuse(w, repl, http.StatusMethodNotAllowed, "method not allowed", "", "")
	}
	vendor, id, ok := h.receiver(r, repl)
	if !ok {
		return nil, true, h.refuseUnknown(w, r, repl, "no receiver for path or malformed integration id", "")
	}
	if answered, err := h.limitUnknown(w, r, repl, vendor, id); answered {
		return nil, true, err
	}
	rec, err := h.app.lookup(r.Context(), id)
	switch {
	case errors.Is(err, secretstore.ErrNotFound):
		return nil, true, h.refuseUnknown(w, r, repl, "unknown integration", vendor)
	case errors.Is(err, secretstore.ErrInvalid):
		h.logger.Error("integration record is invalid; refusing its deliveries", zap.String("integration", id), zap.Error(err))
		return nil, true, h.refuse(w, repl, http.StatusUnauthorized, "invalid integration record", vendor, id)
	case err != nil:
		h.logger.Error("secret store unavailable", zap.String("integration", id), zap.Error(err))
		return nil, true, h.refuse(w, repl, http.StatusServiceUnavailable, "secret store unavailable", vendor, id)
	}
	now := h.now()
	if answered, err := h.admitAddress(w, r, repl, &rec, now); answered {
		return nil, true, err
	}
	if rf := delivery.CheckRecord(rec, vendor, h.app.allowUnsigned, r.Header, r.URL.RawQuery); rf != nil {
		return nil, true, h.reject(w, r, repl, &rec, rf.Signature, rf.Reason, now)
	}
	h.app.replayAdvice.advise(h.app.logger, &rec)
	if r.ContentLength > h.app.MaxBody {
		return nil, true, h.refuse(w, repl, http.StatusRequestEntityTooLarge, "body over max_body", vendor, id)
	}

	in = h.inbound.Get().(*inbound)
	in.vendor, in.rec, in.scheme, in.now = vendor, rec, rec.EffectiveScheme(), now
	in.buf.budget = h.app.bodies
	if rec.HasSecret() {
		in.check = h.checks.Get().(*verifiers.Check)
		in.check.Reset(vendor, in.scheme, verifiers.Delivery{Header: r.Header, RawQuery: r.URL.RawQuery, Now: now, Tolerance: rec.EffectiveTolerance(time.Duration(h.app.DedupeWindow))}, delivery.Secrets(rec, now))
		if v, settled := in.check.Settled(); settled && !v.OK() {
			in.finish(h)
			return nil, true, h.reject(w, r, repl, &rec, v.Outcome.String(), "signature "+v.Outcome.String()+": "+v.Reason, now)
		}
	}
	if !in.buf.reserve(r.ContentLength, h.app.MaxBody) {
		in.finish(h)
		return nil, true, h.overBudget(w, repl, vendor, id)
	}
	return in, false, nil
}

// overBudget answers a delivery whose body does not fit what is left of
// max_inflight_body: 503, to come back in a few seconds, when the bodies
// now in flight have been answered.
func (h *Handler) overBudget(w http.ResponseWriter, repl *caddy.Replacer, vendor integrations.Vendor, id string) error {
	w.Header().Set("Retry-After", "5")
	return h.refuseAs(w, repl, http.StatusServiceUnavailable, resultOverBudget, "body budget (max_inflight_body) exhausted", vendor, id)
}
