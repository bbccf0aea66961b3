package modlist

import (
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, file, data string
		want             string // "MOD@VER[mod]" joined by spaces
		err              string
	}{
		{
			name: "go.sum: a zip line wins over its go.mod line; a go.mod line alone is ModOnly",
			file: "go.sum",
			data: "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n" +
				"github.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n" +
				"github.com/google/uuid v1.5.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n",
			want: "github.com/google/uuid@v1.5.0[mod] github.com/google/uuid@v1.6.0",
		},
		{
			name: "go list -m all: the main module is skipped, replacements ignored",
			file: "modules.txt",
			data: "example.com/app\ngolang.org/x/text v0.3.0\nrsc.io/quote v1.5.2 => ./quote\n",
			want: "golang.org/x/text@v0.3.0 rsc.io/quote@v1.5.2",
		},
		{
			name: "MODULE@VERSION lines, comments and blanks",
			file: "list",
			data: "# tools\n\nrsc.io/quote@v1.5.2\n  golang.org/x/text@v0.3.0  \n",
			want: "golang.org/x/text@v0.3.0 rsc.io/quote@v1.5.2",
		},
		{
			name: "go.mod requirements",
			file: "dir/go.mod",
			data: "module example.com/app\n\ngo 1.22\n\nrequire (\n\trsc.io/quote v1.5.2\n\tgolang.org/x/text v0.3.0 // indirect\n)\n",
			want: "golang.org/x/text@v0.3.0 rsc.io/quote@v1.5.2",
		},
		{
			name: "go list -m all in a workspace: every main module is skipped",
			file: "modules.txt",
			data: "example.com/app\nexample.com/lib\ngolang.org/x/text v0.3.0\n",
			want: "golang.org/x/text@v0.3.0",
		},
		{name: "a go.sum cut short", file: "go.sum", data: "cel.dev/expr v0.24.0 h1:56OvJKSH3hDGL0ml5uSxZmz3/3Pq4tJ+fb1unVLAFcY=\ncloud\n", err: `go.sum:2: "cloud" names no version`},
		{name: "not canonical", file: "list", data: "rsc.io/quote@v1.5\n", err: "list:1: rsc.io/quote@v1.5"},
		{name: "a path that is not a module path", file: "list", data: "ok.example/a@v1.0.0\n../evil@v1.0.0\n", err: "list:2:"},
		{name: "go.mod that does not parse", file: "go.mod", data: "require (\n", err: "go.mod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, err := Parse(tc.file, []byte(tc.data))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse = %v, %v; want an error with %q", items, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				s := it.Module + "@" + it.Version
				if it.ModOnly {
					s += "[mod]"
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("Parse = %s\nwant      %s", strings.Join(got, " "), tc.want)
			}
		})
	}
}

// FuzzParse checks what Parse promises of any input: an error or items
// that are valid, canonical module versions, sorted and without duplicates.
func FuzzParse(f *testing.F) {
	f.Add("go.sum", "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n")
	f.Add("list", "rsc.io/quote@v1.5.2\nexample.com/app\n")
	f.Add("go.mod", "module m\nrequire rsc.io/quote v1.5.2\n")
	f.Fuzz(func(t *testing.T, name, data string) {
		items, err := Parse(name, []byte(data))
		if err != nil {
			return
		}
		for i, it := range items {
			if err := module.Check(it.Module, it.Version); err != nil {
				t.Fatalf("item %d %+v: %v", i, it, err)
			}
			if i > 0 {
				prev := items[i-1]
				if prev.Module > it.Module || prev.Module == it.Module && prev.Version >= it.Version {
					t.Fatalf("items %d and %d out of order or repeated: %+v %+v", i-1, i, prev, it)
				}
			}
		}
	})
}
