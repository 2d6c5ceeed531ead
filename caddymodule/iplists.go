package caddymodule

import (
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/iplists"
)

// ipListLogEvery is how often, at most, a delivery answered 503 because
// the list its allow_ips needs has not loaded is logged as a warning.
const ipListLogEvery = time.Minute

// reasonAddressNotAllowed is the audited reason of a delivery from an
// address the integration's allow_ips does not admit.
const reasonAddressNotAllowed = "address not allowed"

// provisionIPLists takes the shared published lists and wants, from the
// start, those the static records name.
func (a *App) provisionIPLists(repl *caddy.Replacer, records []integrations.Record) error {
	pl, key, err := loadIPLists(a.IPLists, repl)
	if err != nil {
		return err
	}
	a.ipLists, a.ipListsKey = pl, key
	a.ipListLog = &everyInterval{every: ipListLogEvery}
	for i := range records {
		pl.lists.Want(records[i].AllowIPs.Lists()...)
	}
	return nil
}

// ipListSource is where allow_ips finds the published lists; nil (every
// list pending) on an App that was not provisioned.
func (a *App) ipListSource() iplists.Source {
	if a.ipLists == nil {
		return nil
	}
	return a.ipLists.lists
}

// admitAddress applies the record's allow_ips to the request's client
// address: Caddy's client IP, which honours the server's trusted_proxies.
// An address it does not admit is rejected like a wrong credential (401,
// audited "address not allowed", counted by the brute-force limiter). An
// address that only a list not loaded yet could admit is answered 503
// with Retry-After: whether it may come in is not known yet, and letting
// it in would fail open.
func (h *Handler) admitAddress(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, rec *integrations.Record, now time.Time) (answered bool, err error) {
	if rec.AllowIPs == nil {
		return false, nil
	}
	if h.allowIPsProxyCheck != nil {
		h.allowIPsProxyCheck.Do(func() { h.warnLaxProxiesAllowIPs(r) })
	}
	switch outcome, pending := rec.AllowIPs.Check(clientIP(r), h.app.ipListSource()); outcome {
	case iplists.Admitted:
		return false, nil
	case iplists.Pending:
		if l := h.app.ipListLog; l == nil || l.allow(time.Now()) {
			h.logger.Warn("an integration's allow_ips names a published IP list that has not loaded: deliveries only it could admit are answered 503 until it does",
				zap.String("integration", rec.ID), zap.String("list", pending))
		}
		return true, h.refuse(w, repl, http.StatusServiceUnavailable, "allow_ips: published list "+pending+" not loaded", rec.Vendor, rec.ID)
	default:
		return true, h.reject(w, r, repl, rec, "invalid", reasonAddressNotAllowed, now)
	}
}

// warnLaxProxiesAllowIPs logs, once per handler, that its server trusts
// proxies without trusted_proxies_strict while an integration it serves
// restricts addresses: Caddy then takes the leftmost X-Forwarded-For,
// which the caller writes, so a forged one passes allow_ips.
func (h *Handler) warnLaxProxiesAllowIPs(r *http.Request) {
	if laxTrustedProxies(r) {
		h.logger.Warn("trusted_proxies is set without trusted_proxies_strict while an integration restricts addresses with allow_ips: Caddy takes the leftmost X-Forwarded-For, which the caller writes, so a forged one passes allow_ips; set trusted_proxies_strict in the server's options")
	}
}
