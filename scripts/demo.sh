#!/usr/bin/env bash
# The README's main job on the built-in example: build examples/hello, make
# an SM2 certificate authority and a code-signing certificate, sign the
# binary, and verify it with hegui (and OpenSSL, when installed). Everything
# goes to out/demo; nothing is opened. Usage: scripts/demo.sh [HEGUI]
set -euo pipefail
cd "$(dirname "$0")/.."
hegui=$(realpath "${1:-bin/hegui}")
out=out/demo
rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")

# A throwaway keyring and password, so the demo runs without prompting.
export HEGUI_KEYRING="$out/keyring"
printf 'demo password, not for real keys\n' >"$out/demo.pass"
pw=(--password-file "$out/demo.pass")

echo "== build the example module (examples/hello)"
(cd examples/hello && CGO_ENABLED=0 go build -trimpath -o "$out/hello" .)

echo "== keys: an SM2 root key and an SM2 release key, in the keyring"
"$hegui" key generate --name demo-root "${pw[@]}"
"$hegui" key generate --name demo-release "${pw[@]}"

echo "== certificates: root CA, then a code-signing certificate through a CSR"
"$hegui" cert ca --key keyring:demo-root "${pw[@]}" --subject "/C=CN/O=hegui demo/CN=hegui Demo SM2 Root" --out "$out/root.pem"
"$hegui" cert csr --key keyring:demo-release "${pw[@]}" --subject "/C=CN/O=hegui demo/CN=Demo Release Signing" --out "$out/release.csr"
"$hegui" cert issue --ca "$out/root.pem" --ca-key keyring:demo-root "${pw[@]}" --csr "$out/release.csr" --profile code-signing --out "$out/release.pem"

echo "== sign the binary (SM2 with SM3) and verify it against the root"
"$hegui" sign --key keyring:demo-release "${pw[@]}" "$out/hello"
"$hegui" verify-blob --cert "$out/release.pem" --roots "$out/root.pem" "$out/hello"
"$hegui" digest "$out/hello" | tee "$out/SM3SUMS"

if command -v openssl >/dev/null; then
	echo "== the same checks with OpenSSL 3"
	"$hegui" key export keyring:demo-release --public --out "$out/release.pub"
	openssl dgst -sm3 -verify "$out/release.pub" -sigopt distid:1234567812345678 -signature "$out/hello.sig" "$out/hello"
	openssl verify -vfyopt distid:1234567812345678 -CAfile "$out/root.pem" "$out/release.pem"
fi

echo
echo "Demo complete. Results are in $out:"
echo "  hello, hello.sig       the signed example binary and its SM2 signature"
echo "  root.pem, release.pem  the demo CA and code-signing certificates"
echo "  SM3SUMS                the binary's SM3 digest"
echo "  keyring/               the demo keys (password in demo.pass; for demonstration only)"
