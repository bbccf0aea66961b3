package vulnscan

import (
	"context"
	"os"
	"path/filepath"

	"hegui.dev/hegui/internal/gotool"
)

// The call-graph scan's peak memory grows with the amount of source it
// type-checks and turns into SSA: the whole import graph, standard library
// included. How much it grows by depends on the code too: in the
// govulncheck v1.8.0 symbol scans measured here (docs/PERFORMANCE.md lists
// them) a byte of source took from 30 bytes (node_exporter, versitygw) to
// 82 (restic, whose cloud SDKs give the call graph many interface
// methods). The model takes more than the most seen, so that it errs high:
// an underestimate costs a scan killed at the budget and a rerun, an
// overestimate only a less precise scan, and only for scans that have
// already passed half the budget (the estimate is made then).
const (
	estimateBase    = 128 << 20 // runtime, database index, go list output
	estimatePerByte = 90        // bytes of memory per byte of Go source
)

// sourceGraph is the import graph of a scan's packages, read once.
type sourceGraph struct {
	pkgs  map[string]gotool.SourcePackage
	roots []gotool.SourcePackage
}

func loadGraph(ctx context.Context, req *Request) (*sourceGraph, error) {
	g := gotool.Go{Dir: req.Dir, Env: scanEnv(req)}
	pkgs, err := g.SourceGraph(ctx, req.Patterns, req.Tags)
	if err != nil {
		return nil, err
	}
	sg := &sourceGraph{pkgs: map[string]gotool.SourcePackage{}}
	for _, p := range pkgs {
		sg.pkgs[p.ImportPath] = p
		if p.Root {
			sg.roots = append(sg.roots, p)
		}
	}
	return sg, nil
}

// estimate predicts the peak memory of a call-graph scan of the root
// packages named.
func (sg *sourceGraph) estimate(roots []string) int64 {
	seen := map[string]bool{}
	var size int64
	add := func(path string) {
		if !seen[path] {
			seen[path] = true
			size += sg.pkgs[path].Bytes
		}
	}
	for _, r := range roots {
		add(r)
		for _, d := range sg.pkgs[r].Deps {
			add(d)
		}
	}
	return estimateBase + estimatePerByte*size
}

// scanEnv is the environment of the go command for a scan: the request's,
// with no toolchain switching and no downloads.
func scanEnv(req *Request) []string {
	return append([]string{"GOTOOLCHAIN=local", "GOPROXY=off"}, req.Env...)
}

// buildForScan builds pattern for a binary scan, with its symbol table
// (binary mode reads it to tell which vulnerable functions are linked).
func buildForScan(ctx context.Context, req *Request, pattern string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "hegui-vulnscan-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	out := filepath.Join(dir, "scan.bin")
	args := []string{"build", "-trimpath", "-o", out}
	if len(req.Tags) > 0 {
		args = append(args, "-tags", joinComma(req.Tags))
	}
	if _, err := (gotool.Go{Dir: req.Dir, Env: scanEnv(req)}).Run(ctx, append(args, pattern)...); err != nil {
		cleanup()
		return "", nil, err
	}
	return out, cleanup, nil
}
