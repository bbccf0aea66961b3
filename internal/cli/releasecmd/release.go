// Package releasecmd is `hegui release`: verified installs of a delivery
// on the machine that runs it, atomic switches between versions, health
// checks and rollback (internal/release), and a hardened systemd unit.
package releasecmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/release"
)

// NewReleaseCmd makes `hegui release` and its subcommands.
func NewReleaseCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Install a delivery verified, switch versions atomically, roll back on failed health",
		Long: `hegui release installs deliveries made by "hegui deliver" on the server that
runs them, in a release root:

  ROOT/releases/VERSION/   one directory per installed version
  ROOT/current             a symbolic link to the running version
  ROOT/previous            the version before it
  ROOT/release.yaml        how to restart and check the service (optional)

  hegui release install   verify, copy, switch, restart, check health;
                          switch back automatically when the check fails
  hegui release rollback  switch back to the previous version (or --to V)
  hegui release list      the installed versions
  hegui release status    the current version, its files, its health now
  hegui release prune     remove old versions
  hegui release unit      a hardened systemd unit for the service

Run the service as ROOT/current/bin/NAME. See docs/release.md.`,
		Args: cobra.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	cmd.AddCommand(newInstallCmd(env), newRollbackCmd(env), newListCmd(env), newStatusCmd(env), newPruneCmd(env), newUnitCmd(env))
	return cmd
}

// RootOptions are what every subcommand but unit takes: the root, and
// settings that override its release.yaml.
type RootOptions struct {
	Root   string
	Config release.Config
}

func (o *RootOptions) addRoot(cmd *cobra.Command, env *cmdutil.Env) {
	cmd.Flags().StringVar(&o.Root, "root", "", "the release root `DIR` (default $HEGUI_RELEASE_ROOT)")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		o.Root = cmp.Or(o.Root, env.Getenv("HEGUI_RELEASE_ROOT"))
		if o.Root == "" {
			return cmdutil.Usagef("give --root DIR, the release root (or set HEGUI_RELEASE_ROOT)")
		}
		return nil
	}
}

// addConfig adds the flags that override release.yaml.
func (o *RootOptions) addConfig(cmd *cobra.Command) {
	f, c := cmd.Flags(), &o.Config
	f.StringVar(&c.Restart, "restart", "", "shell `COMMAND` that restarts the service after a switch (restart:)")
	f.StringVar(&c.Signal, "signal", "", "restart by sending `SIG` (HUP, USR2...) to the process in --pidfile instead (signal:)")
	f.StringVar(&c.PIDFile, "pidfile", "", "the service's PID `FILE`: a switch is done once that process runs the new binary (pidfile:)")
	f.StringVar(&c.Health.HTTP, "health-http", "", "healthy when GET `URL` answers 2xx (health.http)")
	f.StringVar(&c.Health.GRPC, "health-grpc", "", "healthy when the gRPC health service at `HOST:PORT` answers SERVING (health.grpc)")
	f.StringVar(&c.Health.GRPCService, "health-grpc-service", "", "the `NAME` asked of the gRPC health service (health.grpc-service)")
	f.StringVar(&c.Health.Command, "health-cmd", "", "healthy when shell `COMMAND` exits 0 (health.command)")
	f.StringVar(&c.Health.Timeout, "health-timeout", "", "`DURATION` the service has to become healthy (health.timeout, default 30s)")
	f.StringVar(&c.Health.Interval, "health-interval", "", "`DURATION` between checks (health.interval, default 200ms)")
	f.StringVar(&c.Health.HealthyFor, "healthy-for", "", "`DURATION` every check must keep passing (health.healthy-for, default 1s)")
}

// open reads ROOT/release.yaml, applies the flags and opens the root.
// It returns the configuration used.
func (o *RootOptions) open(env *cmdutil.Env) (*release.Manager, release.Config, error) {
	if fi, err := os.Stat(o.Root); err == nil && !fi.IsDir() {
		return nil, release.Config{}, cmdutil.Usagef("--root %s is not a directory", o.Root)
	}
	cfg, err := release.LoadConfig(o.Root)
	if err != nil {
		return nil, release.Config{}, err
	}
	merged := cfg.Merge(o.Config)
	if err := merged.Check(); err != nil {
		return nil, merged, cmdutil.UsageError{Err: err}
	}
	m, err := release.Open(release.Options{
		Root: o.Root, Config: merged,
		Progress:   progressWriter{env},
		HookOutput: env.Stderr,
		Warn:       func(err error) { env.Infof("warning: %v", err) },
	})
	return m, merged, err
}

// progressWriter prints the manager's lines as informational output.
type progressWriter struct{ env *cmdutil.Env }

func (w progressWriter) Write(p []byte) (int, error) {
	w.env.Infof("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// closeManager flushes the audit events; a failure there is a warning, the
// operation's own result stands.
func closeManager(env *cmdutil.Env, m *release.Manager) {
	if err := m.Close(); err != nil {
		env.Infof("warning: %v", err)
	}
}

// InstallOptions are the choices of `hegui release install`.
type InstallOptions struct {
	RootOptions
	Delivery string
	Roots    []string
	Pubs     []string
	Platform string
	Files    []string
	Keep     int
	JSON     bool
}

func newInstallCmd(env *cmdutil.Env) *cobra.Command {
	var o InstallOptions
	cmd := &cobra.Command{
		Use:   "install DELIVERY --root DIR (--trust-root CA.pem | --pub KEY)",
		Short: "Verify a delivery, install it, switch to it, and roll back if it is not healthy",
		Long: `Install runs these steps and stops at the first that fails:

  verify   the delivery as "hegui verify" checks it; anything that does not
           verify is refused and nothing is written
  copy     this platform's binaries to ROOT/releases/VERSION/bin/ (and the
           files --file names), each checked against the signed manifest as
           it is copied; the release appears whole or not at all. A version
           is never replaced by different content.
  switch   ROOT/current to the new version: a new link renamed over the old,
           so current always names a whole release
  restart  the service: --restart COMMAND, or --signal SIG to --pidfile's
           process; with --pidfile, until that process runs the new binary
  health   --health-http, --health-grpc, --health-cmd until they all pass
           for --healthy-for, within --health-timeout

When the restart or the health check fails, install switches current back,
restarts, checks that the old version is healthy again, and exits 1 saying
what failed and how long the old version took to answer.

Every setting can live in ROOT/release.yaml instead (docs/release.md).

Exit status: 0 when the new version is current and healthy, 1 otherwise
(also after an automatic rollback), 2 for usage errors.`,
		Example: `  hegui release install dist/app_v1.3.0 --root /srv/app --pub release.pub \
      --restart 'systemctl restart app' --health-http http://127.0.0.1:8080/healthz
  hegui release install dist/app_v1.3.0 --root /srv/app --trust-root company-root.pem \
      --signal HUP --pidfile /run/app.pid --health-grpc 127.0.0.1:9090
  hegui release install dist/app_v1.3.0   # with HEGUI_RELEASE_ROOT and release.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Delivery = args[0]
			return RunInstall(cmd.Context(), env, o)
		},
	}
	o.addRoot(cmd, env)
	o.addConfig(cmd)
	cmd.Flags().StringSliceVar(&o.Roots, "trust-root", nil, "trusted root CA certificates `FILE` (PEM; repeatable; trust-root: in release.yaml)")
	cmd.Flags().StringSliceVar(&o.Pubs, "pub", nil, "trusted public key `FILE` (repeatable; pub: in release.yaml)")
	cmd.Flags().StringVar(&o.Platform, "platform", "", "install the binaries for `GOOS/GOARCH` (default this machine's)")
	cmd.Flags().StringSliceVar(&o.Files, "file", nil, "also install this delivery `PATH` or pattern (repeatable; files:)")
	cmd.Flags().IntVar(&o.Keep, "keep", 0, "after a successful install, remove all but the newest `N` releases (keep:)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print what happened as JSON")
	return cmd
}

// RunInstall runs `hegui release install`.
func RunInstall(ctx context.Context, env *cmdutil.Env, o InstallOptions) error {
	o.Config.TrustRoots, o.Config.Pubs, o.Config.Files, o.Config.Keep = o.Roots, o.Pubs, o.Files, o.Keep
	m, merged, err := o.open(env)
	if err != nil {
		return err
	}
	defer closeManager(env, m)
	roots, pubs := inRoot(o.Root, merged.TrustRoots, o.Roots), inRoot(o.Root, merged.Pubs, o.Pubs)
	if len(roots) == 0 && len(pubs) == 0 {
		return cmdutil.Usagef("give --trust-root CA.pem or --pub KEY (or trust-root:/pub: in %s): what the delivery must be signed by", release.ConfigFile)
	}
	anchors, err := cmdutil.LoadAnchors(roots, pubs)
	if err != nil {
		return err
	}
	out, err := m.Install(ctx, release.InstallOptions{Delivery: o.Delivery, Anchors: anchors, Platform: o.Platform})
	return printOutcome(env, o.JSON, out, err)
}

// inRoot resolves release.yaml's relative paths in the root; paths from
// the command line are the user's, relative to the working directory.
func inRoot(root string, paths, fromFlags []string) []string {
	if len(fromFlags) > 0 {
		return fromFlags
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		out[i] = p
	}
	return out
}

// outcomeJSON is install's and rollback's --json output.
type outcomeJSON struct {
	*release.Outcome
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// printOutcome prints an install's or rollback's outcome with --json and
// returns the operation's error.
func printOutcome(env *cmdutil.Env, asJSON bool, o *release.Outcome, err error) error {
	if !asJSON || o == nil {
		return err
	}
	j := outcomeJSON{Outcome: o, OK: err == nil}
	if err != nil {
		j.Error = human.OneLine(err.Error())
	}
	if jerr := env.PrintJSON(j); jerr != nil {
		return jerr
	}
	return err
}

// RollbackOptions are the choices of `hegui release rollback`.
type RollbackOptions struct {
	RootOptions
	To   string
	JSON bool
}

func newRollbackCmd(env *cmdutil.Env) *cobra.Command {
	var o RollbackOptions
	cmd := &cobra.Command{
		Use:   "rollback --root DIR [--to VERSION]",
		Short: "Switch back to the previous version (or --to VERSION), restart, check health",
		Long: `Rollback switches ROOT/current to the previous version: the one an
interrupted install was switching from, else ROOT/previous (or --to VERSION,
any installed version). The version's files are checked against what was
installed first. It then restarts the service and checks its health as
install does, and ROOT/previous names the version rolled back from, so a
second rollback undoes the first.

Exit status: 0 when the version rolled back to is current and healthy, 1
otherwise, 2 for usage errors.`,
		Example: `  hegui release rollback --root /srv/app
  hegui release rollback --root /srv/app --to v1.2.0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, _, err := o.open(env)
			if err != nil {
				return err
			}
			defer closeManager(env, m)
			out, err := m.Rollback(cmd.Context(), o.To)
			return printOutcome(env, o.JSON, out, err)
		},
	}
	o.addRoot(cmd, env)
	o.addConfig(cmd)
	cmd.Flags().StringVar(&o.To, "to", "", "roll back to this installed `VERSION`")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print what happened as JSON")
	return cmd
}

func newListCmd(env *cmdutil.Env) *cobra.Command {
	var o RootOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --root DIR",
		Short: "List the installed versions, newest first",
		Example: `  hegui release list --root /srv/app
  hegui release list --root /srv/app --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, _, err := o.open(env)
			if err != nil {
				return err
			}
			defer closeManager(env, m)
			entries, err := m.List()
			if err != nil {
				return err
			}
			if asJSON {
				if entries == nil {
					entries = []release.Entry{}
				}
				return env.PrintJSON(entries)
			}
			if len(entries) == 0 {
				env.Infof("no release is installed in %s", o.Root)
				return nil
			}
			for _, e := range entries {
				if e.Problem != "" {
					fmt.Fprintf(env.Stdout, "! %-24s %s\n", e.Version, e.Problem)
					continue
				}
				mark := " "
				switch {
				case e.Current:
					mark = "*"
				case e.Previous:
					mark = "-"
				}
				fmt.Fprintf(env.Stdout, "%s %-24s %s  %s  %s\n", mark, e.Version, e.Installed.Local().Format("2006-01-02 15:04:05"), shortCommit(e.Commit), e.Platform)
			}
			env.Infof("* current, - previous, ! unreadable (left alone by prune)")
			return nil
		},
	}
	o.addRoot(cmd, env)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the releases as JSON")
	return cmd
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return cmp.Or(c, "-")
}

func newStatusCmd(env *cmdutil.Env) *cobra.Command {
	var o RootOptions
	var asJSON, noHealth bool
	cmd := &cobra.Command{
		Use:   "status --root DIR",
		Short: "Say which version is current, whether its files are as installed, and whether it is healthy now",
		Long: `Status reads the root without changing it: the current and previous
versions, an install or rollback that was interrupted, whether every file of
the current release still has the SHA-256 it was installed with, which
binary the --pidfile process runs, and one round of the health checks.

Exit status: 0 when the current release is intact and healthy (or no check
is configured), 1 otherwise.`,
		Example: `  hegui release status --root /srv/app
  hegui release status --root /srv/app --json --no-health`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, _, err := o.open(env)
			if err != nil {
				return err
			}
			defer closeManager(env, m)
			st, err := m.Status(cmd.Context(), !noHealth)
			if err != nil {
				return err
			}
			if asJSON {
				if err := env.PrintJSON(st); err != nil {
					return err
				}
			} else {
				printStatus(env, st)
			}
			switch {
			case !st.Intact:
				return errors.New(st.Problem)
			case st.Healthy != nil && !*st.Healthy:
				return fmt.Errorf("%s is not healthy: %s", st.Current.Version, st.HealthError)
			}
			return nil
		},
	}
	o.addRoot(cmd, env)
	o.addConfig(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	cmd.Flags().BoolVar(&noHealth, "no-health", false, "do not run the health checks")
	return cmd
}

func printStatus(env *cmdutil.Env, st *release.Status) {
	w := func(k, format string, args ...any) {
		fmt.Fprintf(env.Stdout, "%-9s %s\n", k, fmt.Sprintf(format, args...))
	}
	w("root", "%s", st.Root)
	if st.Current != nil {
		c := st.Current
		w("current", "%s %s (commit %s, %s), installed %s", c.Project, c.Version, shortCommit(c.Commit), c.Platform, c.Installed.Local().Format("2006-01-02 15:04:05"))
		if st.Intact {
			w("files", "%d files as installed (SHA-256)", len(c.Files))
		}
		w("signed", "%s", c.Trust)
	}
	if st.Problem != "" {
		w("problem", "%s", st.Problem)
	}
	w("previous", "%s", cmp.Or(st.Previous, "none"))
	if p := st.Pending; p != nil {
		w("pending", "the %s of %s from %s started %s (process %d) did not finish", p.Operation, p.To, cmp.Or(p.From, "none"), p.Started.Local().Format("2006-01-02 15:04:05"), p.PID)
	}
	if st.Running != "" {
		w("process", "%s", st.Running)
	}
	switch {
	case st.Healthy == nil:
	case *st.Healthy:
		w("health", "healthy")
	default:
		w("health", "NOT healthy: %s", st.HealthError)
	}
}

func newPruneCmd(env *cmdutil.Env) *cobra.Command {
	var o RootOptions
	var keep int
	cmd := &cobra.Command{
		Use:     "prune --root DIR --keep N",
		Short:   "Remove all but the newest N versions (current and previous are always kept)",
		Example: `  hegui release prune --root /srv/app --keep 3`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keep < 1 {
				return cmdutil.Usagef("give --keep N, at least 1: how many of the newest releases to keep")
			}
			m, _, err := o.open(env)
			if err != nil {
				return err
			}
			defer closeManager(env, m)
			removed, err := m.Prune(cmd.Context(), keep)
			if err != nil {
				return err
			}
			if len(removed) == 0 {
				env.Infof("nothing to prune")
			}
			for _, v := range removed {
				fmt.Fprintln(env.Stdout, v)
			}
			return nil
		},
	}
	o.addRoot(cmd, env)
	cmd.Flags().IntVar(&keep, "keep", 0, "how many of the newest releases to keep (`N`)")
	return cmd
}

// UnitOptions are the choices of `hegui release unit`.
type UnitOptions struct {
	release.UnitOptions
	Out string
}

func newUnitCmd(env *cmdutil.Env) *cobra.Command {
	var o UnitOptions
	cmd := &cobra.Command{
		Use:   "unit NAME --root DIR [-o NAME.service]",
		Short: "Write a hardened systemd unit that runs ROOT/current/bin/NAME",
		Long: `Unit writes a systemd service unit for the service in a release root, with
the hardening systemd offers: a dedicated user (create it with useradd
--system --no-create-home NAME), NoNewPrivileges, ProtectSystem=strict with
writes only to --rw paths (and --state-dir, --logs-dir), PrivateTmp,
PrivateDevices, an empty CapabilityBoundingSet unless --cap is given,
MemoryDenyWriteExecute, SystemCallFilter=@system-service and more.
"systemd-analyze security NAME.service" rates it about 1.2 ("OK") out of 10
with the defaults (docs/release.md).

Install it with: hegui release unit app --root /srv/app -o /etc/systemd/system/app.service
and then systemctl daemon-reload; systemctl enable --now app.`,
		Example: `  hegui release unit app --root /srv/app --state-dir -o app.service
  hegui release unit web --root /srv/web --cap NET_BIND_SERVICE --arg=-listen --arg=:443
  hegui release unit api --root /srv/api --reload-signal HUP --env GOMAXPROCS=2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			o.Root = cmp.Or(o.Root, env.Getenv("HEGUI_RELEASE_ROOT"))
			if o.Root == "" {
				return cmdutil.Usagef("give --root DIR, the release root (or set HEGUI_RELEASE_ROOT)")
			}
			abs, err := filepath.Abs(o.Root)
			if err != nil {
				return err
			}
			o.Root = abs
			data, err := release.Unit(o.UnitOptions)
			if err != nil {
				return cmdutil.UsageError{Err: err}
			}
			return env.Emit(o.Out, data)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Root, "root", "", "the release root `DIR` (default $HEGUI_RELEASE_ROOT)")
	f.StringVar(&o.Binary, "binary", "", "the binary's `NAME` in current/bin/ (default the unit's name)")
	f.StringArrayVar(&o.Args, "arg", nil, "an argument of the binary (repeatable, in order)")
	f.StringVar(&o.User, "user", "", "the `USER` it runs as (default the unit's name; never root)")
	f.StringVar(&o.Group, "group", "", "the `GROUP` it runs as (default the user's)")
	f.StringVar(&o.Description, "description", "", "the unit's description")
	f.StringSliceVar(&o.ReadWritePaths, "rw", nil, "a `PATH` the service may write (repeatable; everything else is read-only)")
	f.BoolVar(&o.StateDirectory, "state-dir", false, "give the service /var/lib/NAME to write")
	f.BoolVar(&o.LogsDirectory, "logs-dir", false, "give the service /var/log/NAME to write")
	f.StringSliceVar(&o.Capabilities, "cap", nil, "keep this `CAPABILITY` (NET_BIND_SERVICE; repeatable; none by default)")
	f.StringArrayVar(&o.Environment, "env", nil, "a `KEY=VALUE` setting (repeatable)")
	f.StringVar(&o.EnvironmentFile, "env-file", "", "read settings from this `FILE`")
	f.StringVar(&o.ReloadSignal, "reload-signal", "", "systemctl reload sends `SIG` (HUP, USR2) for a service that re-executes itself")
	f.StringVar(&o.PIDFile, "pidfile", "", "the `FILE` the service writes its PID to")
	f.StringVarP(&o.Out, "out", "o", "", "write the unit to `FILE` (default standard output)")
	return cmd
}
