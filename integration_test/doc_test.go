// Package integration_test runs hookgate end to end: a real Caddy process
// (the xcaddy-built binary from `make test`, or one built from ./cmd/caddy),
// a real Vault dev server, and local HTTP backends, talking over loopback.
package integration_test
