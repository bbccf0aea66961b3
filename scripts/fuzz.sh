#!/usr/bin/env bash
# Runs every fuzz target in the module for a short time (default 10s each).
# Fuzzers that find a crash write the input to testdata/fuzz/ of their
# package; commit it, so that the plain test run keeps checking it.
#
# The parsers of untrusted input (what `hegui verify` reads, what the module
# proxy is sent) get more:
# with FUZZ_LONG set (CI sets it), FUZZ_LONG_COUNT of them (default 3) run
# for FUZZ_LONG each instead of the short time. Which ones rotates with the
# commit, so that over a series of submissions each gets its long runs.
#
# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded"
# as a failure when -fuzztime ends while a worker is busy, on a loaded
# machine, without any failing input (golang/go#75804, fixed in Go 1.27).
# Such a run, and only such a run, is repeated once; a failing input, a
# panic or any other failure fails at once.
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

# deadline_flake: the log shows the coordinator's deadline race and
# nothing else that failed.
deadline_flake() {
	grep -q '^    context deadline exceeded$' "$log" &&
		! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"
}

# The parsers of untrusted input (a delivery or a kit someone else made, a
# module proxy's requests and stored records, a service's request bodies,
# the evidence an operator attaches to a report),
# as "package target".
verifier_targets=(
	"hegui.dev/hegui/internal/deliver/sbom FuzzReadSBOM"
	"hegui.dev/hegui/internal/format FuzzParseManifest"
	"hegui.dev/hegui/internal/format FuzzParseProvenance"
	"hegui.dev/hegui/internal/envelope FuzzParse"
	"hegui.dev/hegui/internal/buildrecipe FuzzRecipe"
	"hegui.dev/hegui/translog FuzzParseInclusionProof"
	"hegui.dev/hegui/translog FuzzParseVerifierKeys"
	"hegui.dev/hegui/translog FuzzParseEvent"
	"hegui.dev/hegui/keys FuzzParsePublicKey"
	"hegui.dev/hegui/pki FuzzParseCertificates"
	"hegui.dev/hegui/sign FuzzVerify"
	"hegui.dev/hegui/internal/modproxy FuzzParseRequest"
	"hegui.dev/hegui/internal/modstore FuzzParseRecord"
	"hegui.dev/hegui/internal/modproxy FuzzServe"
	"hegui.dev/hegui/internal/modproxy FuzzImport"
	"hegui.dev/hegui/internal/modsign FuzzVerify"
	"hegui.dev/hegui/internal/modverify FuzzParseGoSum"
	"hegui.dev/hegui/internal/modverify FuzzHashZip"
	"hegui.dev/hegui/internal/kit FuzzVerify"
	"hegui.dev/hegui/mask FuzzMaskJSON"
	"hegui.dev/hegui/internal/ociimage FuzzFileInLayer"
	"hegui.dev/hegui/internal/opevidence FuzzParse"
)
long=" "
if [ -n "${FUZZ_LONG:-}" ]; then
	n=${#verifier_targets[@]}
	count=${FUZZ_LONG_COUNT:-3}
	seed=$(( 0x$(git rev-parse --short=6 HEAD 2>/dev/null || echo 0) % n ))
	for ((i = 0; i < count && i < n; i++)); do
		long+="${verifier_targets[(seed + i) % n]} | "
	done
	echo "long fuzzing ($FUZZ_LONG each):$long"
fi

for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		time=$fuzztime
		case "$long" in *" $pkg $target |"*) time=$FUZZ_LONG ;; esac
		echo "fuzz $pkg $target ($time)"
		for attempt in 1 2; do
			if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" "$pkg" >"$log" 2>&1; then
				break
			fi
			if [ "$attempt" = 1 ] && deadline_flake; then
				echo "  context deadline exceeded at the end of -fuzztime, no failing input (golang/go#75804): running it again"
				continue
			fi
			cat "$log"
			status=1
			break
		done
	done
done
exit $status
