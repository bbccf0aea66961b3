package buildrecipe

import (
	"slices"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

var toolchain = Toolchain{GoVersion: "go1.26.8", SourceDateEpoch: 1700000000}

func goodRecipe() Recipe {
	return Recipe{
		Output: "bin/linux_amd64/app", Main: "./cmd/app", Target: "linux/amd64", Tags: []string{"netgo", "osusergo"},
		Ldflags:  Ldflags{StripSymbols: true, StripDWARF: true, Define: []Define{{"main.version", "v1.2.3"}, {"example.com/app/internal/build.date", "2026-12-05T00:00:00Z"}}},
		Trimpath: true, BuildVCS: true,
	}
}

func TestCommand(t *testing.T) {
	args, env, err := goodRecipe().Command(toolchain, "/tmp/out/app")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"build", "-trimpath", "-buildvcs=true",
		"-ldflags=-s -w -X main.version=v1.2.3 -X example.com/app/internal/build.date=2026-12-05T00:00:00Z -buildid=",
		"-tags=netgo,osusergo", "-o", "/tmp/out/app", "./cmd/app"}
	if !slices.Equal(args, want) {
		t.Errorf("args\n got %q\nwant %q", args, want)
	}
	wantEnv := []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GOEXPERIMENT=", "SOURCE_DATE_EPOCH=1700000000"}
	if !slices.Equal(env, wantEnv) {
		t.Errorf("env\n got %q\nwant %q", env, wantEnv)
	}
}

// TestHostileRecipes are the routes by which a recipe from someone else's
// delivery could make the rebuild run a program or write elsewhere: each
// is refused before a command line exists.
func TestHostileRecipes(t *testing.T) {
	cases := map[string]func(*Recipe){
		"toolexec as main":          func(r *Recipe) { r.Main = "-toolexec=/bin/sh" },
		"double-dash toolexec main": func(r *Recipe) { r.Main = "--toolexec=/bin/sh" },
		"main outside the module":   func(r *Recipe) { r.Main = "./../../etc" },
		"main absolute":             func(r *Recipe) { r.Main = "/usr/lib/go/src/cmd/go" },
		"main with a space":         func(r *Recipe) { r.Main = "./cmd/app -toolexec=x" },
		"output elsewhere":          func(r *Recipe) { r.Output = "/usr/local/bin/go" },
		"output climbing":           func(r *Recipe) { r.Output = "bin/linux_amd64/../../../x" },
		"output another target":     func(r *Recipe) { r.Output = "bin/linux_arm64/app" },
		"output as a flag":          func(r *Recipe) { r.Output = "-o=/tmp/x" },
		"target with a flag":        func(r *Recipe) { r.Target = "linux/amd64 -toolexec=x" },
		"target env injection":      func(r *Recipe) { r.Target = "linux/amd64\nCC=/bin/sh" },
		"level with a flag":         func(r *Recipe) { r.Target = "linux/amd64/v3 -x" },
		"tag with a flag":           func(r *Recipe) { r.Tags = []string{"netgo -toolexec=/bin/sh"} },
		"tag with a comma":          func(r *Recipe) { r.Tags = []string{"a,b"} },
		"define name with a space":  func(r *Recipe) { r.Ldflags.Define = []Define{{"main.v -extld=/bin/sh", "x"}} },
		"define name as a flag":     func(r *Recipe) { r.Ldflags.Define = []Define{{"-linkmode=external", "x"}} },
		"define value both quotes":  func(r *Recipe) { r.Ldflags.Define = []Define{{"main.v", `a' -extld=/bin/sh "b`}} },
		"define value newline":      func(r *Recipe) { r.Ldflags.Define = []Define{{"main.v", "a\n-extld=/bin/sh"}} },
		"define value NUL":          func(r *Recipe) { r.Ldflags.Define = []Define{{"main.v", "a\x00b"}} },
		"experiment with a flag":    func(r *Recipe) { r.Experiment = "x -toolexec=y" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			r := goodRecipe()
			mutate(&r)
			if _, _, err := r.Command(toolchain, "/tmp/out/app"); err == nil {
				t.Errorf("accepted %+v", r)
			}
		})
	}
	for _, v := range []string{"go1.26.8 -toolexec=x", "/tmp/go", "path@go1.26", "local", "go1.26.8+auto"} {
		if _, _, err := goodRecipe().Command(Toolchain{GoVersion: v}, "/tmp/out/app"); err == nil {
			t.Errorf("Go version %q accepted", v)
		}
	}
}

// TestDefineValuesStayOneField: values with spaces and one kind of quote
// are legitimate (-X 'main.msg=hello world'); they must reach the linker
// as one -X setting, never as further linker flags.
func TestDefineValuesStayOneField(t *testing.T) {
	for _, v := range []string{"hello world", "it's -extld=/bin/sh", `say "-linkmode=external"`, " -s ", ""} {
		l := Ldflags{Define: []Define{{"main.v", v}}}
		fields, err := splitFields(l.String())
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		want := []string{"-X", "main.v=" + v, "-buildid="}
		if !slices.Equal(fields, want) {
			t.Errorf("value %q splits into %q, want %q", v, fields, want)
		}
	}
}

func TestParseLdflags(t *testing.T) {
	l, err := ParseLdflags([]string{"-s -w", "-X main.version=v1", "-X=main.commit=abc", `-X 'main.msg=hello world'`, "-buildid="})
	if err != nil {
		t.Fatal(err)
	}
	want := Ldflags{StripSymbols: true, StripDWARF: true, Define: []Define{{"main.version", "v1"}, {"main.commit", "abc"}, {"main.msg", "hello world"}}}
	if !slices.Equal(l.Define, want.Define) || l.StripSymbols != want.StripSymbols || l.StripDWARF != want.StripDWARF {
		t.Errorf("got %+v", l)
	}
	for _, bad := range []string{"-linkmode=external", "-extld=/bin/sh", "-extldflags=-static", "-X", "-X novalue", "-buildid=abc", "-H windowsgui", `-X 'main.v=x`} {
		if _, err := ParseLdflags([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseEnv(t *testing.T) {
	s, err := ParseEnv([]string{"CGO_ENABLED=1", "GOEXPERIMENT=boringcrypto"})
	if err != nil || !s.CGO || s.Experiment != "boringcrypto" {
		t.Errorf("%+v %v", s, err)
	}
	for _, bad := range []string{"CC=/bin/sh", "CGO_LDFLAGS=-x", "GOFLAGS=-toolexec=x", "CGO_ENABLED=yes", "GOTOOLCHAIN=path", "PATH=/tmp"} {
		if _, err := ParseEnv([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzRecipe: a recipe read from a delivery either is refused or makes a
// command line that runs go build into the given output and nothing else:
// no flag but the allow-listed ones, the linker given only -s, -w, -X and
// -buildid=, and no environment but the allow-listed variables.
func FuzzRecipe(f *testing.F) {
	good, _ := jsonv2.Marshal(goodRecipe())
	f.Add(good)
	f.Add([]byte(`{"output":"bin/linux_amd64/app","main":".","target":"linux/amd64","ldflags":{"define":[{"name":"main.v","value":"a' -extld=/bin/sh"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Recipe
		if jsonv2.Unmarshal(data, &r, jsonv2.RejectUnknownMembers(true)) != nil {
			return
		}
		const out = "/tmp/rebuild/out"
		args, env, err := r.Command(toolchain, out)
		if err != nil {
			return
		}
		if args[0] != "build" || args[len(args)-3] != "-o" || args[len(args)-2] != out || args[len(args)-1] != r.Main {
			t.Fatalf("command %q", args)
		}
		for _, a := range args[1 : len(args)-3] {
			name, value, _ := strings.Cut(a, "=")
			switch name {
			case "-trimpath", "-buildvcs", "-tags":
			case "-ldflags":
				fields, err := splitFields(value)
				if err != nil {
					t.Fatalf("ldflags %q: %v", value, err)
				}
				for i := 0; i < len(fields); i++ {
					switch fields[i] {
					case "-s", "-w", "-buildid=":
					case "-X":
						i++
						if i == len(fields) || !definePattern.MatchString(strings.SplitN(fields[i], "=", 2)[0]) {
							t.Fatalf("ldflags %q", value)
						}
					default:
						t.Fatalf("ldflags %q hold %q", value, fields[i])
					}
				}
			default:
				t.Fatalf("flag %q", a)
			}
		}
		for _, e := range env {
			name, _, _ := strings.Cut(e, "=")
			if !slices.Contains([]string{"GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOARM", "GO386", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "CGO_ENABLED", "GOFLAGS", "GOEXPERIMENT", "SOURCE_DATE_EPOCH"}, name) || strings.ContainsAny(e, "\x00\n") {
				t.Fatalf("environment %q", e)
			}
		}
	})
}
