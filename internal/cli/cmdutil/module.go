package cmdutil

import (
	"context"
	"path/filepath"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/gotool"
)

// DirArg is the optional directory argument, "." when absent.
func DirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// ModuleIn finds the module containing dir and returns a go command set up
// for it and, if target is set, for that GOOS/GOARCH.
func ModuleIn(ctx context.Context, dir, target string) (gotool.Go, *gotool.Module, error) {
	g, err := GoFor(dir, target)
	if err != nil {
		return g, nil, err
	}
	mod, err := g.MainModule(ctx)
	if err != nil {
		return g, nil, err
	}
	g.Dir = mod.Dir
	return g, mod, nil
}

// GoFor returns a go command run in dir and, if target is set, for that
// GOOS/GOARCH.
func GoFor(dir, target string) (gotool.Go, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return gotool.Go{}, err
	}
	g := gotool.Go{Dir: abs}
	if target != "" {
		t, err := delivery.ParseTarget(target)
		if err != nil {
			return g, UsageError{Err: err}
		}
		g = g.With(t.Env()...)
	}
	return g, nil
}
