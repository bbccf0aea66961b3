#!/usr/bin/env bash
# The audit log's benchmarks (internal/logserver/bench_test.go) in
# interleaved rounds; docs/PERFORMANCE.md quotes its output.
#
#   1. Bulk appends of N events (~130-byte canonical events): raw Tessera
#      (POSIX driver, in process, its default batching) vs hegui's HTTP write
#      API (NDJSON batches of 1,000 from 4 clients; validation and
#      canonicalisation included) with the default log.yaml, one of each per
#      round, so both see the same machine state.
#   2. 64 writers, each waiting for its durable index before the next event:
#      p50 and p99 latency and throughput, for each batching setting.
#   3. Proofs and full verification on a log of a million entries (built once
#      under $TMPDIR/hegui-bench-log-1m; about a minute).
#
# Usage: scripts/bench-log.sh    (ROUNDS=5, N=100000, PARTS=123)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
n=${N:-100000}
parts=${PARTS:-123}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/logserver.test" ./internal/logserver/ >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# metric FILE UNIT: the values of one reported metric, one per line.
metric() { awk -v u="$2" '{for (i = 2; i <= NF; i++) if ($i == u) print $(i-1)}' "$1"; }
bench() { # pattern benchtime: run one benchmark binary invocation, print its result lines
	(cd internal/logserver && "$work/logserver.test" -test.run '^$' -test.bench "$1" -test.benchtime "$2" 2>/dev/null) | grep '^Benchmark'
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); $(go version)"

if [[ $parts == *1* ]]; then
	echo
	echo "1. bulk append of $n events, $rounds interleaved rounds (entries/s)"
	for ((r = 1; r <= rounds; r++)); do
		bench 'BulkAppend/tessera$' "${n}x" >>"$work/raw"
		bench 'BulkAppend/hegui/batch=256/10ms$' "${n}x" >>"$work/hegui"
	done
	raw=$(metric "$work/raw" entries/s | median)
	heg=$(metric "$work/hegui" entries/s | median)
	printf "  %-40s %8.0f   (runs: %s)\n" "raw Tessera" "$raw" "$(metric "$work/raw" entries/s | tr '\n' ' ')"
	printf "  %-40s %8.0f   (runs: %s)\n" "hegui log (HTTP, default log.yaml)" "$heg" "$(metric "$work/hegui" entries/s | tr '\n' ' ')"
	ratios=$(paste <(metric "$work/hegui" entries/s) <(metric "$work/raw" entries/s) | awk '{printf "%.2f\n", $1 / $2}')
	echo "  hegui / raw: median of the per-round ratios $(echo "$ratios" | median)   (rounds: $(echo "$ratios" | tr '\n' ' '))"
fi

if [[ $parts == *2* ]]; then
	echo
	echo "2. 64 synchronous writers, 20000 events, $rounds rounds (medians)"
	for ((r = 1; r <= rounds; r++)); do
		bench 'AppendLatency64' 20000x >>"$work/latency"
	done
	for b in $(awk '{print $1}' "$work/latency" | sort -u); do
		grep "^$b " "$work/latency" >"$work/one"
		printf "  %-52s p50 %6.1f ms   p99 %6.1f ms   %6.0f entries/s   (p99 runs: %s)\n" "${b#BenchmarkAppendLatency64/}" \
			"$(metric "$work/one" p50-ms | median)" "$(metric "$work/one" p99-ms | median)" "$(metric "$work/one" entries/s | median)" \
			"$(metric "$work/one" p99-ms | tr '\n' ' ')"
	done
fi

if [[ $parts == *3* ]]; then
	echo
	echo "3. a log of 1,000,000 entries"
	bench 'Proofs' 2000x | tee "$work/proofs" | sed 's/^/  /'
	bench 'VerifyMillion' 3x | tee "$work/verify" | sed 's/^/  /'
fi
