package caddymodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("hookgate", parseHandlerCaddyfile)
	// Verification comes before anything that rewrites, answers or proxies.
	httpcaddyfile.RegisterDirectiveOrder("hookgate", httpcaddyfile.Before, "redir")
}

func parseHandlerCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var hg Handler
	err := hg.UnmarshalCaddyfile(h.Dispenser)
	return &hg, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	hookgate {
//		vendor           <vendor>
//		integration      <id>
//		keep_credentials
//	}
//
// With no block, vendor and integration come from the receiver path.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "vendor":
			if !d.AllArgs(&h.Vendor) {
				return d.ArgErr()
			}
		case "integration":
			if !d.AllArgs(&h.Integration) {
				return d.ArgErr()
			}
		case "keep_credentials":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.KeepCredentials = true
		default:
			return d.Errf("unrecognized subdirective %q", d.Val())
		}
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
