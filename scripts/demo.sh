#!/usr/bin/env bash
# demo.sh runs hookgate locally with nothing configured: a Vault dev
# server holding one integration, a demo backend, a demo finding service
# that prints every event it receives, Redis when one is reachable or can
# be started (in-process memory otherwise), and Caddy (built with xcaddy)
# running Caddyfile.example. It prints signed curl commands to try, then
# runs until Ctrl-C. Every value below is an embedded default and can be
# overridden from the environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
rand() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

export VAULT_TOKEN=${VAULT_TOKEN:-demo-root-$(rand)}
export VAULT_ADDR=${VAULT_ADDR:-http://127.0.0.1:8200}
export DEMO_GH_SECRET=${DEMO_GH_SECRET:-$(rand)}
export LEGACY_GH_SECRET=${LEGACY_GH_SECRET:-$(rand)}
export REDIS_PASSWORD=${REDIS_PASSWORD:-}
export FINDINGS_TOKEN=${FINDINGS_TOKEN:-demo-findings-token}
export CI_WEBHOOK_ALLOW_UNSIGNED=${CI_WEBHOOK_ALLOW_UNSIGNED:-false}

vault=$(scripts/ensure-vault.sh)
echo "== Vault dev server on $VAULT_ADDR"
"$vault" server -dev -dev-root-token-id="$VAULT_TOKEN" -dev-listen-address="${VAULT_ADDR#http://}" >"$work/vault.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fsS "$VAULT_ADDR/v1/sys/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS -H "X-Vault-Token: $VAULT_TOKEN" -X POST "$VAULT_ADDR/v1/secret/data/hookgate/integrations/legacy-gh" \
	-d "{\"data\":{\"vendor\":\"github\",\"secret\":\"$LEGACY_GH_SECRET\"}}" >/dev/null
echo "   integration legacy-gh stored at secret/hookgate/integrations/legacy-gh"

echo "== demo backend on 127.0.0.1:9100, demo finding service on 127.0.0.1:9000"
go build -o "$work/demobackend" ./scripts/demobackend
"$work/demobackend" -listen 127.0.0.1:9100 &
pids+=($!)
"$work/demobackend" -findings -listen 127.0.0.1:9000 &
pids+=($!)

# The demo keeps its Redis keys under a prefix of its own: the default one
# is what test runs on the same Redis use, and their entries would show in
# the demo's audit log.
caddyfile=$work/Caddyfile
sed 's/key_prefix hookgate:/key_prefix hookgate-demo:/' Caddyfile.example >"$caddyfile"
if scripts/ensure-redis.sh >/dev/null 2>&1; then
	echo "== Redis on 127.0.0.1:6379: the outbox, audit log and dedupe marks live there, under hookgate-demo:"
else
	echo "== no Redis could be reached or started: state lives in Caddy's memory (the redis block is left out)"
	awk '/^\t\tredis \{/{skip=1} skip&&/^\t\t\}/{skip=0; next} !skip' Caddyfile.example >"$caddyfile"
fi

[ -x ./caddy ] || scripts/xcaddy-build.sh ./caddy
echo "== Caddy with $caddyfile on :8080 (admin API on localhost:2019)"
./caddy run --config "$caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.2; done

# A push of now: its signed pushed_at must be within max_age.
body="$work/push.json"
sed -E "s/\"pushed_at\": *[0-9]+/\"pushed_at\": $(date +%s)/" testdata/payloads/github/push.json >"$body"
cat <<MSG

hookgate is up. Try a signed GitHub push to the static integration (202;
the same body again is a replay: 200 with X-Hookgate-Duplicate):

$(go run ./scripts/signcurl -vendor github -url http://127.0.0.1:8080/webhooks/ci/github/demo-gh -body $body -secret-env DEMO_GH_SECRET)

to the existing backend behind the gate (Vault integration legacy-gh; the backend prints the annotations):

$(go run ./scripts/signcurl -vendor github -url http://127.0.0.1:8080/legacy/github -body $body -secret-env LEGACY_GH_SECRET)

and a forged one (401):

curl -i -X POST http://127.0.0.1:8080/webhooks/ci/github/demo-gh -H 'X-Hub-Signature-256: sha256=00' --data-binary @$body

The audit log of an integration:   curl -s localhost:2019/hookgate/integrations/demo-gh/events
Dead letters:                      curl -s localhost:2019/hookgate/deadletter

Caddy's log: $work/caddy.log. Ctrl-C stops everything.
MSG
wait "${pids[-1]}"
