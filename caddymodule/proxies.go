package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// warnLaxTrustedProxies logs, once per handler, that its server trusts
// proxies without trusted_proxies_strict while the brute-force limiter is
// on. Caddy then takes the leftmost X-Forwarded-For, which the client
// itself writes: rotating it escapes the limiter, and a fixed one gets a
// vendor's address limited. The server's settings are only known from a
// request, so the first one checks.
func (h *Handler) warnLaxTrustedProxies(r *http.Request) {
	if h.app.limit == nil || !laxTrustedProxies(r) {
		return
	}
	h.logger.Warn("trusted_proxies is set without trusted_proxies_strict while hookgate's brute-force limiter is on: Caddy takes the leftmost X-Forwarded-For, which the caller writes, so rotating it escapes the limiter and a forged one gets a vendor's address limited; set trusted_proxies_strict in the server's options")
}

// laxTrustedProxies reports whether the request's server trusts proxies
// without trusted_proxies_strict.
func laxTrustedProxies(r *http.Request) bool {
	srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	return ok && srv != nil && len(srv.TrustedProxiesRaw) != 0 && srv.TrustedProxiesStrict == 0
}
