#!/usr/bin/env bash
# bench.sh measures hookgate in one run on this machine and writes
# BENCHMARKS.md: verification against raw crypto/hmac (Go benchmarks), and
# Caddy + hookgate against the same Caddy's plain reverse_proxy under load.
# The load is scripts/bench's own generator, not wrk: every request is a
# delivery of its own (own id, own body with a unique head commit,
# repository.pushed_at = now, signed over that body), as a user's real
# load is. wrk's Lua cannot sign, and one pre-signed body under fresh ids
# is a replay to hookgate after the first (200 X-Hookgate-Duplicate,
# nothing forwarded), so it measured the replay path. A run fails if more
# than one request in a thousand is not accepted (not 2xx, or a duplicate).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
mkdir -p bin
scripts/xcaddy-build.sh bin/caddy
out=${BENCH_OUT:-BENCHMARKS.md}
# The hand-written "## Profile" section (what pprof showed where a target
# was missed) survives a re-run: it is cut from the old file and appended.
profile=$( [ -f "$out" ] && awk '/^## Profile/{p=1} p' "$out" || true)
gobench=$(go test -run '^$' -bench 'Verify(GitHub|Bearer)|RawHMAC|CheckPooled|HandlerGitHub' -benchmem -count 3 ./verifiers/ ./caddymodule/ 2>&1 | grep -E '^Benchmark|^ok|FAIL')
drainbench=$(go test -run '^$' -bench 'DrainRedis' -benchtime 20000x -count 3 ./upstream/ 2>&1 | grep -E '^Benchmark|^ok|FAIL')
table=$(go run ./scripts/bench -caddy bin/caddy -duration "${BENCH_DURATION:-5s}" -rounds "${BENCH_ROUNDS:-4}")
{
	echo "# Benchmarks"
	echo
	echo "Produced by \`make bench\` on $(date -u +%Y-%m-%d): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'))," \
		"$(free -g | awk '/Mem:/{print $2}') GiB, $(go version | cut -d' ' -f3), $(bin/caddy version | cut -d' ' -f1)."
	echo "The load generator, Caddy, and the backend share the machine, so absolute numbers are low; the ratios are what to read."
	echo
	echo "## Caddy + hookgate (gate mode) against plain reverse_proxy"
	echo
	echo "One Caddy process, two sites, one trivial Go backend; a second Caddy process for forward mode (Redis, outbox to a trivial finding service). GitHub pushes, every request a delivery of its own: its own delivery id, its own body (a unique head commit id), repository.pushed_at = now, and a signature over that body, so neither dedupe, the replay guard, nor max_age short-cuts the work; a run in which more than one request in a thousand is not accepted (2xx without X-Hookgate-Duplicate) fails. The load comes from the bench's own Go generator (32 keep-alive connections, closed loop like wrk -c32; each body's HMAC is finished from a precomputed state over its shared padding, about a microsecond a request); req/s counts accepted deliveries. ${BENCH_ROUNDS:-4} alternating rounds of ${BENCH_DURATION:-5s} per mode and size. Req/s is the median over the rounds; a ratio is the median of the per-round ratios (each round runs the modes back to back, so a ratio compares runs under the same conditions); latency is from the last round."
	echo
	echo "$table"
	echo
	echo "## Outbox drain without HTTP load"
	echo
	echo "\`BenchmarkDrainRedis\`: 20,000 events queued in the real Redis outbox, then drained by one worker (concurrency 64, the app's default) into a local finding service that answers 202 at once."
	echo
	echo '```'
	echo "$drainbench"
	echo '```'
	echo
	echo "## Verification against raw HMAC"
	echo
	echo "\`Verify\` is the whole check (header parse, decode, HMAC, constant-time compare); \`RawHMAC\` is hmac.New + Write + Sum + hmac.Equal over the same bytes."
	echo
	echo '```'
	echo "$gobench"
	echo '```'
	if [ -n "$profile" ]; then
		echo
		echo "$profile"
	fi
} > "$out"
cat "$out"
