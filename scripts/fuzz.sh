#!/usr/bin/env bash
# fuzz.sh runs every native fuzz target for FUZZTIME (default 10s) each,
# all of them even when one fails, and fails if any did. A crasher lands in
# its package's testdata/fuzz/<target>/ (printed below): commit it, and it
# runs as a regression seed in every `go test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
fuzztime=${FUZZTIME:-10s}
failed=()
count=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
		count=$((count + 1))
		echo "== $pkg $target ($fuzztime)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
			failed+=("$pkg $target")
			for f in "$dir/testdata/fuzz/$target"/*; do
				[ -f "$f" ] && git -C "$dir" status --porcelain -- "$f" | grep -q . && { echo "-- new crasher $f:"; cat "$f"; }
			done
		fi
	done
done
echo "fuzzing: $count targets for $fuzztime each, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi
