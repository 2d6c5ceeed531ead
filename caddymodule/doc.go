// Package caddymodule is hookgate's Caddy glue: the `hookgate` app that owns
// shared clients, the `http.handlers.hookgate` handler that guards webhook
// receivers, and their Caddyfile syntax. It translates between Caddy and the
// plain packages (integrations, verifiers, secretstore) and owns no business
// rule of its own: read it as a table of contents.
package caddymodule
