// Package piicmd is `hegui pii`: an inventory of the personal information
// in files (internal/pii), as a CI gate and as evidence for 等保 8.1.4.11
// and PIPL.
package piicmd

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/pii"
	"hegui.dev/hegui/mask"
)

// NewPIICmd makes `hegui pii` and its subcommands.
func NewPIICmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pii",
		Short: "Find personal information in files",
		Args:  cobra.NoArgs,
		RunE:  cmdutil.ShowHelp,
	}
	cmd.AddCommand(newScanCmd(env))
	return cmd
}

// ScanOptions are the choices of `hegui pii scan`.
type ScanOptions struct {
	// Paths are the files and directories to scan (default ".").
	Paths []string
	// Kinds limit what is looked for (--kinds; default all).
	Kinds []string
	// Threshold is the lowest score reported (--threshold).
	Threshold float64
	// Exclude are patterns of paths to pass over (--exclude).
	Exclude []string
	// MaxSize is the largest file read, in MiB (--max-size).
	MaxSize int64
	// JSON prints the inventory as JSON (--json); Out writes it to a file
	// (--out) as well as the table.
	JSON bool
	Out  string
	// Force replaces an existing --out file.
	Force bool
	// FailOn are the kinds whose findings fail the scan (--fail-on;
	// default DefaultFailOn, "all" for every kind).
	FailOn []string
	// NoFail exits 0 even when something is found (--no-fail).
	NoFail bool
}

// DefaultFailOn are the kinds that fail a scan unless --fail-on says
// otherwise (pii.DefaultFailOn).
var DefaultFailOn = pii.DefaultFailOn

func newScanCmd(env *cmdutil.Env) *cobra.Command {
	var opts ScanOptions
	cmd := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "List the personal information in files: kinds, counts, places, masked samples",
		Long: `Scan reads every text file under the paths (default: the current directory;
.git, binary files and symbolic links are passed over) and lists the
personal information it finds: resident ID numbers (with their check
character, date and province), mobile numbers, unified social credit codes,
bank card numbers (Luhn and the issuer), passports, travel permits, licence
plates, e-mail and IP addresses, IBANs and international phone numbers.
Kinds with no check digit need a context word nearby (护照, passport...).

Nothing is printed as found: every value is masked. A line that holds
` + pii.IgnoreMarker + ` (a synthetic value in a test, say) is passed over.

The exit status is 1 when a finding of a --fail-on kind is found (a gate
for CI: real personal data does not belong in a repository; by default ID
numbers, mobile and phone numbers, cards, passports, permits, IBANs and
plates, not e-mail or IP addresses, which are listed), 0 otherwise, and
with --no-fail always 0. --json prints the inventory as JSON; --out writes it to
a file, as evidence for 等保 8.1.4.11 / PIPL.`,
		Example: `  hegui pii scan
  hegui pii scan testdata/ configs/ --exclude '*.golden'
  hegui pii scan logs/app.log --kinds idcard,mobile --json
  hegui pii scan . --out pii-inventory.json --no-fail`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return RunScan(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Kinds, "kinds", nil, "look only for these `KINDS` (comma-separated: "+kindNames()+")")
	f.Float64Var(&opts.Threshold, "threshold", mask.DefaultThreshold, "report findings scoring at least `SCORE` (0 to 1; lower finds more, and more that is not)")
	f.StringArrayVar(&opts.Exclude, "exclude", nil, "pass over paths or names matching `PATTERN` (repeatable)")
	f.Int64Var(&opts.MaxSize, "max-size", 8, "read files up to `MIB` mebibytes; larger ones are listed as skipped")
	f.BoolVar(&opts.JSON, "json", false, "print the inventory as JSON")
	f.StringVarP(&opts.Out, "out", "o", "", "also write the inventory as JSON to `FILE`")
	f.BoolVar(&opts.Force, "force", false, "replace an existing --out file")
	f.StringSliceVar(&opts.FailOn, "fail-on", nil, "exit 1 when these `KINDS` are found (comma-separated, or all; default "+joinKinds(DefaultFailOn)+")")
	f.BoolVar(&opts.NoFail, "no-fail", false, "exit 0 even when personal information is found")
	return cmd
}

func kindNames() string { return joinKinds(mask.Kinds) }

func joinKinds(kinds []mask.Kind) string { return pii.KindNames(kinds) }

// parseKinds reads a --kinds or --fail-on list; "all" is every kind.
func parseKinds(flag string, list []string) ([]mask.Kind, error) {
	kinds, err := pii.ParseKinds(list)
	if err != nil {
		return nil, cmdutil.Usagef("%s: %v", flag, err)
	}
	return kinds, nil
}

// RunScan runs `hegui pii scan`.
func RunScan(ctx context.Context, env *cmdutil.Env, o ScanOptions) error {
	if len(o.Paths) == 0 {
		o.Paths = []string{"."}
	}
	scanOpts := []mask.Option{mask.WithStrictNumbers()} // an inventory gates: numbers of code do not count
	if len(o.Kinds) > 0 {
		kinds, err := parseKinds("--kinds", o.Kinds)
		if err != nil {
			return err
		}
		scanOpts = append(scanOpts, mask.WithKinds(kinds...))
	}
	failOn := DefaultFailOn
	if len(o.FailOn) > 0 {
		kinds, err := parseKinds("--fail-on", o.FailOn)
		if err != nil {
			return err
		}
		failOn = kinds
	}
	if o.Threshold < 0 || o.Threshold > 1 {
		return cmdutil.Usagef("--threshold %v: give a score from 0 to 1", o.Threshold)
	}
	if o.MaxSize <= 0 {
		return cmdutil.Usagef("--max-size %d: give a size in MiB, 1 or more", o.MaxSize)
	}
	scanOpts = append(scanOpts, mask.WithThreshold(o.Threshold))
	inv, err := pii.Scan(ctx, o.Paths, pii.Options{
		Scanner: mask.NewScanner(scanOpts...), Exclude: o.Exclude, MaxFileSize: o.MaxSize << 20, Progress: env.Infof,
	})
	if err != nil {
		return err
	}
	if o.Out != "" {
		data, err := json.MarshalIndent(inv, "", "  ")
		if err != nil {
			return err
		}
		if err := cmdutil.WriteOutput(o.Out, append(data, '\n'), 0o644, o.Force); err != nil {
			return err
		}
	}
	if o.JSON {
		if err := env.PrintJSON(inv); err != nil {
			return err
		}
	} else {
		printTable(env, inv)
	}
	failing := 0
	var kinds []string
	for _, s := range inv.Kinds {
		if slices.Contains(failOn, s.Kind) {
			failing += s.Count
			kinds = append(kinds, string(s.Kind))
		}
	}
	if failing > 0 && !o.NoFail {
		return fmt.Errorf("%d finding(s) of personal information (%s) in %d file(s) read; a synthetic value's line can be marked %s", failing, strings.Join(kinds, ", "), inv.Files, pii.IgnoreMarker)
	}
	return nil
}

// printTable prints the inventory for people: a line for each kind, then
// every place (the first 50), then what was skipped.
func printTable(env *cmdutil.Env, inv *pii.Inventory) {
	if inv.Total == 0 {
		fmt.Fprintf(env.Stdout, "no personal information found in %d file(s)\n", inv.Files)
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tCOUNT\tFILES\tSAMPLES (masked)")
		for _, s := range inv.Kinds {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Kind, s.Count, s.Files, strings.Join(s.Samples, "  "))
		}
		tw.Flush()
		fmt.Fprintln(env.Stdout)
		const shown = 50
		for i, l := range inv.Findings {
			if i == shown {
				fmt.Fprintf(env.Stdout, "... and %d more (--json lists every one)\n", len(inv.Findings)-shown)
				break
			}
			detail := ""
			if l.Detail != "" {
				detail = " (" + l.Detail + ")"
			}
			fmt.Fprintf(env.Stdout, "%s:%d:%d: %s %s%s\n", l.Path, l.Line, l.Column, l.Kind, l.Masked, detail)
		}
	}
	binary := 0
	for _, s := range inv.Skipped {
		if s.Reason == pii.SkipBinary {
			binary++
			continue
		}
		env.Infof("skipped %s: %s", s.Path, s.Reason)
	}
	if binary > 0 {
		env.Infof("skipped %d binary file(s) (--json lists them)", binary)
	}
}
