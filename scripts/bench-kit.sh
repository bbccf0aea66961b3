#!/usr/bin/env bash
# hegui kit on a real project's module graph; docs/PERFORMANCE.md ("Go
# environment kits") quotes its output.
#
#   1. Build: a kit of this machine's Go toolchain and the modules restic's
#      go.sum names (v0.18.0: 116 zips and 131 go.mod files alone), from a
#      warm `hegui proxy serve --offline`, against what the issue names as
#      the floor: `go mod download` of the same module versions (its zip
#      lines; the go command has no way to fetch a go.mod alone, so the
#      floor leaves those out) from the same proxy into a fresh module
#      cache, plus copying the toolchain zip. Interleaved rounds.
#   2. Recovery: `hegui kit install`, `source DIR/activate`, and the first
#      offline `go build ./cmd/restic` (GOPROXY=off, an empty HOME: no module
#      or build cache), each phase timed, from a kit built once with
#      --prebuild (which carries the build cache), installed as by default
#      (modules extracted) and with --zips-only in each round; one install
#      without a build cache.
#   3. Verify: `hegui kit verify` against hashing every file of the kit
#      once, with sha256sum and with openssl's SM3 (the two digests the
#      manifest holds), on the installed files.
#
# Usage: scripts/bench-kit.sh [HEGUI]   (default: built from this tree)
#   RUNS=5 rounds; PARTS=123 selects the parts; RESTIC=v0.18.0;
#   WORK=a directory with room for 3 GB a round (rounds are deleted at the end)
#   (default: a temporary one in $TMPDIR or /tmp; WORK=/dev/shm measures
#   without the disk).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
parts=${PARTS:-123}
restic=${RESTIC:-v0.18.0}
work=$(mktemp -d "${WORK:-${TMPDIR:-/tmp}}/bench-kit.XXXXXX")
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

hegui=${1:-}
if [[ -z $hegui ]]; then
	hegui=$work/hegui
	go build -o "$hegui" ./cmd/hegui
fi
gover=$(go env GOVERSION)
upstream=$(go env GOPROXY | cut -d, -f1)
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tools:   $("$hegui" version | head -1); $(go version); $(openssl version)"
echo "subject: github.com/restic/restic@$restic; toolchain $gover; upstream $upstream"

# restic's source, through the module proxy.
src=$(GOFLAGS=-mod=mod go mod download -json "github.com/restic/restic@$restic" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
cp -r "$src" "$work/restic"
chmod -R u+w "$work/restic"
"$hegui" key generate --out "$work/k.key" --no-password >/dev/null 2>&1

# A warm proxy holding restic's graph and the toolchain.
home=$work/goproxy
mkdir -p "$home"
tc="golang.org/toolchain@v0.0.1-$gover.$(go env GOOS)-$(go env GOARCH)"
printf '%s\n' "$tc" >"$work/toolchain.txt"
GOPROXY=$upstream "$hegui" proxy warm "$home" "$work/restic/go.sum" "$work/toolchain.txt" >/dev/null 2>&1
"$hegui" proxy serve "$home" --offline --listen 127.0.0.1:0 --url-file "$work/url" >"$work/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/url ]] && break; sleep 0.1; done
proxy=$(cat "$work/url")
tczip=$(find "$home" -name "*$gover*.zip" | head -1)

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
secs() { /usr/bin/time -f %e -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }; cat "$work/t"; }

# The floor downloads exactly the module versions whose zips the kit
# carries: the go.sum lines that are not "/go.mod" lines.
awk '$2 !~ /\/go.mod$/ {print $1 "@" $2}' "$work/restic/go.sum" | sort -u >"$work/zips.txt"
mkdir -p "$work/empty"

if [[ $parts == *1* ]]; then
echo
echo "== 1. Build a kit from a warm proxy, $runs rounds ($(wc -l <"$work/zips.txt") zips)"
: >"$work/floor"; : >"$work/build"
for i in $(seq "$runs"); do
	rm -rf "$work/gp" "$work/copy" "$work/kit.tar.zst"
	mkdir -p "$work/copy"
	t1=$(cd "$work/empty" && secs env GOPATH="$work/gp" GOMODCACHE="$work/gp/pkg/mod" GOPROXY="$proxy" GOFLAGS=-mod=mod GOSUMDB=sum.golang.org GONOSUMDB= xargs -a "$work/zips.txt" go mod download)
	t2=$(secs cp "$tczip" "$work/copy/")
	echo "$t1 $t2" | awk '{print $1+$2}' >>"$work/floor"
	chmod -R u+w "$work/gp"; rm -rf "$work/gp"
	secs env GOPROXY="$proxy" GOSUMDB=sum.golang.org GONOSUMDB= "$hegui" kit build --go "$gover" --modules "$work/restic" --key "$work/k.key" --out "$work/kit.tar.zst" >>"$work/build"
done
f=$(median <"$work/floor"); b=$(median <"$work/build")
echo "  go mod download + cp toolchain   $f s   (rounds: $(tr '\n' ' ' <"$work/floor"))"
echo "  hegui kit build                  $b s   (rounds: $(tr '\n' ' ' <"$work/build"))"
echo "  kit build / floor                $(paste "$work/build" "$work/floor" | awk '{print $1/$2}' | median)  (median of per-round ratios)"
echo "  kit: $(du -h "$work/kit.tar.zst" | cut -f1), $("$hegui" kit verify "$work/kit.tar.zst" --pub "$work/k.pub" | head -1)"
fi

if [[ $parts == *2* || $parts == *3* ]]; then
echo
echo "== 2. Recovery: install + activate + first offline go build ./cmd/restic"
if [[ $parts == *2* ]]; then
	"$hegui" kit build --go "$gover" --modules "$work/restic" --key "$work/k.key" --out "$work/kit.tar.zst" --force >/dev/null 2>&1
	rm -rf "$work/env" "$work/home"; mkdir -p "$work/home"
	ti=$(secs "$hegui" kit install "$work/kit.tar.zst" "$work/env" --pub "$work/k.pub")
	tb=$(cd "$work/restic" && secs env -i HOME="$work/home" PATH=/usr/bin:/bin GOPROXY=off bash -c ". '$work/env/activate' && go build -o /dev/null ./cmd/restic")
	echo "  without a build cache (1 round): install $ti s, activate + go build $tb s"
	chmod -R u+w "$work/env"; rm -rf "$work/env"
fi
tp=$(secs env GOPROXY="$proxy" GOSUMDB=sum.golang.org GONOSUMDB= "$hegui" kit build --go "$gover" --modules "$work/restic" --prebuild "$work/restic" --key "$work/k.key" --out "$work/kit-prebuilt.tar.zst")
echo "  hegui kit build --prebuild: $tp s, $(du -h "$work/kit-prebuilt.tar.zst" | cut -f1)"
: >"$work/ctl"
for mode in extract zips; do : >"$work/install-$mode"; : >"$work/gobuild-$mode"; : >"$work/total-$mode"; done
# Each round installs into a new directory and nothing is deleted until the
# end: on ext4, creating files right after deleting many is much slower
# (the allocator skips recently freed inodes), and a round would measure the
# previous round's clean-up. Before each round, copying this machine's
# GOROOT (some 15,000 files) into the same parent directory shows the file system's state: in
# memory or on a quiet disk it takes about a second.
for i in $(seq "$runs"); do
	mkdir -p "$work/rounds/$i"
	sync
	secs cp -a "$(go env GOROOT)" "$work/rounds/$i/ctl" >>"$work/ctl"
	for mode in extract zips; do
		flag=; [[ $mode == zips ]] && flag=--zips-only
		env=$work/rounds/$i/$mode
		rm -rf "$work/home"; mkdir -p "$work/home"
		ti=$(secs "$hegui" kit install "$work/kit-prebuilt.tar.zst" "$env" --pub "$work/k.pub" $flag)
		tb=$(cd "$work/restic" && secs env -i HOME="$work/home" PATH=/usr/bin:/bin GOPROXY=off bash -c ". '$env/activate' && go build -o /dev/null ./cmd/restic")
		echo "$ti" >>"$work/install-$mode"; echo "$tb" >>"$work/gobuild-$mode"; echo "$ti $tb" | awk '{print $1+$2}' >>"$work/total-$mode"
	done
done
echo "  cp -a of a GOROOT (the file system's state) $(median <"$work/ctl") s   (rounds: $(tr '\n' ' ' <"$work/ctl"))"
for mode in extract zips; do
	[[ $mode == extract ]] && echo "  hegui kit install (modules extracted, the default):" || echo "  hegui kit install --zips-only (the go command extracts):"
	echo "    install                        $(median <"$work/install-$mode") s   (rounds: $(tr '\n' ' ' <"$work/install-$mode"))"
	echo "    activate + go build ./cmd/restic $(median <"$work/gobuild-$mode") s   (rounds: $(tr '\n' ' ' <"$work/gobuild-$mode"))"
	echo "    recovery in all                $(median <"$work/total-$mode") s   (goal: under 20 s; rounds: $(tr '\n' ' ' <"$work/total-$mode"))"
done
ln -sfn "$work/rounds/1/zips" "$work/env"
fi

if [[ $parts == *3* ]]; then
echo
echo "== 3. Verify against hashing every file once, $runs rounds"
(cd "$work/env" && python3 -c 'import json; [print(f["path"]) for f in json.load(open("manifest.json"))["files"]]') >"$work/files"
: >"$work/verify"; : >"$work/sha"; : >"$work/sm3"
for i in $(seq "$runs"); do
	secs "$hegui" kit verify "$work/kit-prebuilt.tar.zst" --pub "$work/k.pub" >>"$work/verify"
	(cd "$work/env" && secs xargs -a "$work/files" -d '\n' sha256sum) >>"$work/sha"
	(cd "$work/env" && secs xargs -a "$work/files" -d '\n' openssl dgst -sm3) >>"$work/sm3"
done
v=$(median <"$work/verify"); s=$(median <"$work/sha"); m=$(median <"$work/sm3")
echo "  hegui kit verify (gunzip, tar, SHA-256 and SM3 of every file, signature)  $v s   (rounds: $(tr '\n' ' ' <"$work/verify"))"
echo "  sha256sum of every file          $s s"
echo "  openssl dgst -sm3 of every file  $m s"
echo "  verify / (sha256sum + sm3)       $(echo "$v $s $m" | awk '{printf "%.2f", $1/($2+$3)}')"
echo "  verify / slower of the two       $(echo "$v $s $m" | awk '{x=($2>$3)?$2:$3; printf "%.2f", $1/x}')"
fi
