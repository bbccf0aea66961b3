#!/usr/bin/env bash
# mask against bytedance/godlp v1.2.15 (the Go DLP engine with Chinese
# rules), side by side in one program: precision and recall per kind on
# the labelled corpus the repository ships (mask/testdata/corpus.jsonl),
# and throughput on the same text, with godlp's default rules. godlp is
# pinned explicitly: the module proxy refuses its @latest. docs/mask.md
# and docs/PERFORMANCE.md ("Masking") quote the output.
#
# Usage: scripts/bench-mask.sh     (ROUNDS=5 timing rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
rounds=${ROUNDS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-mask.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat >"$work/main.go" <<'EOF'
// The side-by-side program of scripts/bench-mask.sh.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	dlp "github.com/bytedance/godlp"

	"hegui.dev/hegui/mask"
)

type label struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

type line struct {
	Text   string  `json:"text"`
	Labels []label `json:"labels"`
}

// godlpKinds maps godlp's info types to mask's kinds; others (names,
// addresses, domains...) are outside the corpus's labels and not counted.
var godlpKinds = map[string]string{
	"PHONE": "mobile", "EMAIL": "email", "CHINA_IDCARD": "idcard", "DEBIT_CARD": "bankcard",
	"CREDIT_CARD": "bankcard", "BANK_NUMBER": "bankcard", "CHINA_PASSPORT": "passport", "PASSPORT": "passport",
	"IP": "ip", "CAR_NUMBER": "plate",
}

type counts struct{ tp, fp, fn int }

func score(lines []line, find func(string) []label) map[string]*counts {
	per := map[string]*counts{}
	get := func(k string) *counts {
		if per[k] == nil {
			per[k] = &counts{}
		}
		return per[k]
	}
	for _, l := range lines {
		want := slices.Clone(l.Labels)
		for _, f := range find(l.Text) {
			if i := slices.Index(want, f); i >= 0 {
				get(f.Kind).tp++
				want = slices.Delete(want, i, i+1)
			} else {
				get(f.Kind).fp++
			}
		}
		for _, w := range want {
			get(w.Kind).fn++
		}
	}
	return per
}

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	rounds, _ := strconv.Atoi(os.Args[2])
	var lines []line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			panic(err)
		}
		lines = append(lines, l)
	}
	eng, err := dlp.NewEngine("bench")
	if err != nil {
		panic(err)
	}
	if err := eng.ApplyConfigDefault(); err != nil {
		panic(err)
	}
	scanner := mask.NewScanner()
	heguiFind := func(text string) []label {
		var out []label
		for _, f := range scanner.Find(text) {
			out = append(out, label{string(f.Kind), f.Value})
		}
		return out
	}
	godlpFind := func(text string) []label {
		rs, err := eng.Detect(text)
		if err != nil {
			panic(err)
		}
		var out []label
		for _, r := range rs {
			if k, ok := godlpKinds[r.InfoType]; ok {
				out = append(out, label{k, r.Text})
			}
		}
		return out
	}
	h, g := score(lines, heguiFind), score(lines, godlpFind)
	var kinds []string
	for k := range h {
		kinds = append(kinds, k)
	}
	for k := range g {
		if h[k] == nil {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	pr := func(c *counts) string {
		if c == nil {
			c = &counts{}
		}
		p := float64(c.tp) / float64(max(c.tp+c.fp, 1))
		r := float64(c.tp) / float64(max(c.tp+c.fn, 1))
		return fmt.Sprintf("%.3f / %.3f", p, r)
	}
	fmt.Printf("%d labelled lines; precision / recall per kind\n", len(lines))
	fmt.Printf("  %-9s  %-15s  %s\n", "kind", "hegui mask", "godlp v1.2.15")
	for _, k := range kinds {
		fmt.Printf("  %-9s  %-15s  %s\n", k, pr(h[k]), pr(g[k]))
	}

	// Throughput: the corpus's text, masked in 4 KiB pieces (godlp's
	// log processor is meant for 1 KB inputs; its limit is 1 MB).
	var all strings.Builder
	for _, l := range lines {
		all.WriteString(l.Text)
		all.WriteByte('\n')
	}
	var pieces []string
	text := all.String()
	for len(text) > 0 {
		n := min(4096, len(text))
		for n < len(text) && text[n-1] != '\n' {
			n++
		}
		pieces = append(pieces, text[:n])
		text = text[n:]
	}
	size := float64(all.Len()) / (1 << 20)
	var ht, gt []float64
	for range rounds {
		start := time.Now()
		for range 100 {
			for _, p := range pieces {
				mask.String(p)
			}
		}
		ht = append(ht, 100*size/time.Since(start).Seconds())
		start = time.Now()
		for _, p := range pieces {
			if _, _, err := eng.Deidentify(p); err != nil {
				panic(err)
			}
		}
		gt = append(gt, size/time.Since(start).Seconds())
	}
	med := func(v []float64) float64 { s := slices.Clone(v); slices.Sort(s); return s[len(s)/2] }
	var ratios []float64
	for i := range ht {
		ratios = append(ratios, ht[i]/gt[i])
	}
	fmt.Printf("\nthroughput, %.0f KiB in 4 KiB pieces, %d rounds (MB/s, median)\n", size*1024, rounds)
	fmt.Printf("  hegui mask.String       %8.2f  %v\n", med(ht), round(ht))
	fmt.Printf("  godlp Deidentify        %8.3f  %v\n", med(gt), round(gt))
	fmt.Printf("  hegui / godlp           %8.0fx (median of per-round ratios)\n", med(ratios))
}

func round(v []float64) []string {
	var out []string
	for _, x := range v {
		out = append(out, strconv.FormatFloat(x, 'g', 3, 64))
	}
	return out
}
EOF
cd "$work"
go mod init benchmask >/dev/null 2>&1
go mod edit -require=github.com/bytedance/godlp@v1.2.15 -require=hegui.dev/hegui@v0.0.0 -replace=hegui.dev/hegui="$repo"
GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg); $(go version)"
go run . "$repo/mask/testdata/corpus.jsonl" "$rounds"
