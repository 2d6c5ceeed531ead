#!/usr/bin/env bash
# ensure-vault.sh prints the path of a Vault server binary for the integration
# tests, building it once per machine from the Go module proxy (tools/vault)
# into a cache that survives clones. The first build downloads several GB and
# takes about ten minutes on two cores; later calls return at once.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=v1.21.0
cache=${HOOKGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookgate}
bin=$cache/vault-$version
mkdir -p "$cache"
if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
	echo "$bin"
	exit 0
fi
exec 9>"$cache/vault.lock"
flock 9
if [ ! -x "$bin" ]; then
	echo "building vault $version into $bin (once per machine, ~10 min)" >&2
	(cd "$here/tools/vault" && go build -trimpath -o "$bin.tmp" github.com/hashicorp/vault) >&2
	mv "$bin.tmp" "$bin"
fi
echo "$bin"
