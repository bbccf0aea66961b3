#!/usr/bin/env bash
# hegui proxy next to the servers it stands in for, on the whole module graph
# of a real project, in interleaved rounds; docs/PERFORMANCE.md ("Module
# proxy") quotes its output.
#
#   1. Warm: `go mod download` of restic's module graph (v0.18.0: 228 go.mod
#      files, 88 zips), a fresh module cache every run, from
#        - the floor: GOPROXY=file://TREE, where TREE is a module cache's
#          cache/download tree (from a first pass of the same download) with
#          the checksum database's lookups and tiles under TREE/sumdb/;
#        - nginx (Debian's package) serving the same TREE;
#        - `hegui proxy serve --offline` from a home filled by `hegui proxy
#          warm HOME go.sum` (offline, so that nothing is fetched: every
#          answer comes from the store, checked as it is read).
#      Twice: with restic's go.sum, where the go command checks every file
#      against go.sum and asks the checksum database nothing, and without it,
#      where every module version is looked up in the checksum database
#      (GOSUMDB=sum.golang.org) through the server under test, which serves
#      the lookups and tiles too.
#   2. Load: BenchmarkServeZipPeers (internal/modproxy/bench_test.go), 200
#      concurrent clients on loopback fetching one cached zip over and over,
#      against the hegui and nginx of part 1: throughput and p50/p99, for
#      restic's median, 90th-percentile and largest zip.
#   3. Cold: the same download through a fresh hegui home (online: each file
#      fetched from the upstream and checked against the checksum database
#      before it is served) against the go command going straight to the
#      upstream, a fresh module cache each; with and without go.sum.
#
# The upstream is the first URL in `go env GOPROXY`; it must proxy the
# checksum database too. nginx is optional (apt-get install nginx-light): the
# nginx rows are left out, with a note, when it is not installed. Needs curl
# and /usr/bin/time. Every server listens on 127.0.0.1 only.
#
# Usage: scripts/bench-proxy.sh [HEGUI]
#   HEGUI: a hegui binary to measure (default: built from this tree)
#   RUNS=5 rounds per comparison; PARTS=123 selects the parts;
#   RESTIC=v0.18.0 the restic version whose graph is downloaded;
#   PREFETCH=N and PREFETCH_ZIPS=false the cold proxy's prefetch settings
#   (proxy.yaml; default: hegui's own), to compare;
#   PIN=1 gives the servers a CPU of their own (taskset: servers on CPU 1,
#   the go command on CPU 0 with GOMAXPROCS=2, so that it fetches as many
#   files at a time as unpinned), as a proxy on its own machine would have;
#   by default everything shares the machine's CPUs;
#   CACHE_DIR=/dev/shm where the go command's fresh module caches go. A
#   memory file system by default: on the shared build machine, extracting
#   the graph's 13,800 files to its virtual disk made every download about
#   three times as long (12.7 s against 4.4 s), and its spread from run to
#   run hid the servers' differences; CACHE_DIR=/tmp measures with the disk.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
parts=${PARTS:-123}
restic=${RESTIC:-v0.18.0}
work=$(mktemp -d)
cachedir=${CACHE_DIR:-/dev/shm}
[[ -d $cachedir && -w $cachedir ]] || cachedir=$work
caches=$(mktemp -d "$cachedir/bench-proxy.XXXXXX")
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	chmod -R u+w "$work" "$caches" 2>/dev/null || true
	rm -rf "$work" "$caches"
}
trap cleanup EXIT

if [[ $# -ge 1 ]]; then
	hegui=$(realpath "$1")
else
	go build -o "$work/hegui" ./cmd/hegui
	hegui=$work/hegui
fi
nginx=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
upstream=$(go env GOPROXY | tr ',|' '\n' | grep -m1 -E '^https?://' || true)
if [[ -z $upstream ]]; then
	echo "bench-proxy: go env GOPROXY names no proxy URL to use as the upstream" >&2
	exit 1
fi
if ! curl -fsS -o /dev/null "$upstream/sumdb/sum.golang.org/supported"; then
	echo "bench-proxy: the upstream (go env GOPROXY) does not proxy the checksum database" >&2
	exit 1
fi

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -v c="$1" '{print $c}' "$2"; }
# metric UNIT FILE: the values of one reported benchmark metric.
metric() { awk -v u="$1" '{for (i = 2; i <= NF; i++) if ($i == u) print $(i-1)}' "$2"; }
# cputicks PID: CPU time (user + system, clock ticks) of a process and its
# children (nginx's workers).
cputicks() {
	local p t=0
	for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		t=$((t + $(awk '{print $14 + $15}' /proc/"$p"/stat)))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)
# With PIN=1, the servers run on CPU 1 and the go command on CPU 0.
server_cpu=()
client_cpu=()
if [[ ${PIN:-0} == 1 ]]; then
	if [[ $(nproc) -lt 2 ]]; then
		echo "bench-proxy: PIN=1 needs two CPUs" >&2
		exit 1
	fi
	server_cpu=(taskset -c 1)
	client_cpu=(taskset -c 0 env GOMAXPROCS=2)
fi

# The project: restic's source, its go.sum kept aside.
src=$(go mod download -json "github.com/restic/restic@$restic" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
cp -r "$src" "$work/restic"
chmod -R u+w "$work/restic"
rm -f "$work/restic/go.work" "$work/restic/go.work.sum"
mv "$work/restic/go.sum" "$work/go.sum"

# download OUT PROXY SCENARIO [SERVERPID] [KEEP]: one `go mod download` of
# the project with a fresh GOPATH and module cache; SCENARIO "sum" gives it
# restic's go.sum, "nosum" none. Appends "wall go-CPU server-CPU" (seconds)
# to OUT; KEEP receives the module cache's cache/download tree.
download() {
	local out=$1 proxy=$2 scenario=$3 server=${4:-} keep=${5:-} home before=0 after=0
	home=$(mktemp -d "$caches/gohome.XXXXXX")
	rm -f "$work/restic/go.sum"
	[[ $scenario == sum ]] && cp "$work/go.sum" "$work/restic/go.sum"
	sync
	[[ -n $server ]] && before=$(cputicks "$server")
	if ! (cd "$work/restic" && HOME=$home GOPATH=$home/go GOMODCACHE=$home/go/pkg/mod GOCACHE=$work/gocache \
		GOENV=off GOPROXY=$proxy GOSUMDB=sum.golang.org GONOSUMDB='' GOPRIVATE='' GONOPROXY='' GOINSECURE='' \
		GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=local GOTELEMETRY=off \
		"${client_cpu[@]}" /usr/bin/time -f '%e %U %S' -o "$work/time" go mod download 2>"$work/go.err"); then
		echo "bench-proxy: go mod download ($scenario) from $proxy failed:" >&2
		cat "$work/go.err" >&2
		exit 1
	fi
	[[ -n $server ]] && after=$(cputicks "$server")
	tail -1 "$work/time" | awk -v s=$((after - before)) -v hz="$hz" '{printf "%s %.2f %.2f\n", $1, $2 + $3, s / hz}' >>"$out"
	if [[ -n $keep ]]; then
		mkdir -p "$keep"
		cp -r "$home/go/pkg/mod/cache/download/." "$keep/"
	fi
	chmod -R u+w "$home"
	rm -rf "$home"
}

# serve_hegui HOME [FLAGS]: start `hegui proxy serve` on a free loopback port;
# sets hegui_pid and hegui_url.
serve_hegui() {
	local home=$1
	shift
	rm -f "$work/url"
	GOPROXY=$upstream GOSUMDB=sum.golang.org "${server_cpu[@]}" "$hegui" proxy serve "$home" --listen 127.0.0.1:0 --url-file "$work/url" -q "$@" 2>>"$work/hegui.log" &
	hegui_pid=$!
	pids+=("$hegui_pid")
	for _ in $(seq 100); do
		[[ -s $work/url ]] && break
		sleep 0.1
	done
	if [[ ! -s $work/url ]]; then
		echo "bench-proxy: hegui proxy serve did not start:" >&2
		cat "$work/hegui.log" >&2
		exit 1
	fi
	hegui_url=$(cat "$work/url")
}
# stop PID: stop a server this script started.
stop() {
	local p rest=()
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in "${pids[@]}"; do
		[[ $p == "$1" ]] || rest+=("$p")
	done
	pids=("${rest[@]}")
}

# serve_nginx ROOT: start nginx serving ROOT on a free loopback port, with
# Debian's defaults where they matter (sendfile, tcp_nopush, keep-alive, an
# access log); sets nginx_pid and nginx_url.
serve_nginx() {
	local root=$1 dir=$work/nginx port
	mkdir -p "$dir/tmp"
	chmod 755 "$work" # nginx's workers run as nobody when started by root
	for _ in $(seq 20); do
		port=$((20000 + RANDOM % 20000))
		cat >"$dir/nginx.conf" <<-EOF
			worker_processes auto;
			pid $dir/nginx.pid;
			error_log $dir/error.log;
			events { worker_connections 1024; }
			http {
			    include /etc/nginx/mime.types;
			    default_type application/octet-stream;
			    sendfile on;
			    tcp_nopush on;
			    access_log $dir/access.log;
			    client_body_temp_path $dir/tmp/body;
			    proxy_temp_path $dir/tmp/proxy;
			    fastcgi_temp_path $dir/tmp/fastcgi;
			    uwsgi_temp_path $dir/tmp/uwsgi;
			    scgi_temp_path $dir/tmp/scgi;
			    server {
			        listen 127.0.0.1:$port;
			        root $root;
			    }
			}
		EOF
		"${server_cpu[@]}" "$nginx" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$dir/error.log" &
		nginx_pid=$!
		nginx_url=http://127.0.0.1:$port
		for _ in $(seq 50); do
			if curl -fsS -o /dev/null "$nginx_url/sumdb/sum.golang.org/supported" 2>/dev/null; then
				pids+=("$nginx_pid")
				return
			fi
			kill -0 "$nginx_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
	done
	echo "bench-proxy: nginx did not start:" >&2
	cat "$dir/error.log" >&2
	exit 1
}

# report LABEL FILE: the medians of a run file.
report() {
	printf "  %-30s %7.2f s   go CPU %6.2f s   server CPU %5.2f s   (wall: %s)\n" "$1" \
		"$(col 1 "$2" | median)" "$(col 2 "$2" | median)" "$(col 3 "$2" | median)" "$(col 1 "$2" | tr '\n' ' ')"
}
# ratio LABEL A B TARGET: hegui's wall time over a peer's, as the median of
# the per-round ratios and as the ratio of the medians.
ratio() {
	local per
	per=$(paste -d' ' <(col 1 "$2") <(col 1 "$3") | awk '{printf "%.2f\n", $1 / $2}')
	printf "  %-30s median of per-round ratios %.2f, ratio of medians %.2f   (target %s; rounds: %s)\n" "$1" \
		"$(echo "$per" | median)" "$(echo "$(col 1 "$2" | median) / $(col 1 "$3" | median)" | bc -l)" "$4" "$(echo "$per" | tr '\n' ' ')"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
nginx_version="no nginx (apt-get install nginx-light): its rows are left out"
[[ -n $nginx ]] && nginx_version=$("$nginx" -v 2>&1 | sed 's/.*: //')
echo "tools:   $("$hegui" version | head -1) (tree $(git rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")); $(go version); $nginx_version"
echo "module caches: $caches ($(stat -f -c %T "$caches"))"
if [[ ${PIN:-0} == 1 ]]; then
	echo "pinned: servers on CPU 1, the go command on CPU 0 (GOMAXPROCS=2)"
fi

home=$work/home
tree=$work/tree
if [[ $parts == *1* || $parts == *2* ]]; then
	GOPROXY=$upstream GOSUMDB=sum.golang.org "$hegui" proxy warm -q "$home" "$work/go.sum" >/dev/null
	serve_hegui "$home" --offline
	# The floor's tree: the go command's own downloads through hegui (with
	# and without go.sum, the latter twice, as the order of the checksum
	# database's lookups decides which partial tiles it reads), and every
	# lookup and tile hegui verified.
	download "$work/prep" "$hegui_url" sum "" "$tree"
	download "$work/prep" "$hegui_url" nosum "" "$tree"
	download "$work/prep" "$hegui_url" nosum "" "$tree"
	cp -r "$home/store/sumdb/." "$tree/sumdb/"
	touch "$tree/sumdb/sum.golang.org/supported"
	if [[ -n $nginx ]]; then
		serve_nginx "$tree"
	fi
	echo "subject: github.com/restic/restic@$restic: $(find "$tree" -name '*.mod' | wc -l) go.mod files, $(find "$tree" -name '*.zip' | wc -l) zips ($(find "$tree" -name '*.zip' -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s / 1e6}') MB); upstream from go env GOPROXY"
fi

if [[ $parts == *1* ]]; then
	servers=(floor hegui)
	[[ -n $nginx ]] && servers=(floor nginx hegui)
	for s in "${servers[@]}"; do # one untimed run each: the page cache, and a check that every server has every file
		for scenario in sum nosum; do
			case $s in
			floor) download "$work/prep" "file://$tree" $scenario ;;
			nginx) download "$work/prep" "$nginx_url" $scenario "$nginx_pid" ;;
			hegui) download "$work/prep" "$hegui_url" $scenario "$hegui_pid" ;;
			esac
		done
	done
	for ((r = 0; r < runs; r++)); do
		for scenario in sum nosum; do
			for ((i = 0; i < ${#servers[@]}; i++)); do # a different server first each round
				s=${servers[$(((i + r) % ${#servers[@]}))]}
				case $s in
				floor) download "$work/w.$scenario.floor" "file://$tree" $scenario ;;
				nginx) download "$work/w.$scenario.nginx" "$nginx_url" $scenario "$nginx_pid" ;;
				hegui) download "$work/w.$scenario.hegui" "$hegui_url" $scenario "$hegui_pid" ;;
				esac
			done
		done
	done
	for scenario in sum nosum; do
		echo
		if [[ $scenario == sum ]]; then
			echo "== 1. Warm, with restic's go.sum (no checksum-database requests), $runs rounds, medians"
		else
			echo "== 1. Warm, without go.sum (every version looked up in the checksum database through the server), $runs rounds, medians"
		fi
		report "file:// (floor)" "$work/w.$scenario.floor"
		if [[ -n $nginx ]]; then
			report "nginx" "$work/w.$scenario.nginx"
		fi
		report "hegui proxy serve --offline" "$work/w.$scenario.hegui"
		ratio "hegui / floor" "$work/w.$scenario.hegui" "$work/w.$scenario.floor" "<= 1.2"
		if [[ -n $nginx ]]; then
			ratio "hegui / nginx" "$work/w.$scenario.hegui" "$work/w.$scenario.nginx" "<= 1.0"
		fi
	done
	echo
	echo "  requests answered by hegui, all runs: $(curl -fsS "$hegui_url/metrics" | awk '/^hegui_proxy_requests_total/ {sub(/hegui_proxy_requests_total/, ""); printf "%s ", $0}')"
	if [[ -n $nginx ]]; then
		echo "  requests answered by nginx, all runs, by status: $(awk '{print $9}' "$work/nginx/access.log" | sort | uniq -c | awk '{printf "%s: %s  ", $2, $1}')"
		awk '$9 != 200 {print "    " $9 " " $7}' "$work/nginx/access.log" | sort | uniq -c
	fi
fi

if [[ $parts == *2* ]]; then
	echo
	echo "== 2. Load: 200 concurrent clients on loopback, one cached zip, $runs rounds, medians"
	go test -c -o "$work/modproxy.test" ./internal/modproxy
	peers=("hegui=$hegui_url${nginx:+ nginx=$nginx_url}" "${nginx:+nginx=$nginx_url }hegui=$hegui_url") # either first, by turns
	# restic's median, 90th-percentile and largest zip, with as many requests
	# as make each run last a few seconds.
	mapfile -t zips < <(cd "$tree" && find . -name '*.zip' -printf '%s %P\n' | sort -n | awk '{z[NR] = $2} END {print z[int((NR + 1) / 2)]; print z[int(NR * 0.9)]; print z[NR]}')
	counts=(20000 2000 200)
	for ((r = 0; r < runs; r++)); do # -test.count would run each server's rounds back to back
		for ((i = 0; i < 3; i++)); do
			HEGUI_BENCH_ZIP_PEERS=${peers[$((r % 2))]} HEGUI_BENCH_ZIP_PATHS=/${zips[$i]} "$work/modproxy.test" -test.run '^$' \
				-test.bench 'BenchmarkServeZipPeers' -test.benchtime "${counts[$i]}x" >"$work/out" 2>&1 || {
				cat "$work/out" >&2
				exit 1
			}
			cat "$work/out" >>"$work/load.$i"
		done
	done
	for ((i = 0; i < 3; i++)); do
		echo "  ${zips[$i]} ($(stat -c %s "$tree/${zips[$i]}") bytes), ${counts[$i]} requests a run:"
		for s in hegui nginx; do
			grep "^BenchmarkServeZipPeers/.*/server=$s-" "$work/load.$i" >"$work/one" || continue
			printf "    %-6s %6.0f MB/s   p50 %8.1f ms   p99 %8.1f ms   peak clients %s   (MB/s runs: %s)\n" "$s" \
				"$(metric MB/s "$work/one" | median)" "$(metric p50-ms "$work/one" | median)" "$(metric p99-ms "$work/one" | median)" \
				"$(metric peak-clients "$work/one" | median)" "$(metric MB/s "$work/one" | tr '\n' ' ')"
			metric MB/s "$work/one" >"$work/mbps.$s"
		done
		if [[ -n $nginx ]]; then
			per=$(paste -d' ' "$work/mbps.hegui" "$work/mbps.nginx" | awk '{printf "%.2f\n", $1 / $2}')
			echo "    hegui / nginx throughput: median of per-round ratios $(echo "$per" | median)   (rounds: $(echo "$per" | tr '\n' ' '))"
		fi
	done
fi
if [[ $parts == *1* || $parts == *2* ]]; then
	stop "$hegui_pid"
	if [[ -n $nginx ]]; then
		stop "$nginx_pid"
	fi
fi

if [[ $parts == *3* ]]; then
	for ((r = 0; r < runs; r++)); do
		for scenario in sum nosum; do
			for ((i = 0; i < 2; i++)); do
				if (((i + r) % 2 == 0)); then
					download "$work/c.$scenario.direct" "$upstream" $scenario
				else
					mkdir -p "$work/cold-home"
					: >"$work/cold-home/proxy.yaml"
					if [[ -n ${PREFETCH:-} ]]; then
						echo "prefetch: $PREFETCH" >>"$work/cold-home/proxy.yaml"
					fi
					if [[ -n ${PREFETCH_ZIPS:-} ]]; then
						echo "prefetch-zips: $PREFETCH_ZIPS" >>"$work/cold-home/proxy.yaml"
					fi
					serve_hegui "$work/cold-home"
					download "$work/c.$scenario.hegui" "$hegui_url" $scenario "$hegui_pid"
					curl -fsS "$hegui_url/metrics" >"$work/metrics"
					sed -n 's/^hegui_proxy_upstream_fetch_seconds_\(sum\|count\){kind="\([a-z]*\)"} \(.*\)/\2 \1 \3/p' "$work/metrics" >>"$work/c.fetch"
					sed -n 's/^hegui_proxy_prefetches_total{kind="\([a-z]*\)",outcome="\([a-z]*\)"} \(.*\)/\1 \2 \3/p' "$work/metrics" >>"$work/c.prefetch"
					stop "$hegui_pid"
					rm -rf "$work/cold-home"
				fi
			done
		done
	done
	for scenario in sum nosum; do
		echo
		echo "== 3. Cold, $([[ $scenario == sum ]] && echo "with go.sum" || echo "without go.sum"), $runs rounds, medians"
		report "upstream directly" "$work/c.$scenario.direct"
		report "hegui proxy serve, empty home" "$work/c.$scenario.hegui"
		ratio "hegui / upstream" "$work/c.$scenario.hegui" "$work/c.$scenario.direct" "<= 1.1"
	done
	# What a file costs hegui on a miss (fetch, verification, storing), from
	# its metrics, next to one plain request to the upstream on a kept-alive
	# connection (the .info of ten of restic's modules, the first, which
	# opens the connection, left out).
	echo
	printf "  hegui's upstream fetches, mean per file (all cold runs):"
	for kind in info mod zip; do
		awk -v k=$kind '$1 == k && $2 == "sum" {s += $3} $1 == k && $2 == "count" {n += $3} END {if (n) printf "  %s %.0f ms (%d)", k, 1000 * s / n, n}' "$work/c.fetch"
	done
	echo
	if [[ -s $work/c.prefetch ]]; then
		printf "  files prefetched, per cold run:"
		awk '{n[$1 " " $2] += $3} END {for (k in n) printf "  %s %.0f", k, n[k] / '"$runs"' / 2}' "$work/c.prefetch"
		echo
	fi
	mapfile -t infos < <(grep -v '/go.mod ' "$work/go.sum" | head -10 | sed 's/[A-Z]/!\L&/g' | awk -v u="$upstream" '{print u "/" $1 "/@v/" $2 ".info"}')
	args=()
	for u in "${infos[@]}"; do
		args+=(-o /dev/null "$u")
	done
	echo "  one request to the upstream on a kept-alive connection: median $(curl -sS -w '%{time_total}\n' "${args[@]}" | tail -n +2 | median | awk '{printf "%.0f", 1000 * $1}') ms"
fi
