#!/usr/bin/env bash
# hegui next to OpenSSL 3 on the same machine, in interleaved rounds, on the
# same file and key. Prints each round and the medians; docs/PERFORMANCE.md
# quotes its output. Usage: scripts/bench-openssl.sh [HEGUI]
#   ROUNDS=7 SIZE_MIB=1024 scripts/bench-openssl.sh bin/hegui
set -euo pipefail
hegui=$(realpath "${1:-bin/hegui}")
rounds=${ROUNDS:-7}
size_mib=${SIZE_MIB:-1024}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "openssl: $(openssl version)"
echo "hegui:   $("$hegui" version | head -1)"
echo "file:    ${size_mib} MiB of random data, in the page cache; $rounds rounds"
head -c $((size_mib << 20)) /dev/urandom >data
cat data >/dev/null
openssl genpkey -algorithm SM2 -out sm2.pem 2>/dev/null
openssl pkey -in sm2.pem -pubout -out sm2.pub
printf '0123456789abcdeffedcba9876543210' >sm4.hex
iv=000102030405060708090a0b0c0d0e0f
distid=distid:1234567812345678

ms() { # run a command, print its wall time in milliseconds
	local start end
	start=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

compare() { # name, openssl command, hegui command (as strings)
	local name=$1 ossl=$2 heg=$3 o h
	: >o.txt
	: >h.txt
	for _ in $(seq "$rounds"); do
		o=$(ms bash -c "$ossl")
		h=$(ms bash -c "$heg")
		echo "$o" >>o.txt
		echo "$h" >>h.txt
	done
	local om hm
	om=$(median <o.txt)
	hm=$(median <h.txt)
	printf '%-28s openssl %7s ms  hegui %7s ms  hegui speed / openssl speed = %s   (openssl: %s | hegui: %s)\n' \
		"$name" "$om" "$hm" "$(awk -v o="$om" -v h="$hm" 'BEGIN {printf "%.2f", o / h}')" \
		"$(paste -sd' ' o.txt)" "$(paste -sd' ' h.txt)"
}

compare "SM2 sign (SM3 over file)" \
	"openssl dgst -sm3 -sign sm2.pem -sigopt $distid -out o.sig data" \
	"$hegui sign --key sm2.pem -o h.sig data"
compare "SM2 verify (SM3 over file)" \
	"openssl dgst -sm3 -verify sm2.pub -sigopt $distid -signature o.sig data" \
	"$hegui verify-blob --pub sm2.pub -s h.sig data"
compare "SM3 digest" \
	"openssl dgst -sm3 data" \
	"$hegui digest data"
compare "SM4-CBC encrypt" \
	"openssl enc -sm4-cbc -K $(cat sm4.hex) -iv $iv -in data -out o.enc" \
	"$hegui encrypt --key-file sm4.hex --iv $iv --force --out h.enc data"
cmp o.enc h.enc && echo "SM4-CBC outputs identical"

echo
echo "SM2 operations per second on a 20-byte message (openssl speed, then go test -bench):"
openssl speed -elapsed -seconds 3 sm2 2>/dev/null | grep -E '^ +[0-9]+ bits SM2|sign/s' || true
