package caddymodule

import (
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// laxProxyServers names the http servers that route to hookgate and trust
// proxies without trusted_proxies_strict while hookgate's brute-force
// limiter is on, sorted. Caddy then takes the leftmost X-Forwarded-For,
// which the client itself writes: rotating it escapes the limiter, and a
// fixed one gets a vendor's address limited. No http app, or the limiter
// off: none.
func (a *App) laxProxyServers() []string {
	if a.limit == nil || a.ctx.Context == nil {
		return nil
	}
	raw, err := a.ctx.AppIfConfigured("http")
	if err != nil {
		if !errors.Is(err, caddy.ErrNotConfigured) {
			a.logger.Debug("trusted_proxies check: no http app", zap.Error(err))
		}
		return nil
	}
	httpApp, ok := raw.(*caddyhttp.App)
	if !ok {
		return nil
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(httpApp.Servers)) {
		srv := httpApp.Servers[name]
		if srv.TrustedProxiesStrict > 0 || !trustsProxies(srv) {
			continue
		}
		if _, routes := serverReach(srv); routes {
			out = append(out, name)
		}
	}
	return out
}

// trustsProxies reports whether srv has trusted_proxies. Caddy clears
// TrustedProxiesRaw once it has loaded the module (before any handler is
// provisioned), so the loaded source is read (fieldOf); a Caddy that keeps
// it elsewhere reads as trusting none, which TestFieldOfReadsCaddysLayout
// catches.
func trustsProxies(srv *caddyhttp.Server) bool {
	if len(srv.TrustedProxiesRaw) > 0 {
		return true
	}
	src, ok := fieldOf[caddyhttp.IPRangeSource](srv, "trustedProxies")
	return ok && src != nil
}

// warnLaxTrustedProxies logs, once per config load, one warning for each
// server laxProxyServers names.
func (a *App) warnLaxTrustedProxies() {
	for _, name := range a.laxProxyServers() {
		a.logger.Warn("trusted_proxies is set without trusted_proxies_strict while hookgate's brute-force limiter is on: Caddy takes the leftmost X-Forwarded-For, which the caller writes, so rotating it escapes the limiter and a forged one gets a vendor's address limited; set trusted_proxies_strict in the server's options",
			zap.String("server", name))
	}
}

// laxTrustedProxies reports whether the request's server trusts proxies
// without trusted_proxies_strict.
func laxTrustedProxies(r *http.Request) bool {
	srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	return ok && srv != nil && srv.TrustedProxiesStrict == 0 && trustsProxies(srv)
}
