// Package hookgate is the module xcaddy builds into Caddy: importing it
// registers the `hookgate` app, the `http.handlers.hookgate` handler and
// the Caddyfile syntax from package caddymodule.
//
//	xcaddy build v2.11.9 --with github.com/hookgate/caddy-hookgate
package hookgate

import (
	// Registers hookgate's Caddy modules.
	_ "github.com/hookgate/caddy-hookgate/caddymodule"
)
