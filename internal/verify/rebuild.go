package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/deliver/build"
	"hegui.dev/hegui/internal/deliver/report"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/vcs"
)

// rebuild builds every binary again from the source directory, with the
// arguments and environment the signed report records, and compares digests.
func (s *state) rebuild(ctx context.Context) (string, error) {
	if s.opts.Source == "" {
		return "", fmt.Errorf("--rebuild needs --source DIR")
	}
	data, err := os.ReadFile(s.path(report.JSONFile))
	if err != nil {
		return "", err
	}
	var rep struct {
		Binaries []struct {
			Path string   `json:"path"`
			Args []string `json:"args"`
			Env  []string `json:"env"`
		} `json:"binaries"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return "", fmt.Errorf("%s: %w", report.JSONFile, err)
	}
	src, err := filepath.Abs(s.opts.Source)
	if err != nil {
		return "", err
	}
	if s.manifest.Commit != "" {
		info, err := vcs.Read(ctx, src)
		if err != nil {
			return "", fmt.Errorf("source %s: %w", s.opts.Source, err)
		}
		if info.Commit != s.manifest.Commit {
			return "", fmt.Errorf("the source is at commit %s, the delivery was built from %s: check out that commit", info.Commit[:12], s.manifest.Commit[:12])
		}
	}
	tmp, err := os.MkdirTemp("", "hegui-rebuild-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	var differ []string
	for _, b := range rep.Binaries {
		entry, ok := s.entries[b.Path]
		if !ok {
			return "", fmt.Errorf("report.json names %s, which is not in the manifest", b.Path)
		}
		if err := checkArgs(b.Args, b.Env); err != nil {
			return "", fmt.Errorf("%s: %w", b.Path, err)
		}
		if s.opts.Progress != nil {
			s.opts.Progress("rebuilding " + b.Path)
		}
		out := filepath.Join(tmp, filepath.FromSlash(b.Path))
		g := gotool.Go{Dir: src, Env: b.Env}
		if _, err := g.Run(ctx, build.WithOutput(b.Args, out)...); err != nil {
			return "", fmt.Errorf("rebuild %s: %w", b.Path, err)
		}
		f, err := os.Open(out)
		if err != nil {
			return "", err
		}
		sums, _, err := digest.Sum(ctx, f, digest.SHA256)
		f.Close()
		if err != nil {
			return "", err
		}
		if fmt.Sprintf("%x", sums[0]) != entry.SHA256 {
			differ = append(differ, b.Path)
		}
	}
	if len(differ) > 0 {
		return "", fmt.Errorf("rebuilt from source, %s differ(s) from the delivery", strings.Join(differ, ", "))
	}
	return fmt.Sprintf("%d binaries rebuilt from %s are identical", len(rep.Binaries), s.opts.Source), nil
}

// checkArgs refuses recorded build commands that are not `go build`: the
// report is signed, but a rebuild should still only ever run the compiler.
func checkArgs(args, env []string) error {
	if len(args) == 0 || args[0] != "build" {
		return fmt.Errorf("the recorded command is not go build")
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-toolexec") || strings.HasPrefix(a, "-exec") || strings.HasPrefix(a, "-overlay") {
			return fmt.Errorf("the recorded command uses %s, which a rebuild does not run", a)
		}
	}
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		if name == "CC" || name == "CXX" || name == "GOFLAGS" && e != "GOFLAGS=" || strings.HasPrefix(name, "CGO_") && name != "CGO_ENABLED" {
			return fmt.Errorf("the recorded environment sets %s, which a rebuild does not use", name)
		}
	}
	return nil
}
