#!/usr/bin/env bash
# xcaddy-build.sh OUTPUT builds Caddy with the plugins pinned in xcaddy.json.
# The module is unpublished, so the plugin is named with a version and a
# local replacement (github.com/hookgate/caddy-hookgate@v0.0.0=.); a
# published release would use `--with github.com/hookgate/caddy-hookgate`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-./caddy}
xcaddy=$(command -v xcaddy || true)
if [ -z "$xcaddy" ]; then
	GOFLAGS= go install github.com/caddyserver/xcaddy/cmd/xcaddy@v0.4.5
	xcaddy=$(go env GOPATH)/bin/xcaddy
fi
mapfile -t args < <(go run ./scripts/xcaddyargs xcaddy.json)
echo "xcaddy build ${args[*]} --output $out" >&2
"$xcaddy" build "${args[@]}" --output "$out" >&2
