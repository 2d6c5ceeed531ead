package caddymodule

import (
	"sync"

	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// replayAdvice logs, once per integration and scheme, that the scheme an
// integration verifies with cannot tell a replay from a new delivery: a
// token signs no body, so the same captured request, or any body at all,
// passes with it. The advice names the vendor's body-MAC scheme when it
// has one. The set grows with known integrations only: it is consulted
// after the record was found.
type replayAdvice struct {
	logged sync.Map // adviceKey → struct{}
}

// adviceKey is one integration and scheme the advice was logged for.
type adviceKey struct {
	id     string
	scheme integrations.Scheme
}

// advise logs the advice for rec the first time rec is served.
func (ra *replayAdvice) advise(logger *zap.Logger, rec *integrations.Record) {
	if ra == nil || logger == nil || !rec.HasSecret() {
		return
	}
	s := rec.EffectiveScheme()
	if r, ok := verifiers.RuleOf(rec.Vendor, s); !ok || r.Kind.BodyMAC() {
		return
	}
	k := adviceKey{rec.ID, s}
	if _, seen := ra.logged.Load(k); seen {
		return // every request after the first: no allocation
	}
	if _, seen := ra.logged.LoadOrStore(k, struct{}{}); seen {
		return
	}
	fields := []zap.Field{zap.String("integration", rec.ID), zap.String("vendor", string(rec.Vendor)), zap.String("scheme", string(s))}
	if better := bodyMACScheme(rec.Vendor); better != "" {
		logger.Warn("this integration's scheme sends the secret itself and signs no body: hookgate cannot tell a replayed delivery from a new one, and whoever holds the token can forge any body; prefer the vendor's body MAC",
			append(fields, zap.String("prefer_scheme", string(better)))...)
		return
	}
	logger.Warn("this integration's scheme sends the secret itself and signs no body: hookgate cannot tell a replayed delivery from a new one; the vendor offers no body MAC, so keep the token secret, TLS on, and max_age short",
		fields...)
}

// bodyMACScheme is v's first scheme that MACs the body, or "".
func bodyMACScheme(v integrations.Vendor) integrations.Scheme {
	for _, s := range v.Schemes() {
		if r, ok := verifiers.RuleOf(v, s); ok && r.Kind.BodyMAC() {
			return s
		}
	}
	return ""
}
