package caddymodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/hookgate/caddy-hookgate/iplists"
)

// unmarshal reads an `ip_lists` block:
//
//	ip_lists {
//		refresh   1h
//		github                  # loaded at start, from its published URL
//		atlassian <url>         # loaded at start, from <url>
//	}
func (lc *IPListsConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if name == "refresh" {
			if err := durationArg(d, &lc.Refresh); err != nil {
				return err
			}
			continue
		}
		if !iplists.Known(name) {
			return d.Errf("ip_lists: unrecognized subdirective %q: not refresh nor a published list (%v)", name, iplists.Names())
		}
		args := d.RemainingArgs()
		if len(args) > 1 {
			return d.ArgErr()
		}
		if lc.Lists == nil {
			lc.Lists = make(map[string]string)
		}
		lc.Lists[name] = ""
		if len(args) == 1 {
			lc.Lists[name] = args[0]
		}
	}
	return nil
}

// allowIPsArg reads an integration's allow_ips entries (the subdirective
// may be repeated) and checks them as the record will.
func allowIPsArg(d *caddyfile.Dispenser, dst *[]string) error {
	if err := listArg(d, dst); err != nil {
		return err
	}
	if _, err := iplists.ParseAllow(*dst); err != nil {
		return d.Errf("integration: %v", err)
	}
	return nil
}
