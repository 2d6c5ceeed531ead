package caddymodule

import (
	"errors"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookgate/caddy-hookgate/delivery"
	"github.com/hookgate/caddy-hookgate/events"
)

// judge gives the verdict on the body just read: "valid", or "unsigned"
// for an integration without a secret that admit let in. A credential that
// does not check out is refused here (401, or 429 past the limiter).
func (h *Handler) judge(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, in *inbound, readStart time.Time) (signature string, answered bool, err error) {
	if in.check == nil {
		return "unsigned", false, nil
	}
	if v := h.verdict(in.check, in.vendor, readStart); !v.OK() {
		return "", true, h.reject(w, r, repl, &in.rec, v.Outcome.String(), "signature "+v.Outcome.String()+": "+v.Reason, in.now)
	}
	return "valid", false, nil
}

// prepare looks into the verified body, for the first time: the vendor's
// identity of the delivery, then delivery.Prepare. A body that is not what
// its event needs is refused 400; one older than max_age, or about another
// repository than the integration's target, 401. Each is audited in the
// rejected list with its valid signature.
func (h *Handler) prepare(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, in *inbound, signature string) (vd *delivery.Verified, answered bool, err error) {
	body := in.buf.bytes()
	vendor, id := in.vendor, in.rec.ID
	ident := events.Identify(vendor, in.scheme, r.Header, body)
	d := events.Delivery{
		Vendor:      vendor,
		Integration: id,
		Header:      r.Header,
		Body:        body,
		Identity:    ident,
		DeliveryKey: events.DeliveryKey(id, ident.Delivery, body),
		Signature:   signature,
		Via:         "webhook",
		ReceivedAt:  in.now,
	}
	vd, err = delivery.Prepare(in.rec, d, h.app.policy())
	if err != nil {
		entry := delivery.RefusedEntry(d, err)
		if aerr := h.app.state.deliveries.Reject(r.Context(), id, entry, h.app.AuditSize); aerr != nil {
			h.logger.Warn("auditing a refused verified delivery failed", zap.String("integration", id), zap.Error(aerr))
		}
		switch {
		case errors.Is(err, delivery.ErrTooOld):
			return nil, true, h.refuseAs(w, repl, http.StatusUnauthorized, resultStale, "event older than max_age", vendor, id)
		case errors.Is(err, delivery.ErrWrongTarget):
			return nil, true, h.refuse(w, repl, http.StatusUnauthorized, "wrong target", vendor, id)
		}
		return nil, true, h.refuse(w, repl, http.StatusBadRequest, "malformed body after valid signature", vendor, id)
	}
	return vd, false, nil
}

// handOn readies the request for the next handler: the annotations and
// placeholders, credentials stripped (unless keep_credentials), and the
// verified body put back byte for byte with its exact length.
func (h *Handler) handOn(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, vd *delivery.Verified, closing bool) {
	if closing {
		w.Header().Del("Connection")
	}
	d := vd.Delivery
	verified := "true"
	if d.Signature == "unsigned" {
		verified = "unsigned"
	}
	annotation{
		verified:    verified,
		vendor:      string(d.Vendor),
		integration: d.Integration,
		event:       d.Identity.Event,
		delivery:    d.Identity.Delivery,
		eventID:     vd.PrimaryID,
	}.apply(r, repl)
	if !h.KeepCredentials {
		stripCredentials(r)
	}
	rb := new(replayBody)
	rb.Reset(d.Body)
	r.Body = rb
	r.ContentLength = int64(len(d.Body))
	r.TransferEncoding = nil
	if c := h.logger.Check(zapcore.DebugLevel, "webhook verified"); c != nil {
		c.Write(zap.String("vendor", string(d.Vendor)), zap.String("integration", d.Integration),
			zap.String("event", d.Identity.Event), zap.String("delivery", d.Identity.Delivery), zap.String("verified", verified),
			zap.String("action", vd.Action))
	}
}
