package scancmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/transparency"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/rescan"
	"hegui.dev/hegui/internal/vulndb"
	"hegui.dev/hegui/translog"
)

// RescanOptions are the choices of `hegui rescan`.
type RescanOptions struct {
	// Delivery is the delivery directory.
	Delivery string
	// Out is the rescan's directory; "" means DELIVERY.rescan-YYYYMMDDTHHMMSSZ
	// beside the delivery.
	Out string
	// DB is the vulnerability database ("" means $HEGUI_VULNDB, else
	// ~/.cache/hegui/vulndb).
	DB string
	// Key signs the OpenVEX update (--key; its password from
	// --password-file, else $HEGUI_KEY_PASSWORD, else the terminal).
	Key *cmdutil.KeyRef
	// Author makes the OpenVEX statements; "" means the module's
	// maintainers.
	Author string
	// MemoryBudget bounds the scan's memory (e.g. 4GiB, or off).
	MemoryBudget string
	// AuditLog and AuditLogPub record the rescan in a transparency log;
	// the writer's token is $HEGUI_LOG_TOKEN.
	AuditLog, AuditLogPub string
	// JSON prints rescan.json instead of a summary.
	JSON bool
}

// NewRescanCmd makes `hegui rescan`.
func NewRescanCmd(env *cmdutil.Env) *cobra.Command {
	var opts RescanOptions
	cmd := &cobra.Command{
		Use:   "rescan DELIVERY --key KEY",
		Short: "Scan a shipped delivery again and sign an OpenVEX update",
		Long: `Rescan scans the binaries of a delivery made earlier (each checked against
its manifest first) against the vulnerability database as it is now, and
writes a signed OpenVEX update beside the delivery, which itself is never
changed:

  vulns.json         the scan
  vex.openvex.json   OpenVEX 0.2.0 statements about the delivered binaries
  vex.intoto.jsonl   the same as an in-toto statement, signed with --key (DSSE)
  rescan.json        the delivery's manifest digest, the database, what is new since release

With --audit-log the rescan is also appended to a transparency log (action
delivery.rescan, naming the delivery's manifest and the update by digest),
with its inclusion proof under transparency/. Run it on a schedule: the
series of updates is the evidence that shipped versions are watched.`,
		Example: `  hegui vulndb update
  hegui rescan dist/app_v1.2.3 --key keyring:release
  HEGUI_LOG_TOKEN=... hegui rescan dist/app_v1.2.3 --key release.key \
      --audit-log https://audit.example.cn --audit-log-pub log.pub`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Delivery = args[0]
			return RunRescan(cmd.Context(), env, opts)
		},
	}
	dbFlag(cmd, env, &opts.DB)
	opts.Key = cmdutil.AddKeyFlag(cmd, env, "key", "key that signs the OpenVEX update")
	cmd.Flags().StringVarP(&opts.Out, "output", "o", "", "write the update to `DIR` (default: DELIVERY.rescan-TIME beside it)")
	cmd.Flags().StringVar(&opts.Author, "author", "", "who makes the OpenVEX statements (default: the maintainers of the module)")
	cmd.Flags().StringVar(&opts.MemoryBudget, "memory-budget", config.DefaultMemoryBudget, "memory the scan may use")
	cmd.Flags().StringVar(&opts.AuditLog, "audit-log", "", "record the rescan in the transparency log at `URL`")
	cmd.Flags().StringVar(&opts.AuditLogPub, "audit-log-pub", "", "the audit log's verifier keys `FILE` (log.pub)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print rescan.json")
	return cmd
}

// RunRescan rescans the delivery and writes the signed update.
func RunRescan(ctx context.Context, env *cmdutil.Env, o RescanOptions) error {
	if o.Key == nil || o.Key.Ref == "" {
		return cmdutil.Usagef("--key is required: the key that signs the OpenVEX update (the delivery's release key)")
	}
	if (o.AuditLog == "") != (o.AuditLogPub == "") {
		return cmdutil.Usagef("--audit-log and --audit-log-pub go together: the log's URL and its log.pub")
	}
	limit, err := config.ParseBudget(o.MemoryBudget)
	if err != nil {
		return cmdutil.Usagef("--memory-budget: %v", err)
	}
	if fi, err := os.Stat(o.Delivery); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a delivery directory", o.Delivery)
	}
	now := time.Now().UTC()
	out := o.Out
	if out == "" {
		out = strings.TrimRight(o.Delivery, "/") + ".rescan-" + now.Format("20060102T150405Z")
	}
	if o.DB == "" {
		o.DB = vulndb.DefaultPath(env.Getenv)
	}
	info, err := vulndb.OpenIndex(o.DB)
	if err != nil {
		return err
	}
	if err := info.Hash(); err != nil {
		return err
	}
	key, err := o.Key.OpenSigner(ctx)
	if err != nil {
		return err
	}
	defer key.Close()
	opts := rescan.Options{Delivery: o.Delivery, Out: out, DB: info, Key: key.Signer, Author: o.Author, Now: now, MemoryBudget: limit}
	if !env.Quiet {
		opts.Progress = func(f string, a ...any) { env.Infof("  "+f, a...) }
	}
	if o.AuditLog != "" {
		keyData, err := inputfile.Read(ctx, o.AuditLogPub, inputfile.KeyLimit)
		if err != nil {
			return fmt.Errorf("--audit-log-pub: %w", err)
		}
		verifiers, err := translog.ParseVerifierKeys(keyData)
		if err != nil {
			return fmt.Errorf("--audit-log-pub %s: %w", o.AuditLogPub, err)
		}
		opts.Log = &rescan.Log{URL: o.AuditLog, Token: env.Getenv(cmdutil.EnvLogToken), Verifiers: verifiers,
			Record: func(ctx context.Context, url, token string, v []note.Verifier, ev translog.Event) ([]byte, []byte, uint64, error) {
				rec, err := transparency.Record(ctx, url, token, v, ev)
				if err != nil {
					return nil, nil, 0, err
				}
				return rec.Entry, rec.Proof.Marshal(), rec.Result.Index, nil
			}}
	}
	sum, err := rescan.Run(ctx, opts)
	if err != nil {
		return err
	}
	if o.JSON {
		return env.PrintJSON(sum)
	}
	fmt.Fprintf(env.Stdout, "Rescanned %s against the database of %s: %d known vulnerabilities, %d in code the binaries link, %d new since release%s\n",
		sum.Delivery, rescan.DatabaseDate(sum.Database.Modified), sum.Findings, sum.Linked, len(sum.New), newList(sum.New))
	fmt.Fprintf(env.Stdout, "Signed OpenVEX update: %s\n", filepath.Join(out, rescan.StatementFile))
	if sum.Logged != nil {
		fmt.Fprintf(env.Stdout, "Recorded as entry %d of %s\n", sum.Logged.Index, sum.Logged.URL)
	}
	return nil
}

func newList(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return " (" + strings.Join(ids, ", ") + ")"
}
