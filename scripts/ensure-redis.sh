#!/usr/bin/env bash
# ensure-redis.sh makes sure redis-server and redis-cli are installed (from
# Debian's packages when missing) and that a Redis answers at
# 127.0.0.1:${REDIS_PORT:-6379}, starting one without persistence when none
# does. It prints the address.
set -euo pipefail
port=${REDIS_PORT:-6379}
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	echo "installing redis-server from Debian's packages" >&2
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2
fi
if ! redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
	echo "starting redis-server on 127.0.0.1:$port" >&2
	redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no >&2
	for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "127.0.0.1:$port"
