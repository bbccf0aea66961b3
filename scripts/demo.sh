#!/usr/bin/env bash
# The README's main job: "hegui deliver" on the built-in example module
# (examples/hello) with built-in defaults (no hegui.yaml: the 信创 targets
# linux/amd64, linux/arm64 and linux/loong64, a development key), then
# "hegui verify" on the result, recorded in a transparency audit log that
# the script runs for the purpose. Output goes to out/demo; nothing is opened.
# Usage: scripts/demo.sh [HEGUI]
set -euo pipefail
cd "$(dirname "$0")/.."
hegui=$(realpath "${1:-bin/hegui}")
rm -rf out/demo
mkdir -p out/demo
# A keyring of its own, so the demo's development key stays out of yours.
export HEGUI_KEYRING="$PWD/out/demo/keyring"
# An offline vulnerability database built from the Go vulnerability
# database snapshot kept in the repository (dated by that snapshot, so the
# report shows its real age).
export HEGUI_VULNDB="$PWD/out/demo/vulndb"
"$hegui" vulndb import testdata/govulndb/osv.tar.gz --modified 2026-08-21 --quiet >/dev/null

# A transparency audit log of its own, served on a free local port: the
# delivery is recorded in it and carries the inclusion proof.
"$hegui" log init out/demo/auditlog --origin demo.hegui.dev/audit --quiet
export HEGUI_LOG_TOKEN=$("$hegui" log writer add out/demo/auditlog demo --actions 'delivery.*' --quiet)
"$hegui" log serve out/demo/auditlog --listen 127.0.0.1:0 --url-file out/demo/auditlog.url --quiet &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s out/demo/auditlog.url ] && break; sleep 0.1; done
log=$(cat out/demo/auditlog.url)

"$hegui" deliver examples/hello --snapshot --output out/demo --json \
	--audit-log "$log" --audit-log-pub out/demo/auditlog/log.pub >out/demo/result.json
dir=$(sed -n 's/^  "directory": "\(.*\)",$/\1/p' out/demo/result.json)
report=$(sed -n 's/^  "report": "\(.*\)",$/\1/p' out/demo/result.json)
pub=$(ls "$HEGUI_KEYRING"/*.pub)

echo
"$hegui" verify "$dir" --pub "$pub" --log-pub out/demo/auditlog/log.pub --log "$log"
echo
echo "The delivery is in $dir"
echo "Open its report: $report"
