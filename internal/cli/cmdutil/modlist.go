package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/modlist"
)

// ReadModuleLists reads the module versions that names name: each a go.sum,
// a go.mod, a module list (modlist.Parse), a module directory (its go.sum,
// else its go.mod), or - for standard input.
func ReadModuleLists(ctx context.Context, env *Env, names []string) ([]modlist.Item, error) {
	var items []modlist.Item
	for _, name := range names {
		var data []byte
		var err error
		file := name
		switch fi, serr := os.Stat(name); {
		case name == "-":
			data, err = io.ReadAll(io.LimitReader(env.Stdin, inputfile.DocumentLimit+1))
			if err == nil && len(data) > inputfile.DocumentLimit {
				err = fmt.Errorf("standard input is larger than %d MiB", inputfile.DocumentLimit>>20)
			}
		case serr == nil && fi.IsDir():
			file = filepath.Join(name, "go.sum")
			data, err = inputfile.Read(ctx, file, inputfile.DocumentLimit)
			if errors.Is(err, fs.ErrNotExist) {
				file = filepath.Join(name, "go.mod")
				data, err = inputfile.Read(ctx, file, inputfile.DocumentLimit)
				if errors.Is(err, fs.ErrNotExist) {
					err = fmt.Errorf("%s has neither a go.sum nor a go.mod", name)
				}
			}
		default:
			data, err = inputfile.Read(ctx, name, inputfile.DocumentLimit)
		}
		if err != nil {
			return nil, err
		}
		more, err := modlist.Parse(file, data)
		if err != nil {
			return nil, err
		}
		items = append(items, more...)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no module versions named", strings.Join(names, ", "))
	}
	return modlist.Merge(items), nil
}
