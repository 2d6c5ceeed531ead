# hookgate: the two commands a newcomer needs are `make run` (a local demo)
# and `make test` (everything, building what it needs). See README.md.
.PHONY: build test run bench fuzz vault redis clean

# build: Caddy with hookgate, from the Caddy version and plugins in xcaddy.json.
build:
	scripts/xcaddy-build.sh ./caddy

# test: format, vet, staticcheck, unit and fuzz-seed tests, end-to-end tests
# against the xcaddy-built Caddy with a real Vault and Redis.
test:
	scripts/test.sh

# run: a local demo (Vault dev server, demo backend, Caddy with
# Caddyfile.example) that prints a signed curl to try.
run:
	scripts/demo.sh

# bench: verification against raw HMAC, and Caddy+hookgate against plain
# reverse_proxy under load (every request a signed delivery of its own), in one run.
bench:
	scripts/bench.sh

# fuzz: every fuzz target for FUZZTIME each (default 10s).
fuzz:
	scripts/fuzz.sh

vault:
	scripts/ensure-vault.sh

redis:
	scripts/ensure-redis.sh

clean:
	rm -rf ./caddy bin
