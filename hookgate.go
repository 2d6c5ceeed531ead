// Package hookgate is the module xcaddy builds into Caddy: importing it
// registers the `hookgate` app, the `http.handlers.hookgate` handler and
// the Caddyfile syntax from package caddymodule, and every vendor under
// vendors/.
//
//	xcaddy build v2.11.9 --with github.com/hookgate/caddy-hookgate
package hookgate

import (
	// Registers hookgate's Caddy modules.
	_ "github.com/hookgate/caddy-hookgate/caddymodule"
	// Registers every vendor hookgate ships.
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
)
