package scancmd

import (
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

func newVulnDBImportCmd(env *cmdutil.Env) *cobra.Command {
	var out, modified string
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
			opts := vulndb.ImportOptions{}
			if modified != "" {
				t, err := parseDate(modified)
				if err != nil {
					return cmdutil.Usagef("--modified: %v", err)
				}
				opts.Modified = t
			}
			env.Infof("importing OSV entries from %s ...", args[0])
			res, err := vulndb.Import(cmd.Context(), args[0], out, opts)
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
		},
	}
	dbFlag(cmd, env, &out)
	cmd.Flags().StringVar(&out, "out", "", "the database `DIR` to write (the same as --db)")
	cmd.Flags().StringVar(&modified, "modified", "", "date the database (YYYY-MM-DD or RFC 3339) instead of by its entries")
	return cmd
}

func newVulnDBUpdateCmd(env *cmdutil.Env) *cobra.Command {
	var db, mirror string
	var force bool
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
			if mirror == "" {
				mirror = env.Getenv("HEGUI_VULNDB_MIRROR")
			}
			if mirror == "" {
				mirror = vulndb.DefaultMirror
			}
			env.Infof("updating %s from %s ...", db, mirror)
			opts := vulndb.UpdateOptions{Force: force}
			last := time.Now()
			opts.Progress = func(done, total int) {
				if time.Since(last) > 2*time.Second || done == total {
					last = time.Now()
					env.Infof("  %d/%d entries", done, total)
				}
			}
			res, err := vulndb.Update(cmd.Context(), mirror, db, opts)
			if err != nil {
				return err
			}
			if res.UpToDate {
				env.Infof("already up to date")
			} else {
				env.Infof("fetched %d entries", res.Fetched)
			}
			return printDBInfo(env, res.Info)
		},
	}
	dbFlag(cmd, env, &db)
	cmd.Flags().StringVar(&mirror, "mirror", "", "`URL` of the database (default $HEGUI_VULNDB_MIRROR, else https://vuln.go.dev)")
	cmd.Flags().BoolVar(&force, "force", false, "rebuild even when the mirror is not newer")
	return cmd
}

func newVulnDBInfoCmd(env *cmdutil.Env) *cobra.Command {
	var db string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "info",
		Short:   "Describe the database: entries, modification time, age, digest",
		Example: "  hegui vulndb info\n  hegui vulndb info --db /srv/hegui/vulndb --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := vulndb.Open(db)
			if err != nil {
				return err
			}
			if asJSON {
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
		},
	}
	dbFlag(cmd, env, &db)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
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
