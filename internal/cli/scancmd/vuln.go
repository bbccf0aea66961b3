package scancmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/vulndb"
	"hegui.dev/hegui/internal/vulnscan"
)

// VulnOptions are the choices of `hegui vuln`.
type VulnOptions struct {
	Args         []string // [DIR] [PACKAGES...], or BINARY...
	DB           string   // the vulnerability database
	Format       string   // text, json, sarif or openvex
	Output       string   // "" for standard output
	Target       string   // GOOS/GOARCH, "" for this machine
	Scan         string   // symbol or package
	MemoryBudget string   // e.g. 4GiB
	FailOn       string   // any, low, medium, high, critical or none
	Tags         []string
	Tests        bool
}

// NewVulnCmd makes `hegui vuln`.
func NewVulnCmd(env *cmdutil.Env) *cobra.Command {
	var opts VulnOptions
	cmd := &cobra.Command{
		Use:   "vuln [DIR] [PACKAGES...] | vuln BINARY...",
		Short: "Find known vulnerabilities in a Go module or in binaries, offline",
		Long: `Vuln runs the govulncheck engine (golang.org/x/vuln) inside hegui against the
offline database of "hegui vulndb"; nothing reaches the network.

For a module directory (default: the current one) it follows calls: a
vulnerability is "called" only when a call path from your code reaches a
vulnerable function, "imported" when a vulnerable package is imported but
not reached, "required" when only the module is in the graph. PACKAGES
default to ./... (PACKAGES are relative to DIR). A call-graph scan of a big
program takes memory; over --memory-budget (default 4GiB) the scan is done
one main package at a time — on its compiled binary when even that would not
fit — and the other packages by their imports, and every finding says which
precision it has.

For binaries built elsewhere it reads the build information and the linked
symbols: a vulnerable function present in the binary is "linked".

Output: a summary (default), or --format json (vulns.json), sarif (SARIF
2.1.0) or openvex (OpenVEX 0.2). Exit status 1 when a finding that can run
(called or linked) reaches --fail-on (default any).`,
		Example: `  hegui vuln                                  # the module here, ./...
  hegui vuln ./service ./cmd/server --target linux/arm64
  hegui vuln --format sarif -o vulns.sarif
  hegui vuln /usr/local/bin/app bin/tool      # binaries built elsewhere`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			return RunVuln(cmd.Context(), env, opts)
		},
	}
	dbFlag(cmd, env, &opts.DB)
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output: text, json, sarif or openvex")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the output to `FILE` (default: standard output)")
	cmd.Flags().StringVar(&opts.Target, "target", "", "scan the code built for `GOOS/GOARCH` (default: this machine's)")
	cmd.Flags().StringVar(&opts.Scan, "scan", "symbol", "symbol: follow calls; package: imports only (fast, less precise)")
	cmd.Flags().StringVar(&opts.MemoryBudget, "memory-budget", config.DefaultMemoryBudget, "memory a call-graph scan may use before hegui scans less precisely")
	cmd.Flags().StringVar(&opts.FailOn, "fail-on", "any", "exit 1 when a reachable finding has this severity or more: any, low, medium, high, critical, none")
	cmd.Flags().StringSliceVar(&opts.Tags, "tags", nil, "build `TAGS`")
	cmd.Flags().BoolVar(&opts.Tests, "test", false, "include test files")
	return cmd
}

// RunVuln scans a module or binaries and prints or writes the findings; an
// error when a reachable finding reaches FailOn.
func RunVuln(ctx context.Context, env *cmdutil.Env, o VulnOptions) error {
	if !cmdutil.OneOf(o.Format, "text", "json", "sarif", "openvex") {
		return cmdutil.Usagef("--format %q: want text, json, sarif or openvex", o.Format)
	}
	if !cmdutil.OneOf(o.Scan, "symbol", "package") {
		return cmdutil.Usagef("--scan %q: want symbol or package", o.Scan)
	}
	if !cmdutil.OneOf(o.FailOn, "any", "low", "medium", "high", "critical", "none") {
		return cmdutil.Usagef("--fail-on %q: want any, low, medium, high, critical or none", o.FailOn)
	}
	limit, err := config.ParseBudget(o.MemoryBudget)
	if err != nil {
		return cmdutil.Usagef("--memory-budget: %v", err)
	}
	info, err := vulndb.OpenIndex(o.DB)
	if err != nil {
		return err
	}
	hashed := make(chan error, 1)
	go func() { hashed <- info.Hash() }() // meanwhile: the digest the output records
	req := &vulnscan.Request{DB: info, MemoryBudget: limit, PackageLevel: o.Scan == "package", Tags: o.Tags, Tests: o.Tests}
	if !env.Quiet {
		req.Progress = func(f string, a ...any) { env.Infof("  "+f, a...) }
	}
	subject, module, goMod, err := vulnTargets(ctx, req, o.Args, o.Target)
	if err != nil {
		return err
	}
	res, err := vulnscan.Scan(ctx, req)
	if err != nil {
		return err
	}
	if err := <-hashed; err != nil {
		return err
	}
	doc := vulnscan.NewDocument(subject, info, res, time.Now())
	doc.Module = module
	var data []byte
	switch o.Format {
	case "json":
		data, err = doc.JSON()
	case "sarif":
		data, err = vulnscan.SARIF(doc, cmdutil.Version().Version, goMod)
	case "openvex":
		product := "pkg:golang/" + strings.TrimPrefix(subject, "pkg:golang/")
		data, err = vulnscan.OpenVEX(doc, vulnscan.VEXOptions{Author: "the maintainers of " + subject, Product: product, Time: doc.Scanned})
	default:
		var b strings.Builder
		writeVulnText(&b, doc)
		data = []byte(b.String())
	}
	if err != nil {
		return err
	}
	if err := env.Emit(o.Output, data); err != nil {
		return err
	}
	return vulnGate(doc, o.FailOn)
}

// vulnTargets fills the request from the arguments: a module directory
// and packages, or binaries. It returns a name for what is scanned, the
// module path and its go.mod (source scans).
func vulnTargets(ctx context.Context, req *vulnscan.Request, args []string, target string) (string, string, []byte, error) {
	if len(args) > 0 {
		if fi, err := os.Stat(args[0]); err == nil && !fi.IsDir() {
			if target != "" || len(req.Tags) > 0 || req.Tests {
				return "", "", nil, cmdutil.Usagef("--target, --tags and --test apply to a module directory, not to binaries")
			}
			for _, a := range args {
				fi, err := os.Stat(a)
				if err != nil {
					return "", "", nil, err
				}
				if fi.IsDir() {
					return "", "", nil, cmdutil.Usagef("%s is a directory: give either one module directory or binaries", a)
				}
				if !fi.Mode().IsRegular() {
					return "", "", nil, &inputfile.NotRegularError{Name: a, Mode: fi.Mode()}
				}
			}
			req.Binaries = args
			return strings.Join(args, " "), "", nil, nil
		}
	}
	dir, pkgs := splitDirArgs(args)
	g, mod, err := cmdutil.ModuleIn(ctx, dir, target)
	if err != nil {
		return "", "", nil, err
	}
	req.Dir, req.Env = mod.Dir, g.Env
	req.Patterns = []string{"./..."}
	if len(pkgs) > 0 {
		req.Patterns = nil
		for _, p := range pkgs {
			req.Patterns = append(req.Patterns, packagePattern(dir, mod.Dir, p))
		}
	}
	goMod, _ := inputfile.Read(ctx, filepath.Join(mod.Dir, "go.mod"), inputfile.DocumentLimit)
	return mod.Path, mod.Path, goMod, nil
}

// splitDirArgs reads "[DIR] [PACKAGES...]": the first argument is the
// directory when it is one, else every argument is a package pattern in
// the current directory (hegui vuln ./... works as govulncheck ./... does).
func splitDirArgs(args []string) (string, []string) {
	if len(args) == 0 {
		return ".", nil
	}
	if fi, err := os.Stat(args[0]); err == nil && fi.IsDir() && !strings.Contains(args[0], "...") {
		return args[0], args[1:]
	}
	return ".", args
}

// packagePattern makes a package pattern given after DIR on the command
// line, relative to DIR as with the go command's -C, relative to the
// module root; import paths and patterns such as ./... pass through.
func packagePattern(dirArg, moduleDir, p string) string {
	if !strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "../") && p != "." && p != ".." {
		return p // an import path or pattern
	}
	base, err := filepath.Abs(dirArg)
	if err != nil {
		return p
	}
	rest := ""
	if strings.HasSuffix(p, "/...") {
		p, rest = strings.TrimSuffix(p, "/..."), "/..."
	}
	rel, err := filepath.Rel(moduleDir, filepath.Join(base, p))
	if err != nil || strings.HasPrefix(rel, "..") {
		return p + rest
	}
	if rel == "." {
		return "." + rest
	}
	return "./" + filepath.ToSlash(rel) + rest
}

// vulnGate fails when a reachable finding reaches the severity.
func vulnGate(doc *format.VulnDocument, failOn string) error {
	if failOn == "none" {
		return nil
	}
	n := 0
	for _, f := range doc.Findings {
		if f.Reachable && (failOn == "any" || format.VulnSeverityRank(f.Severity) >= format.VulnSeverityRank(failOn) || f.Severity == "unknown") {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%d known vulnerabilities can run in the scanned code (--fail-on %s; unscored findings count)", n, failOn)
	}
	return nil
}

// writeVulnText writes the human summary of a scan.
func writeVulnText(w io.Writer, doc *format.VulnDocument) {
	fmt.Fprintf(w, "Scanned %s, Go %s, against the vulnerability database of %s (%d entries, %s).\n",
		doc.Subject, orUnknown(doc.GoVersion), doc.Database.ModifiedText(), doc.Database.Entries, doc.Database.AgeText())
	for _, s := range doc.Scans {
		what := s.Subject
		if n := len(s.Patterns); n > 3 {
			what = fmt.Sprintf("%s and %d more packages", strings.Join(s.Patterns[:2], " "), n-2)
		} else if n > 0 {
			what = strings.Join(s.Patterns, " ")
		}
		fmt.Fprintf(w, "  %s scan of %s: %s, %.1f s, %s peak", s.Mode, what, s.Precision, s.Seconds, human.Bytes(s.PeakRSS))
		if s.Note != "" {
			fmt.Fprintf(w, " (%s)", s.Note)
		}
		fmt.Fprintln(w)
	}
	groups := []struct {
		title string
		match func(*format.VulnFinding) bool
	}{
		{"Reachable: your code can run the vulnerable functions", func(f *format.VulnFinding) bool { return f.Reachable }},
		{"Imported, not called", func(f *format.VulnFinding) bool { return f.Status == format.VulnImported }},
		{"Required only: the vulnerable packages are not built in", func(f *format.VulnFinding) bool { return f.Status == format.VulnRequired }},
	}
	for _, g := range groups {
		var fs []*format.VulnFinding
		for _, f := range doc.Findings {
			if g.match(f) {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d):\n", g.title, len(fs))
		for _, f := range fs {
			fixed := "no fix"
			if f.Fixed != "" {
				fixed = "fixed in " + format.DisplayVersion(f.Module, f.Fixed)
			}
			fmt.Fprintf(w, "  %s  %s@%s, %s, severity %s", f.ID, f.Module, format.DisplayVersion(f.Module, f.Version), fixed, f.Severity)
			if f.Ignored != nil {
				fmt.Fprintf(w, " (accepted until %s: %s)", f.Ignored.Expires, f.Ignored.Reason)
			}
			fmt.Fprintln(w)
			if f.Summary != "" && f.Reachable {
				fmt.Fprintf(w, "      %s\n", f.Summary)
			}
			for _, p := range f.Paths {
				var steps []string
				for _, st := range p {
					s := shortSymbol(st.Symbol)
					if st.Where() != "" && st.Module != "stdlib" && st.Module == doc.Module {
						s += " (" + st.Where() + ")"
					}
					steps = append(steps, s)
				}
				fmt.Fprintf(w, "      %s\n", strings.Join(steps, " → "))
			}
			if f.Reachable && len(f.Paths) == 0 && len(f.Symbols) > 0 {
				fmt.Fprintf(w, "      linked: %s\n", strings.Join(f.Symbols, ", "))
			}
		}
	}
	if len(doc.Findings) == 0 {
		fmt.Fprintln(w, "\nNo known vulnerabilities.")
	}
}

// shortSymbol drops the package path before the last element:
// golang.org/x/text/language.Parse → language.Parse.
func shortSymbol(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
