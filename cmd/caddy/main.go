// Command caddy is Caddy with the standard modules and hookgate, the same
// set xcaddy.json builds. The integration tests build it when no
// xcaddy-built binary is given to them (HOOKGATE_CADDY_BIN).
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/hookgate/caddy-hookgate"
)

func main() {
	caddycmd.Main()
}
