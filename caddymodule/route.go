package caddymodule

import (
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// receiverFromPath reads the vendor and integration id from a receiver
// path: /webhooks/{jira|servicenow|manageengine}/{id} or
// /webhooks/ci/{vendor}/{id}. Anything else, including a malformed id or a
// ticket vendor under ci/, is no receiver.
func receiverFromPath(path string) (integrations.Vendor, string, bool) {
	rest, ok := strings.CutPrefix(path, "/webhooks/")
	if !ok {
		return "", "", false
	}
	kind, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", false
	}
	var vendor integrations.Vendor
	if kind == "ci" {
		v, id, ok := strings.Cut(rest, "/")
		if !ok {
			return "", "", false
		}
		vendor, rest = integrations.Vendor(v), id
		if !vendor.IsCI() {
			return "", "", false
		}
	} else {
		vendor = integrations.Vendor(kind)
		if !vendor.Known() || vendor.IsCI() {
			return "", "", false
		}
	}
	if !integrations.ValidID(rest) {
		return "", "", false
	}
	return vendor, rest, true
}
