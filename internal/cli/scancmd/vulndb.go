package scancmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/vulndb"
)

// NewVulnDBCmd makes `hegui vulndb` and its subcommands.
func NewVulnDBCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vulndb",
		Short: "Keep the offline Go vulnerability database",
		Long: `Vulndb keeps the vulnerability database that "hegui deliver" and "hegui vuln"
scan against, in the layout govulncheck reads (-db file://DIR). Scans never
reach the network: the database is built from OSV entries you bring
(import), or fetched from a mirror when one is reachable (update).

The database is $HEGUI_VULNDB, else hegui/vulndb in the user cache directory
(~/.cache/hegui/vulndb); --db names another, and hegui.yaml's
vulnerabilities.database overrides both for a delivery.`,
		Args: cobra.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	cmd.AddCommand(newVulnDBImportCmd(env), newVulnDBUpdateCmd(env), newVulnDBInfoCmd(env))
	return cmd
}

// dbFlag adds --db, defaulting to the environment's database.
func dbFlag(cmd *cobra.Command, env *cmdutil.Env, p *string) {
	cmd.Flags().StringVar(p, "db", "", "database `DIR` (default $HEGUI_VULNDB, else ~/.cache/hegui/vulndb)")
	cmd.PreRun = func(*cobra.Command, []string) {
		if *p == "" {
			*p = vulndb.DefaultPath(env.Getenv)
		}
	}
}

// VulnDBImportOptions are the choices of `hegui vulndb import`.
type VulnDBImportOptions struct {
	// Source holds the OSV entries: a directory, a .zip or a .tar.gz.
	Source string
	// DB is the database to write (--db or --out); "" means
	// $HEGUI_VULNDB, else ~/.cache/hegui/vulndb.
	DB string
	// Modified dates the database (YYYY-MM-DD or RFC 3339) instead of the
	// newest modification time of its entries; "" for that.
	Modified string
}

func newVulnDBImportCmd(env *cmdutil.Env) *cobra.Command {
	var opts VulnDBImportOptions
	cmd := &cobra.Command{
		Use:   "import OSV_DIR|OSV.zip|OSV.tar.gz [--out DB]",
		Short: "Build the database from OSV entries",
		Long: `Import reads OSV JSON entries — a directory searched recursively, a .zip
(such as osv.dev's Go/all.zip) or a .tar.gz — checks every one, and writes a
database that replaces the one at --db. Entries of other ecosystems are
skipped. A bad entry stops the import with its file named and leaves the
existing database untouched. --out (or --db) names the database to write.

The source is untrusted: an archive larger than 256 MiB, one that unpacks to
more than 256 MiB or holds more than 100,000 files, an entry larger than
4 MiB, or anything that is not a directory or a regular file is refused
before the database is touched.

The database is dated by the newest "modified" time of its entries; a time
more than a day in the future is refused. Entries copied from the
golang/vulndb repository carry no times: date such a copy with --modified
(the date of the snapshot), or its age is unknown, and a delivery's policy
counts it as too old (policy.vulnerabilities.database-max-age).`,
		Example: `  hegui vulndb import ./vulndb/data/osv --modified 2026-08-21
  hegui vulndb import Go-all.zip --out /srv/hegui/vulndb`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source = args[0]
			return RunVulnDBImport(cmd.Context(), env, opts)
		},
	}
	dbFlag(cmd, env, &opts.DB)
	cmd.Flags().StringVar(&opts.DB, "out", "", "the database `DIR` to write (the same as --db)")
	cmd.Flags().StringVar(&opts.Modified, "modified", "", "date the database (YYYY-MM-DD or RFC 3339) instead of by its entries")
	return cmd
}

// RunVulnDBImport builds the database from OSV entries, replacing the one
// there, and describes the result.
func RunVulnDBImport(ctx context.Context, env *cmdutil.Env, o VulnDBImportOptions) error {
	opts := vulndb.ImportOptions{}
	if o.Modified != "" {
		t, err := parseDate(o.Modified)
		if err != nil {
			return cmdutil.Usagef("--modified: %v", err)
		}
		opts.Modified = t
	}
	env.Infof("importing OSV entries from %s ...", o.Source)
	res, err := vulndb.Import(ctx, o.Source, vulnDBPath(env, o.DB), opts)
	if err != nil {
		return err
	}
	if res.Skipped > 0 {
		env.Infof("skipped %d entries of other ecosystems", res.Skipped)
	}
	if res.Undated {
		env.Infof("note: the entries carry no modification times, so the database's age is unknown and a delivery's policy counts it as too old; import again with --modified DATE to date it by its source")
	}
	return printDBInfo(env, res.Info)
}

// VulnDBUpdateOptions are the choices of `hegui vulndb update`.
type VulnDBUpdateOptions struct {
	// DB is the database to update; "" means $HEGUI_VULNDB, else
	// ~/.cache/hegui/vulndb.
	DB string
	// Mirror is the URL of a server with the layout of vuln.go.dev; ""
	// means $HEGUI_VULNDB_MIRROR, else https://vuln.go.dev.
	Mirror string
	// Force rebuilds the database even when the mirror is not newer.
	Force bool
}

func newVulnDBUpdateCmd(env *cmdutil.Env) *cobra.Command {
	var opts VulnDBUpdateOptions
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Update the database from a mirror of vuln.go.dev",
		Long: `Update fetches the database from a server with the layout of vuln.go.dev
(https://vuln.go.dev itself, or an intranet mirror of it, serving .json.gz
or plain .json files) when one is reachable. Only entries that changed are
downloaded; the new database replaces the old one only when every entry has
been fetched and checked.`,
		Example: `  hegui vulndb update
  hegui vulndb update --mirror https://mirror.example.internal/govulndb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunVulnDBUpdate(cmd.Context(), env, opts)
		},
	}
	dbFlag(cmd, env, &opts.DB)
	cmd.Flags().StringVar(&opts.Mirror, "mirror", "", "`URL` of the database (default $HEGUI_VULNDB_MIRROR, else https://vuln.go.dev)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "rebuild even when the mirror is not newer")
	return cmd
}

// RunVulnDBUpdate brings the database up to date with the mirror, saying
// how far it has got, and describes the result.
func RunVulnDBUpdate(ctx context.Context, env *cmdutil.Env, o VulnDBUpdateOptions) error {
	db := vulnDBPath(env, o.DB)
	mirror := o.Mirror
	if mirror == "" {
		mirror = env.Getenv("HEGUI_VULNDB_MIRROR")
	}
	if mirror == "" {
		mirror = vulndb.DefaultMirror
	}
	env.Infof("updating %s from %s ...", db, mirror)
	opts := vulndb.UpdateOptions{Force: o.Force}
	last := time.Now()
	opts.Progress = func(done, total int) {
		if time.Since(last) > 2*time.Second || done == total {
			last = time.Now()
			env.Infof("  %d/%d entries", done, total)
		}
	}
	res, err := vulndb.Update(ctx, mirror, db, opts)
	if err != nil {
		return err
	}
	if res.UpToDate {
		env.Infof("already up to date")
	} else {
		env.Infof("fetched %d entries", res.Fetched)
	}
	return printDBInfo(env, res.Info)
}

// VulnDBInfoOptions are the choices of `hegui vulndb info`.
type VulnDBInfoOptions struct {
	// DB is the database to describe; "" means $HEGUI_VULNDB, else
	// ~/.cache/hegui/vulndb.
	DB string
	// JSON prints the description as JSON, with the age in days.
	JSON bool
}

func newVulnDBInfoCmd(env *cmdutil.Env) *cobra.Command {
	var opts VulnDBInfoOptions
	cmd := &cobra.Command{
		Use:     "info",
		Short:   "Describe the database: entries, modification time, age, digest",
		Example: "  hegui vulndb info\n  hegui vulndb info --db /srv/hegui/vulndb --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunVulnDBInfo(cmd.Context(), env, opts)
		},
	}
	dbFlag(cmd, env, &opts.DB)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	return cmd
}

// RunVulnDBInfo checks the database and describes it: entries, modification
// time, age and digest.
func RunVulnDBInfo(ctx context.Context, env *cmdutil.Env, o VulnDBInfoOptions) error {
	info, err := vulndb.Open(vulnDBPath(env, o.DB))
	if err != nil {
		return err
	}
	if o.JSON {
		out := struct {
			*vulndb.Info
			// AgeDays is null, and AgeUnknown true, for a
			// database without a modification time.
			AgeDays    *float64 `json:"ageDays"`
			AgeUnknown bool     `json:"ageUnknown,omitempty"`
		}{Info: info, AgeUnknown: !info.AgeKnown()}
		if info.AgeKnown() {
			days := info.Age(time.Now()).Hours() / 24
			out.AgeDays = &days
		}
		return env.PrintJSON(out)
	}
	return printDBInfo(env, info)
}

// vulnDBPath is db, or the environment's default database when db is "".
// The commands' --db flag fills in the default itself (dbFlag); callers of
// the run functions may leave it out.
func vulnDBPath(env *cmdutil.Env, db string) string {
	if db == "" {
		return vulndb.DefaultPath(env.Getenv)
	}
	return db
}

func printDBInfo(env *cmdutil.Env, info *vulndb.Info) error {
	fmt.Fprintf(env.Stdout, "database:  %s\n", info.Path)
	fmt.Fprintf(env.Stdout, "entries:   %d (for %d modules)\n", info.Entries, info.Modules)
	if info.AgeKnown() {
		fmt.Fprintf(env.Stdout, "modified:  %s (%.0f days ago)\n", info.Modified.Format(time.DateOnly), info.Age(time.Now()).Hours()/24)
	} else {
		fmt.Fprintf(env.Stdout, "modified:  unknown (age unknown: the entries carry no modification times; import with --modified DATE)\n")
	}
	fmt.Fprintf(env.Stdout, "digest:    %s\n", info.Digest)
	return nil
}

// parseDate reads YYYY-MM-DD or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
	}
	return t, nil
}
