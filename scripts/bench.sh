#!/usr/bin/env bash
# bench.sh measures hookgate in one run on this machine and writes
# BENCHMARKS.md: verification against raw crypto/hmac (Go benchmarks), and
# Caddy + hookgate against the same Caddy's plain reverse_proxy under wrk.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
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
	echo "wrk, Caddy, and the backend share the machine, so absolute numbers are low; the ratios are what to read."
	echo
	echo "## Caddy + hookgate (gate mode) against plain reverse_proxy"
	echo
	echo "One Caddy process, two sites, one trivial Go backend; signed GitHub pushes; wrk -t2 -c32, ${BENCH_ROUNDS:-4} alternating rounds of ${BENCH_DURATION:-5s} per mode and size. Req/s is the median over the rounds; a ratio is the median of the per-round ratios (each round runs the modes back to back, so a ratio compares runs under the same conditions); latency is from the last round."
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
