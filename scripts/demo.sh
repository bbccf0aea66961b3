#!/usr/bin/env bash
# The README's main job: "hegui deliver" on the built-in example module
# (examples/hello) with built-in defaults (no hegui.yaml: the 信创 targets
# linux/amd64, linux/arm64 and linux/loong64, a development key), then
# "hegui verify" on the result. Output goes to out/demo; nothing is opened.
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

"$hegui" deliver examples/hello --snapshot --output out/demo --json >out/demo/result.json
dir=$(sed -n 's/^  "directory": "\(.*\)",$/\1/p' out/demo/result.json)
report=$(sed -n 's/^  "report": "\(.*\)",$/\1/p' out/demo/result.json)
pub=$(ls "$HEGUI_KEYRING"/*.pub)

echo
"$hegui" verify "$dir" --pub "$pub"
echo
echo "The delivery is in $dir"
echo "Open its report: $report"
