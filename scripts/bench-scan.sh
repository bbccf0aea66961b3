#!/usr/bin/env bash
# hegui's vulnerability and static-analysis scans next to the commands they
# embed, on real projects fetched through the Go module proxy, in interleaved
# rounds; docs/PERFORMANCE.md quotes its output.
#
#   1. Vulnerabilities, medium project (node_exporter v1.12.1, its main
#      package): "hegui vuln" vs "govulncheck", same database: wall time and
#      peak resident memory (GNU time %M; for hegui the engine's process,
#      which is the largest).
#   2. Vulnerabilities, large project (prometheus v0.315.0 = v3.x, ./...):
#      govulncheck's memory, and hegui vuln with the default 4 GiB budget:
#      its peak and which precision its findings have.
#   3. Static analysis (node_exporter, ./...): "hegui vet" (go vet's 35
#      analyzers and gosec over one load) and "hegui vet --analyzers
#      security" vs "gosec ./...".
#   4. Larger projects (restic v0.18.0, 72 modules; versitygw v1.8.0):
#      restic's main package scanned by "hegui vuln" and "govulncheck", and
#      by "hegui vuln --memory-budget 2GiB" (which precision, how long);
#      "hegui vet" vs "gosec ./..." on both, time, peak memory, findings.
#
# Needs govulncheck (golang.org/x/vuln v1.8.0, `go build
# golang.org/x/vuln/cmd/govulncheck` in hegui's module) and gosec v2.27.1 on
# PATH, or GOVULNCHECK and GOSEC set to them, and /usr/bin/time.
# Usage: scripts/bench-scan.sh [HEGUI]    (ROUNDS=5; PARTS=13 runs parts 1 and 3 only)
set -euo pipefail
hegui=$(realpath "${1:-bin/hegui}")
rounds=${ROUNDS:-5}
parts=${PARTS:-123}
govulncheck=${GOVULNCHECK:-govulncheck}
gosec=${GOSEC:-gosec}
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$(dirname "$0")/.."

# measure FILE CMD...: append "seconds kilobytes cpu-seconds" of one run to FILE.
measure() {
	local out=$1
	shift
	# gosec exits 1 when it finds something; that is not a failure here.
	/usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || true
	tail -1 "$work/time" | awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' >>"$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -v c="$1" '{print $c}' "$2"; }
report() { # label file: median wall seconds, MiB and CPU seconds
	printf "  %-44s %7.2f s  %6.0f MiB  %6.2f s CPU   (wall: %s)\n" "$1" "$(col 1 "$2" | median)" \
		"$(echo "$(col 2 "$2" | median) / 1024" | bc -l)" "$(col 3 "$2" | median)" "$(col 1 "$2" | tr '\n' ' ')"
}
fetch() { # module version: a copy of its source with its dependencies downloaded
	local dir src
	dir=$(go mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	src="$work/src/$(basename "$1")"
	mkdir -p "$work/src"
	cp -r "$dir" "$src"
	chmod -R u+w "$src"
	rm -f "$src/go.work" "$src/go.work.sum"
	(cd "$src" && GOWORK=off go mod download)
	echo "$src"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tools:   $("$hegui" version | head -1); $("$govulncheck" -version 2>/dev/null | grep -i 'scanner' | head -1 | xargs); gosec $("$gosec" -version 2>&1 | sed -n 's/^Version: *//p'); $(go version)"

db="$work/vulndb"
"$hegui" vulndb import testdata/govulndb/osv.tar.gz --db "$db" --modified 2026-08-21 -q >/dev/null
echo "database: testdata/govulndb (4,291 entries)"
export GOWORK=off GOFLAGS=

node=$(fetch github.com/prometheus/node_exporter v1.12.1)
echo "subject: node_exporter v1.12.1, $(find "$node" -name '*.go' | wc -l) Go files"

if [[ $parts == *1* ]]; then
echo
echo "== 1. Vulnerabilities, node_exporter (main package), $rounds rounds"
(cd "$node" && "$govulncheck" -db "file://$db" -format json . >/dev/null) # warm the build cache
: >"$work/g"
: >"$work/h"
for _ in $(seq "$rounds"); do
	measure "$work/g" "$govulncheck" -db "file://$db" -format json -C "$node" .
	measure "$work/h" "$hegui" vuln --db "$db" --format json --fail-on none -q "$node" .
done
report "govulncheck -format json ." "$work/g"
report "hegui vuln (call graph, 4 GiB budget)" "$work/h"
printf "  ratio hegui/govulncheck: time %.2f, memory %.2f, CPU %.2f\n" \
	"$(echo "$(col 1 "$work/h" | median) / $(col 1 "$work/g" | median)" | bc -l)" \
	"$(echo "$(col 2 "$work/h" | median) / $(col 2 "$work/g" | median)" | bc -l)" \
	"$(echo "$(col 3 "$work/h" | median) / $(col 3 "$work/g" | median)" | bc -l)"
"$hegui" vuln --db "$db" --format json --fail-on none -q "$node" . >"$work/node.json"
"$govulncheck" -db "file://$db" -format json -C "$node" . >"$work/node-g.json"
echo "  findings: hegui $(grep -c '"id": "GO-' "$work/node.json"), govulncheck $(grep -o '"osv": "GO-[0-9-]*"' "$work/node-g.json" | sort -u | wc -l) vulnerabilities"
fi

if [[ $parts == *2* ]]; then
	prom=$(fetch github.com/prometheus/prometheus v0.315.0)
	echo
	echo "== 2. Vulnerabilities, prometheus (./...), 1 round each"
	: >"$work/pg"
	: >"$work/ph"
	measure "$work/pg" "$govulncheck" -db "file://$db" -format json -C "$prom" ./...
	measure "$work/ph" "$hegui" vuln --db "$db" --format json --fail-on none -q -o "$work/prom.json" "$prom" ./...
	report "govulncheck -format json ./..." "$work/pg"
	report "hegui vuln, --memory-budget 4GiB (default)" "$work/ph"
	grep -o '"precision": "[a-z-]*"' "$work/prom.json" | sort | uniq -c | sed 's/^/  /'
	grep -o '"note": "[^"]*"' "$work/prom.json" | sed 's/^/  /'
fi

if [[ $parts == *3* ]]; then
echo
echo "== 3. Static analysis, node_exporter (./...), $rounds rounds"
(cd "$node" && "$gosec" -quiet -fmt json -out /dev/null ./... || true)
: >"$work/s"
: >"$work/v"
: >"$work/vs"
for _ in $(seq "$rounds"); do
	(cd "$node" && measure "$work/s" "$gosec" -quiet -fmt json -out /dev/null ./...)
	measure "$work/v" "$hegui" vet --format json --fail-on none -q "$node"
	measure "$work/vs" "$hegui" vet --analyzers security --format json --fail-on none -q "$node"
done
report "gosec ./..." "$work/s"
report "hegui vet (go vet's analyzers + gosec)" "$work/v"
report "hegui vet --analyzers security (gosec)" "$work/vs"
printf "  ratio hegui vet/gosec: time %.2f\n" "$(echo "$(col 1 "$work/v" | median) / $(col 1 "$work/s" | median)" | bc -l)"
(cd "$node" && "$gosec" -quiet -fmt json -out "$work/gosec.json" ./... || true)
"$hegui" vet --analyzers security --format json --fail-on none -q -o "$work/vet.json" "$node"
echo "  gosec findings: gosec $(grep -c '"rule_id"' "$work/gosec.json"), hegui $(grep -c '"tool": "gosec"' "$work/vet.json")"
fi

if [[ $parts == *4* ]]; then
	restic=$(fetch github.com/restic/restic v0.18.0)
	versitygw=$(fetch github.com/versity/versitygw v1.8.0)
	echo
	echo "== 4. Larger projects: restic v0.18.0 ($(find "$restic" -name '*.go' | wc -l) Go files), versitygw v1.8.0, $rounds rounds"
	(cd "$restic" && "$govulncheck" -db "file://$db" -format json ./cmd/restic >/dev/null) # warm the build cache
	: >"$work/rg"
	: >"$work/rh"
	for _ in $(seq "$rounds"); do
		measure "$work/rg" "$govulncheck" -db "file://$db" -format json -C "$restic" ./cmd/restic
		measure "$work/rh" "$hegui" vuln --db "$db" --format json --fail-on none -q "$restic" ./cmd/restic
	done
	report "restic: govulncheck ./cmd/restic" "$work/rg"
	report "restic: hegui vuln ./cmd/restic (4 GiB budget)" "$work/rh"
	: >"$work/rb"
	measure "$work/rb" "$hegui" vuln --db "$db" --format json --fail-on none -q --memory-budget 2GiB -o "$work/restic-2g.json" "$restic" ./cmd/restic
	report "restic: hegui vuln --memory-budget 2GiB" "$work/rb"
	# The scan records: what was scanned how, and why.
	sed -n '/^  "scans": \[/,/^  \],/p' "$work/restic-2g.json" | grep -o '"\(precision\|note\|seconds\)": [^,]*' | sed 's/^/  /'
	echo "  (a scan outside a delivery builds the binary for its fallback: the compile is what the build cache lacks)"
	for src in "$restic" "$versitygw"; do
		name=$(basename "$src")
		(cd "$src" && "$gosec" -quiet -fmt json -out /dev/null ./... || true)
		: >"$work/$name-s"
		: >"$work/$name-v"
		for _ in $(seq "$rounds"); do
			(cd "$src" && measure "$work/$name-s" "$gosec" -quiet -fmt json -out /dev/null ./...)
			measure "$work/$name-v" "$hegui" vet --format json --fail-on none -q "$src"
		done
		report "$name: gosec ./..." "$work/$name-s"
		report "$name: hegui vet (go vet's analyzers + gosec)" "$work/$name-v"
		printf "  ratio hegui vet/gosec: time %.2f, memory %.2f\n" \
			"$(echo "$(col 1 "$work/$name-v" | median) / $(col 1 "$work/$name-s" | median)" | bc -l)" \
			"$(echo "$(col 2 "$work/$name-v" | median) / $(col 2 "$work/$name-s" | median)" | bc -l)"
		(cd "$src" && "$gosec" -quiet -fmt json -out "$work/$name-gosec.json" ./... || true)
		"$hegui" vet --analyzers security --format json --fail-on none -q -o "$work/$name-vet.json" "$src"
		echo "  gosec findings: gosec $(grep -c '"rule_id"' "$work/$name-gosec.json"), hegui $(grep -c '"tool": "gosec"' "$work/$name-vet.json")"
	done
fi
