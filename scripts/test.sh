#!/usr/bin/env bash
# test.sh runs every check and test hookgate has, building or installing
# what they need: the Vault dev server (once per machine), Redis when none
# answers, and Caddy through xcaddy from xcaddy.json. The end-to-end tests
# run against that xcaddy-built binary, a real Vault and a real Redis; a
# skipped test fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
step() { printf '\n== %s\n' "$*"; }

step "format, vet, staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi
go vet ./...
sc=$(command -v staticcheck || true)
if [ -z "$sc" ]; then
	GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	sc=$(go env GOPATH)/bin/staticcheck
fi
"$sc" ./...

step "Vault dev server binary"
HOOKGATE_VAULT_BIN=$(scripts/ensure-vault.sh)
export HOOKGATE_VAULT_BIN
"$HOOKGATE_VAULT_BIN" version

step "Redis"
HOOKGATE_REDIS=$(scripts/ensure-redis.sh)
export HOOKGATE_REDIS

step "Caddy built with xcaddy from xcaddy.json"
HOOKGATE_CADDY_BIN=$PWD/bin/caddy
scripts/xcaddy-build.sh "$HOOKGATE_CADDY_BIN"
export HOOKGATE_CADDY_BIN
"$HOOKGATE_CADDY_BIN" list-modules | grep hookgate

step "tests (unit, fuzz seeds, end to end)${HOOKGATE_CORPUS:+, corpus conformance over $HOOKGATE_CORPUS}"
mkdir -p bin
set +e
go test -count=1 -timeout 30m -json ./... > bin/test.json 2> bin/test.stderr
status=$?
set -e
cat bin/test.stderr
go run ./scripts/testsummary < bin/test.json
exit $status
