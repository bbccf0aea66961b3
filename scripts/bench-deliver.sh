#!/usr/bin/env bash
# hegui's main job next to the usual tools, on a real project fetched through
# the Go module proxy (default github.com/prometheus/node_exporter v1.12.1),
# in interleaved rounds. docs/PERFORMANCE.md quotes its output.
#
#   1. SBOM of the source tree: "hegui sbom DIR" vs "syft scan dir:DIR", and
#      the modules each reports against `go version -m` of the built binary.
#   2. The delivery: "hegui deliver" (three targets) with its stage times,
#      vs go build per target + syft per binary + go-licenses + cosign sign-blob,
#      first without the scans (vulnerabilities and static analysis off: the
#      work those four tools do), then complete, against the same tools plus
#      govulncheck and gosec.
#   3. Verification: "hegui verify" vs its floor, sha256sum plus an SM3 sum
#      (openssl dgst -sm3) of the same files.
#
# Needs syft, cosign, go-licenses (v2), govulncheck (golang.org/x/vuln v1.8.0)
# and gosec (v2.27.1) on PATH, or SYFT, COSIGN, GO_LICENSES, GOVULNCHECK and
# GOSEC set to them. Usage: scripts/bench-deliver.sh [HEGUI]
set -euo pipefail
hegui=$(realpath "${1:-bin/hegui}")
root=$(cd "$(dirname "$0")/.." && pwd)
module=${MODULE:-github.com/prometheus/node_exporter}
version=${VERSION:-v1.12.1}
rounds=${ROUNDS:-5}
syft=${SYFT:-syft}
cosign=${COSIGN:-cosign}
golicenses=${GO_LICENSES:-go-licenses}
govulncheck=${GOVULNCHECK:-govulncheck}
gosec=${GOSEC:-gosec}
export SYFT_CHECK_FOR_APP_UPDATE=false COSIGN_PASSWORD=""
work=$(mktemp -d)
keyring="$work/keyring" # hegui's development key, kept out of your keyring
export HEGUI_KEYRING="$keyring"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

ms() { # print the wall time of a command in milliseconds
	local start end
	start=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tools:   $("$hegui" version | head -1); syft $("$syft" version 2>/dev/null | sed -n 's/^Version: *//p'); cosign $("$cosign" version 2>&1 | sed -n 's/^GitVersion: *//p'); $(go version)"

# The subject, as a tagged git repository.
dir=$(go mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
src="$work/src/$(basename "$module")"
mkdir -p "$work/src"
cp -r "$dir" "$src"
chmod -R u+w "$src"
(cd "$src" && go mod download && git init -q && git add -A && git -c user.name=bench -c user.email=bench@example.com commit -qm "$version" && git tag "$version")
echo "subject: $module@$version, $(find "$src" -name '*.go' | wc -l) Go files"

# Ground truth: the modules linked into the binary.
(cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$work/truth" .)
go version -m "$work/truth" | awk '$1 == "dep" {print $2 "@" $3}' | sort >"$work/truth.txt"
echo "linked:  $(wc -l <"$work/truth.txt") modules in go version -m"

echo
echo "== 1. SBOM of the source tree ($rounds rounds)"
"$hegui" sbom "$src" -o "$work/warmup.spdx.json" # fills the licence cache once
gocache=$(go env GOCACHE)
: >"$work/h.txt"
: >"$work/hc.txt"
: >"$work/s.txt"
for _ in $(seq "$rounds"); do
	ms "$hegui" sbom "$src" -o "$work/hegui.spdx.json" >>"$work/h.txt"
	# A fresh XDG_CACHE_HOME empties hegui's licence cache; GOCACHE stays
	# pinned so the go command's own cache is as warm as in the other runs.
	ms env XDG_CACHE_HOME="$(mktemp -d -p "$work")" GOCACHE="$gocache" "$hegui" sbom "$src" -o "$work/hegui-cold.spdx.json" >>"$work/hc.txt"
	ms "$syft" scan "dir:$src" -q -o "spdx-json=$work/syft.spdx.json" >>"$work/s.txt"
done
h=$(median <"$work/h.txt")
hc=$(median <"$work/hc.txt")
s=$(median <"$work/s.txt")
echo "hegui sbom DIR (licence cache warm): $h ms   [$(paste -sd' ' "$work/h.txt")]"
echo "hegui sbom DIR (licence cache cold): $hc ms   [$(paste -sd' ' "$work/hc.txt")]"
echo "syft scan dir:DIR:                   $s ms   [$(paste -sd' ' "$work/s.txt")]"
echo "syft / hegui: $(awk -v a="$s" -v b="$h" 'BEGIN {printf "%.1f", a / b}')x warm, $(awk -v a="$s" -v b="$hc" 'BEGIN {printf "%.1f", a / b}')x cold"
python3 - "$work" "$module" <<'EOF'
import json, sys
work, main = sys.argv[1], sys.argv[2]
truth = set(open(f"{work}/truth.txt").read().split())
def spdx_modules(path, pick):
    doc = json.load(open(path))
    return {m for p in doc.get("packages", []) for m in [pick(p)] if m}
def hegui_pick(p):
    if p.get("primaryPackagePurpose") == "LIBRARY" and p["name"] != "stdlib":
        return p["name"] + "@" + p.get("versionInfo", "")
def syft_pick(p):
    for r in p.get("externalRefs", []):
        loc = r.get("referenceLocator", "")
        if r.get("referenceType") == "purl" and loc.startswith("pkg:golang/"):
            name = loc[len("pkg:golang/"):].split("?")[0].replace("%2F", "/")
            if not name.startswith(main) and not name.startswith("stdlib"):
                return name
for tool, path, pick in [("hegui", "hegui.spdx.json", hegui_pick), ("syft", "syft.spdx.json", syft_pick)]:
    got = spdx_modules(f"{work}/{path}", pick)
    print(f"{tool}: {len(got)} modules; {len(got & truth)} of {len(truth)} linked; {len(got - truth)} not linked")
EOF

echo
echo "== 2. The delivery, three targets"
export HEGUI_VULNDB="$work/vulndb"
"$hegui" vulndb import "$root/testdata/govulndb/osv.tar.gz" --modified 2026-08-21 -q >/dev/null
printf 'version: 1\nvulnerabilities:\n  scan: off\nstatic-analysis:\n  analyzers: off\n' >"$work/noscans.yaml"
"$hegui" deliver "$src" --output "$work/out" --force -q --json --policy-mode warn >"$work/warm.json" # warms both build caches
(cd "$work" && "$cosign" generate-key-pair >/dev/null 2>&1)
build3() {
	for t in linux/amd64 linux/arm64 linux/loong64; do
		(cd "$src" && GOOS=${t%/*} GOARCH=${t#*/} CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -buildid=" -o "$work/peer/${t%/*}_${t#*/}" .)
	done
}
syft6() {
	for t in linux_amd64 linux_arm64 linux_loong64; do
		"$syft" scan "file:$work/peer/$t" -q -o "spdx-json=$work/peer/$t.spdx.json"
		"$syft" scan "file:$work/peer/$t" -q -o "cyclonedx-json=$work/peer/$t.cdx.json"
	done
}
cosign3() {
	for t in linux_amd64 linux_arm64 linux_loong64; do
		"$cosign" sign-blob --key "$work/cosign.key" --tlog-upload=false --yes --new-bundle-format --bundle "$work/peer/$t.sigstore.json" "$work/peer/$t"
	done
}
licenses1() { (cd "$src" && "$golicenses" report . >"$work/peer/licenses.csv"); }
govulncheck1() { "$govulncheck" -db "file://$HEGUI_VULNDB" -format json -C "$src" . >"$work/peer/vulns.json"; }
gosec1() { (cd "$src" && "$gosec" -quiet -fmt sarif -out "$work/peer/gosec.sarif" ./... || true); }
mkdir -p "$work/peer"
for f in d df pb ps pc pl pv pg; do : >"$work/$f.txt"; done
for i in $(seq "$rounds"); do
	ms "$hegui" deliver "$src" --config "$work/noscans.yaml" --output "$work/out" --force -q --json >>"$work/d.txt"
	cp "$work/out/$(basename "$module")_$version/report.json" "$work/report$i.json"
	ms "$hegui" deliver "$src" --output "$work/out" --force -q --json --policy-mode warn >>"$work/df.txt"
	cp "$work/out/$(basename "$module")_$version/report.json" "$work/full$i.json"
	ms build3 >>"$work/pb.txt"
	ms syft6 >>"$work/ps.txt"
	ms cosign3 >>"$work/pc.txt"
	ms licenses1 >>"$work/pl.txt"
	ms govulncheck1 >>"$work/pv.txt"
	ms gosec1 >>"$work/pg.txt"
done
pb=$(median <"$work/pb.txt")
ps=$(median <"$work/ps.txt")
pc=$(median <"$work/pc.txt")
pl=$(median <"$work/pl.txt")
pv=$(median <"$work/pv.txt")
pg=$(median <"$work/pg.txt")
echo "hegui deliver without scans (build twice, checks, SBOMs, licences, provenance, signatures, report): $(median <"$work/d.txt") ms   [$(paste -sd' ' "$work/d.txt")]"
echo "hegui deliver complete (also vulnerabilities, static analysis, CBOM, policy, compliance):       $(median <"$work/df.txt") ms   [$(paste -sd' ' "$work/df.txt")]"
echo "peers: go build x3 $pb ms [$(paste -sd' ' "$work/pb.txt")], syft x6 $ps ms [$(paste -sd' ' "$work/ps.txt")],"
echo "       cosign sign-blob x3 $pc ms [$(paste -sd' ' "$work/pc.txt")], go-licenses report $pl ms [$(paste -sd' ' "$work/pl.txt")]"
echo "       govulncheck $pv ms [$(paste -sd' ' "$work/pv.txt")], gosec $pg ms [$(paste -sd' ' "$work/pg.txt")]"
echo "peers in sequence: $((pb + ps + pc + pl)) ms without the scanners, $((pb + ps + pc + pl + pv + pg)) ms with them (sums of medians);"
echo "  their work besides compiling is $(awk -v b="$pb" -v o="$((ps + pc + pl))" 'BEGIN {printf "%.0f", 100 * o / b}')% of their compile time"
python3 - "$work" "$rounds" <<'PYEOF'
import json, sys, statistics
work, rounds = sys.argv[1], int(sys.argv[2])
med = lambda xs: statistics.median(xs)
for label, walls_file, prefix in [("without scans", "d", "report"), ("complete", "df", "full")]:
    walls = [int(x) / 1000 for x in open(f"{work}/{walls_file}.txt").read().split()]
    rows = []
    for i in range(1, rounds + 1):
        st = {s["name"]: s["seconds"] for s in json.load(open(f"{work}/{prefix}{i}.json"))["stages"]}
        rows.append((st["build"], st["reproduce"], walls[i - 1] - st["build"] - st["reproduce"], st))
    b, r, o = med([x[0] for x in rows]), med([x[1] for x in rows]), med([x[2] for x in rows])
    print(f"hegui {label} (median): build {b:.2f} s, reproduce {r:.2f} s, everything else {o:.2f} s = {100*o/b:.0f}% of the build")
    names = [k for k in rows[0][3] if k not in ("build", "reproduce")]
    print("  timed in report.json: " + ", ".join(f"{k} {med([x[3][k] for x in rows]):.2f}" for k in names) + " (the rest: manifest, archive, start-up)")
PYEOF
echo
echo "== 3. Verification ($rounds rounds)"
delivery="$work/out/$(basename "$module")_$version"
pub=$(ls "$keyring"/*.pub)
: >"$work/v.txt"
: >"$work/f.txt"
floor() {
	(cd "$delivery" && find . -type f -print0 | xargs -0 sha256sum >/dev/null && find . -type f -print0 | xargs -0 openssl dgst -sm3 >/dev/null)
}
for _ in $(seq "$rounds"); do
	ms "$hegui" verify "$delivery" --pub "$pub" >>"$work/v.txt"
	ms floor >>"$work/f.txt"
done
v=$(median <"$work/v.txt")
f=$(median <"$work/f.txt")
echo "delivery: $(find "$delivery" -type f | wc -l) files, $(du -sh "$delivery" | cut -f1)"
echo "hegui verify:                  $v ms   [$(paste -sd' ' "$work/v.txt")]"
echo "floor (sha256sum + SM3 sum):   $f ms   [$(paste -sd' ' "$work/f.txt")]"
echo "verify / floor: $(awk -v a="$v" -v b="$f" 'BEGIN {printf "%.2f", a / b}')"
