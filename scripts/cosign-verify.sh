#!/usr/bin/env bash
# Checks the Sigstore bundles of a hegui delivery with cosign (v2 or v3),
# offline: no transparency log, no TUF, an empty trusted root, the ECDSA
# P-256 public key of the co-signer. This is how a team that already uses
# cosign verifies the binaries without hegui; "hegui verify" checks more
# (the SM2 manifest signature, every file, provenance and SBOMs).
#
# Usage: scripts/cosign-verify.sh DELIVERY KEY.pub
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DELIVERY KEY.pub" >&2; exit 2; }
dir=$1
key=$(realpath "$2")
command -v cosign >/dev/null || { echo "cosign is not installed" >&2; exit 1; }

# An empty trusted root: cosign then trusts nothing but the key given.
root=$(mktemp)
trap 'rm -f "$root"' EXIT
printf '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}\n' >"$root"
extra=()
if cosign version 2>&1 | grep -q 'GitVersion: *v2\.'; then
	extra=(--new-bundle-format) # cosign 2 reads v0.3 bundles only with this
fi

cd "$dir"
status=0
count=0
while IFS= read -r bundle; do
	binary=${bundle#cosign/}
	binary=${binary%.*.sigstore.json}
	if cosign verify-blob --key "$key" --bundle "$bundle" --trusted-root "$root" \
		--insecure-ignore-tlog=true "${extra[@]}" "$binary" >/dev/null 2>&1; then
		echo "ok    $binary"
	else
		echo "FAIL  $binary ($bundle)"
		status=1
	fi
	count=$((count + 1))
done < <(find cosign -name '*.sigstore.json' 2>/dev/null | sort)
[ "$count" -gt 0 ] || { echo "no Sigstore bundles in $dir/cosign (the delivery needs an ECDSA P-256 signer)" >&2; exit 1; }
exit $status
