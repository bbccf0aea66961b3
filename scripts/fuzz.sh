#!/usr/bin/env bash
# Runs every fuzz target in the module for a short time (default 10s each).
# Fuzzers that find a crash write the input to testdata/fuzz/ of their
# package; commit it, so that the plain test run keeps checking it.
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz $pkg $target ($fuzztime)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
			cat "$log"
			status=1
		fi
	done
done
exit $status
