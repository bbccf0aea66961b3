package logcmd

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// Environment variables of the log client commands.
const (
	envLog      = "HEGUI_LOG"
	envLogPub   = "HEGUI_LOG_PUB"
	envLogState = "HEGUI_LOG_STATE"
)

// LogTarget is the log a client command reads and how it checks it: the
// flags --log, --pub and --state.
type LogTarget struct {
	// Log is the log: an http(s) URL, a log home or a directory of tiles
	// (--log, else $HEGUI_LOG).
	Log string
	// Pub is the log's verifier keys file (--pub, else $HEGUI_LOG_PUB,
	// else log.pub of a log home).
	Pub string
	// State is the directory of the checkpoints seen before (--state, else
	// $HEGUI_LOG_STATE, else logclient.DefaultStateDir).
	State string
}

// addLogTarget binds --log, --pub and --state to t.
func addLogTarget(cmd *cobra.Command, t *LogTarget) {
	cmd.Flags().StringVar(&t.Log, "log", "", "the log: an http(s) `URL`, a log home or a directory of tiles (default $"+envLog+")")
	cmd.Flags().StringVar(&t.Pub, "pub", "", "the log's verifier keys `FILE` (default $"+envLogPub+", or log.pub of a log home)")
	cmd.Flags().StringVar(&t.State, "state", "", "`DIR` of checkpoints seen before (default $"+envLogState+", else ~/.local/state/hegui/translog)")
}

// open resolves the target into a client.
func (t LogTarget) open(env *cmdutil.Env) (*logclient.Client, error) {
	loc := cmp.Or(t.Log, env.Getenv(envLog))
	if loc == "" {
		return nil, cmdutil.Usagef("--log is required (a URL such as http://127.0.0.1:8080, or a log home)")
	}
	pub := cmp.Or(t.Pub, env.Getenv(envLogPub))
	if st, err := os.Stat(filepath.Join(loc, logserver.ConfigFile)); err == nil && !st.IsDir() {
		h, err := logserver.Open(loc)
		if err != nil {
			return nil, err
		}
		if pub == "" {
			pub = filepath.Join(loc, logserver.PublicKeyFile)
		}
		if loc = h.StaticDir(); loc == "" {
			return nil, fmt.Errorf("the log in %s keeps its tiles in %s storage: read it through its server URL", h.Dir, h.Config.Storage.Driver)
		}
	}
	if pub == "" {
		return nil, cmdutil.Usagef("--pub is required: the log's verifier keys (log.pub from the log's operator)")
	}
	vs, err := translog.ReadVerifierKeys(pub)
	if err != nil {
		return nil, err
	}
	src, err := logclient.OpenSource(loc, nil)
	if err != nil {
		return nil, err
	}
	return logclient.NewClient(src, vs)
}

// seen is the store of the checkpoints seen before.
func (t LogTarget) seen(env *cmdutil.Env) (logclient.SeenStore, error) {
	dir := cmp.Or(t.State, env.Getenv(envLogState))
	if dir == "" {
		var err error
		if dir, err = logclient.DefaultStateDir(env.Getenv); err != nil {
			return logclient.SeenStore{}, err
		}
	}
	return logclient.NewSeenStore(dir), nil
}

// LogAppendOptions are the choices of `hegui log append`.
type LogAppendOptions struct {
	// Log is the log server's URL (--log, else $HEGUI_LOG).
	Log string
	// TokenFile holds the writer's bearer token (--token-file, else
	// $HEGUI_LOG_TOKEN).
	TokenFile string
	// EventFile holds the events to send in one request, one JSON event or
	// NDJSON, "-" for standard input (--event). It excludes Event.Action.
	EventFile string
	// Event is the one event to send without EventFile (--action, --actor,
	// --object, --outcome, --message, --application, --host,
	// --traceparent); its Action is required. Its time is now; an empty
	// Host is this machine's name.
	Event translog.Event
	// Digests are payload digests, NAME=ALG:HEX, added to Event (--digest).
	Digests []string
	// Wait waits until a signed checkpoint covers Event (--wait).
	Wait bool
}

func newLogAppendCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogAppendOptions
	cmd := &cobra.Command{
		Use:   "append --log URL (--event FILE | --action A --actor WHO --outcome O ...)",
		Short: "Append audit events to a log server",
		Long: `Append sends events to a log server and prints the index each one got once it
is durable. --event reads one JSON event, or NDJSON (one event per line) that
is sent in one request; - reads standard input. Otherwise the flags make one
event, timed now. The token comes from --token-file or $HEGUI_LOG_TOKEN.`,
		Example: `  hegui log append --log http://127.0.0.1:8080 --action user.login --actor alice --outcome success
  hegui log append --log https://audit.example.cn --event events.ndjson
  hegui log append --log http://127.0.0.1:8080 --action backup.create --actor cron --outcome success \
      --object db-2026-11-21 --digest dump.sql=sha256:9f86d081884c7d65...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunLogAppend(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Log, "log", "", "the log server's `URL` (default $"+envLog+")")
	f.StringVar(&opts.TokenFile, "token-file", "", "read the bearer token from `FILE` (default $"+cmdutil.EnvLogToken+")")
	f.StringVar(&opts.EventFile, "event", "", "read events (JSON or NDJSON) from `FILE`, - for stdin")
	f.StringVar(&opts.Event.Action, "action", "", "what was done, e.g. user.login")
	f.StringVar(&opts.Event.Actor, "actor", "", "who did it")
	f.StringVar(&opts.Event.Object, "object", "", "what it was done to")
	f.StringVar(&opts.Event.Outcome, "outcome", translog.OutcomeSuccess, "success, failure or unknown")
	f.StringVar(&opts.Event.Message, "message", "", "a short description")
	f.StringVar(&opts.Event.Application, "application", "hegui", "the reporting program")
	f.StringVar(&opts.Event.Host, "host", "", "the host (default this machine's name)")
	f.StringVar(&opts.Event.Traceparent, "traceparent", "", "W3C traceparent of the request")
	f.StringSliceVar(&opts.Digests, "digest", nil, "payload digest `NAME=ALG:HEX` (repeatable; ALG sha256, sha384, sha512 or sm3)")
	f.BoolVar(&opts.Wait, "wait", false, "wait until a signed checkpoint covers the event")
	return cmd
}

// RunLogAppend sends the events of o.EventFile, or o.Event, to the log
// server and prints the index each one got once it is durable.
func RunLogAppend(ctx context.Context, env *cmdutil.Env, o LogAppendOptions) error {
	u := cmp.Or(o.Log, env.Getenv(envLog))
	if u == "" {
		return cmdutil.Usagef("--log is required: the URL of the log server")
	}
	token := env.Getenv(cmdutil.EnvLogToken)
	if o.TokenFile != "" {
		b, err := inputfile.ReadStream(ctx, o.TokenFile, inputfile.KeyLimit)
		if err != nil {
			return fmt.Errorf("read token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	ev := o.Event
	if o.EventFile != "" {
		if ev.Action != "" {
			return cmdutil.Usagef("--event and --action exclude each other")
		}
		if o.Wait {
			// The server answers a batch once it has sequenced it; waiting
			// for a checkpoint is done one event at a time.
			return cmdutil.Usagef("--wait applies to one event (--action); a batch from --event returns once the log has sequenced it: check its entries with hegui log get")
		}
		return appendEventFile(ctx, env, u, token, o.EventFile)
	}
	if ev.Action == "" {
		return cmdutil.Usagef("give --event FILE or --action (with --actor and --outcome)")
	}
	ev.Time = time.Now().UTC()
	if ev.Host == "" {
		ev.Host, _ = os.Hostname()
	}
	ev.Digests = slices.Clone(ev.Digests)
	for _, d := range o.Digests {
		dg, err := parseDigestFlag(d)
		if err != nil {
			return cmdutil.Usagef("--digest: %v", err)
		}
		ev.Digests = append(ev.Digests, dg)
	}
	app, err := translog.NewHTTPAppender(u, token, nil)
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	if o.Wait {
		r, err := app.AppendAndWait(ctx, ev)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, r.Index)
		return nil
	}
	idx, err := app.Append(ctx, ev)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, idx)
	return nil
}

func parseDigestFlag(s string) (translog.Digest, error) {
	name, rest, ok1 := strings.Cut(s, "=")
	alg, value, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return translog.Digest{}, fmt.Errorf("%q is not NAME=ALG:HEX", s)
	}
	return translog.Digest{Name: name, Algorithm: alg, Value: strings.ToLower(value)}, nil
}

// appendEventFile sends the events of a file in one request: a single
// JSON object, or NDJSON.
func appendEventFile(ctx context.Context, env *cmdutil.Env, logURL, token, file string) error {
	r, done, err := env.OpenInput(file, "events")
	if err != nil {
		return err
	}
	defer done()
	data, err := io.ReadAll(io.LimitReader(r, inputfile.DocumentLimit+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	if len(data) > inputfile.DocumentLimit {
		return &inputfile.TooLargeError{Name: file, Limit: inputfile.DocumentLimit}
	}
	events, err := translog.ParseEvents(data)
	var many *translog.TooManyEventsError
	switch {
	case errors.Is(err, translog.ErrNoEvents):
		return fmt.Errorf("%s holds no events", file)
	case errors.As(err, &many):
		return fmt.Errorf("%s holds %d events; send at most %d per request", file, many.Events, translog.MaxBatchEvents)
	case err != nil:
		return fmt.Errorf("%s: %w", file, err)
	}
	a, err := translog.NewHTTPAppender(logURL, token, &http.Client{Timeout: 5 * time.Minute})
	if err != nil {
		return err
	}
	indexes, err := a.AppendBatch(ctx, events)
	if err != nil {
		return err
	}
	for _, i := range indexes {
		fmt.Fprintln(env.Stdout, i)
	}
	env.Infof("appended %d events", len(indexes))
	return nil
}

// LogGetOptions are the choices of `hegui log get`.
type LogGetOptions struct {
	// LogTarget is the log to read.
	LogTarget
	// Index is N, the entry's index in decimal, as the command line gives
	// it.
	Index string
	// Proof, if set, is a file to write the entry's inclusion proof to
	// (--proof).
	Proof string
}

func newLogGetCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogGetOptions
	cmd := &cobra.Command{
		Use:   "get N --log LOC --pub FILE",
		Short: "Print entry N, proven included in the latest checkpoint",
		Example: `  hegui log get 42 --log http://127.0.0.1:8080 --pub log.pub
  hegui log get 0 --log /srv/auditlog --proof entry0.tlog-proof`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Index = args[0]
			return RunLogGet(cmd.Context(), env, opts)
		},
	}
	addLogTarget(cmd, &opts.LogTarget)
	cmd.Flags().StringVar(&opts.Proof, "proof", "", "also write its inclusion proof (C2SP tlog-proof) to `FILE`")
	return cmd
}

// RunLogGet prints entry o.Index once it is proven included in the log's
// latest checkpoint.
func RunLogGet(ctx context.Context, env *cmdutil.Env, o LogGetOptions) error {
	n, err := strconv.ParseUint(o.Index, 10, 64)
	if err != nil {
		return cmdutil.Usagef("N must be an entry index, not %q", o.Index)
	}
	c, err := o.open(env)
	if err != nil {
		return err
	}
	entry, p, cp, err := c.ProvenEntry(ctx, n)
	if err != nil {
		return err
	}
	if o.Proof != "" {
		if err := env.Emit(o.Proof, p.Marshal()); err != nil {
			return err
		}
	}
	env.Infof("entry %d is included in %s", n, cp)
	_, err = env.Stdout.Write(append(entry, '\n'))
	return err
}

// LogProofOptions are the choices of `hegui log proof`.
type LogProofOptions struct {
	// LogTarget is the log to read; with Check only its Pub counts.
	LogTarget
	// Index is the entry to prove (--index); nil when not given.
	Index *uint64
	// Out is where to write the proof (--out, -o); "" or "-" for stdout.
	Out string
	// Check, if set, is a tlog-proof file to verify offline instead
	// (--check).
	Check string
	// Entry is the file holding the entry's exact bytes, for Check
	// (--entry).
	Entry string
}

func newLogProofCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogProofOptions
	var index uint64
	cmd := &cobra.Command{
		Use:   "proof --index N [--out FILE] | --check PROOF --entry FILE",
		Short: "Write, or check offline, an inclusion proof (C2SP tlog-proof)",
		Long: `Proof writes the inclusion proof of entry N against the latest checkpoint, in
the C2SP tlog-proof format: index, audit path and the signed checkpoint. With
--check it verifies such a proof offline against an entry and --pub.`,
		Example: `  hegui log proof --index 42 --log http://127.0.0.1:8080 --pub log.pub --out 42.tlog-proof
  hegui log proof --check 42.tlog-proof --entry 42.json --pub log.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("index") {
				opts.Index = &index
			}
			return RunLogProof(cmd.Context(), env, opts)
		},
	}
	addLogTarget(cmd, &opts.LogTarget)
	cmd.Flags().Uint64Var(&index, "index", 0, "entry `N`")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the proof to `FILE` (default stdout)")
	cmd.Flags().StringVar(&opts.Check, "check", "", "verify the tlog-proof in `FILE` instead")
	cmd.Flags().StringVar(&opts.Entry, "entry", "", "with --check: the entry's exact bytes, from `FILE`")
	return cmd
}

// RunLogProof writes the inclusion proof of entry *o.Index in the log's
// latest checkpoint, or with o.Check verifies such a proof offline.
func RunLogProof(ctx context.Context, env *cmdutil.Env, o LogProofOptions) error {
	if o.Check != "" {
		return checkProofFile(ctx, env, o.Pub, o.Check, o.Entry)
	}
	if o.Index == nil {
		return cmdutil.Usagef("give --index N (or --check PROOF --entry FILE)")
	}
	c, err := o.open(env)
	if err != nil {
		return err
	}
	_, p, _, err := c.ProvenEntry(ctx, *o.Index)
	if err != nil {
		return err
	}
	return env.Emit(o.Out, p.Marshal())
}

// checkProofFile verifies the tlog-proof in proofFile offline against the
// entry in entryFile and the keys in pub (else $HEGUI_LOG_PUB).
func checkProofFile(ctx context.Context, env *cmdutil.Env, pub, proofFile, entryFile string) error {
	if entryFile == "" {
		return cmdutil.Usagef("--check needs --entry FILE (the entry's exact bytes)")
	}
	pub = cmp.Or(pub, env.Getenv(envLogPub))
	if pub == "" {
		return cmdutil.Usagef("--check needs --pub FILE")
	}
	vs, err := translog.ReadVerifierKeys(pub)
	if err != nil {
		return err
	}
	pdata, err := inputfile.Read(ctx, proofFile, inputfile.KeyLimit)
	if err != nil {
		return err
	}
	p, err := translog.ParseInclusionProof(pdata)
	if err != nil {
		return fmt.Errorf("%s: %w", proofFile, err)
	}
	entry, err := inputfile.Read(ctx, entryFile, inputfile.DocumentLimit)
	if err != nil {
		return err
	}
	cp, err := p.Verify(bytes.TrimSuffix(entry, []byte("\n")), vs)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "OK: entry %d is in %s\n", p.Index, cp)
	return nil
}

// LogConsistencyOptions are the choices of `hegui log consistency`.
type LogConsistencyOptions struct {
	// LogTarget is the log to read.
	LogTarget
	// Checkpoint, if set, is a file holding the signed checkpoint to
	// compare with instead of the one seen before (--checkpoint).
	Checkpoint string
}

func newLogConsistencyCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogConsistencyOptions
	cmd := &cobra.Command{
		Use:   "consistency [--checkpoint FILE]",
		Short: "Prove the log only grew since a checkpoint seen before",
		Long: `Consistency fetches the latest checkpoint and proves that the checkpoint seen
before (the last one this client verified, kept in --state, or --checkpoint
FILE, such as one stored in a delivery) describes a prefix of it. It prints
the proof's hashes. A log that was rolled back or forked fails with exit 1.`,
		Example: `  hegui log consistency --log http://127.0.0.1:8080 --pub log.pub
  hegui log consistency --log http://127.0.0.1:8080 --pub log.pub --checkpoint old.checkpoint`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunLogConsistency(cmd.Context(), env, opts)
		},
	}
	addLogTarget(cmd, &opts.LogTarget)
	cmd.Flags().StringVar(&opts.Checkpoint, "checkpoint", "", "compare with the signed checkpoint in `FILE` instead of the one seen before")
	return cmd
}

// RunLogConsistency proves that the log's latest checkpoint extends the one
// seen before (or o.Checkpoint), prints the proof's hashes and records the
// latest checkpoint as seen. On a first run it only records it.
func RunLogConsistency(ctx context.Context, env *cmdutil.Env, o LogConsistencyOptions) error {
	c, err := o.open(env)
	if err != nil {
		return err
	}
	latest, err := c.Checkpoint(ctx)
	if err != nil {
		return err
	}
	store, err := o.seen(env)
	if err != nil {
		return err
	}
	var older translog.Checkpoint
	if o.Checkpoint != "" {
		raw, err := inputfile.Read(ctx, o.Checkpoint, inputfile.KeyLimit)
		if err != nil {
			return err
		}
		if older, err = translog.OpenCheckpoint(raw, c.Verifiers()); err != nil {
			return fmt.Errorf("%s: %w", o.Checkpoint, err)
		}
	} else {
		var ok bool
		if older, ok, err = store.Load(c.Verifiers()); err != nil {
			return err
		} else if !ok {
			if err := store.Save(latest); err != nil {
				return err
			}
			env.Infof("first checkpoint seen for %s: %s (recorded; nothing to compare with yet)", c.Origin(), latest)
			return nil
		}
	}
	hashes, err := c.Consistency(ctx, older, latest)
	if err != nil {
		return err
	}
	for _, h := range hashes {
		fmt.Fprintln(env.Stdout, base64.StdEncoding.EncodeToString(h))
	}
	if o.Checkpoint == "" {
		if err := store.Save(latest); err != nil {
			return err
		}
	}
	env.Infof("consistent: %d -> %d entries", older.Size, latest.Size)
	return nil
}

// VerifyResult is `hegui log verify --json`.
type VerifyResult struct {
	Origin  string `json:"origin"`
	Size    uint64 `json:"size"`
	Root    string `json:"root"`
	Entries uint64 `json:"entries"`
	Tiles   int    `json:"tiles"`
	// PreviousSize is the size of the checkpoint seen before, which the
	// log was proven consistent with; absent on a first verification.
	PreviousSize *uint64 `json:"previousSize,omitempty"`
	Seconds      float64 `json:"seconds"`
}

// LogVerifyOptions are the choices of `hegui log verify`.
type LogVerifyOptions struct {
	// LogTarget is the log to read.
	LogTarget
	// JSON prints the result as JSON, a VerifyResult (--json).
	JSON bool
}

func newLogVerifyCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogVerifyOptions
	cmd := &cobra.Command{
		Use:   "verify --log LOC --pub FILE",
		Short: "Check a whole log: signatures, every entry and tile, and no rollback",
		Long: `Verify fetches the latest checkpoint and checks its signatures (every key in
--pub), reads every entry, recomputes every hash tile and the root, and
compares them with the log's files and the signed root: a changed byte in a
tile or entry bundle fails with the file named. It then proves the log is
consistent with the checkpoint this client saw last (--state), so a log that
was rolled back or forked is reported; the new checkpoint is recorded.`,
		Example: `  hegui log verify --log http://127.0.0.1:8080 --pub log.pub
  hegui log verify --log /srv/auditlog --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunLogVerify(cmd.Context(), env, opts)
		},
	}
	addLogTarget(cmd, &opts.LogTarget)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

// RunLogVerify checks the whole log against its latest checkpoint and its
// consistency with the checkpoint seen before, records the latest as seen
// and prints the result.
func RunLogVerify(ctx context.Context, env *cmdutil.Env, o LogVerifyOptions) error {
	c, err := o.open(env)
	if err != nil {
		return err
	}
	store, err := o.seen(env)
	if err != nil {
		return err
	}
	start := time.Now()
	cp, err := c.Checkpoint(ctx)
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	progress := func(done, total uint64) {}
	if !env.Quiet && env.StderrIsTerminal && cp.Size > 100_000 {
		bar = progressbar.NewOptions64(int64(cp.Size), progressbar.OptionSetWriter(env.Stderr),
			progressbar.OptionSetDescription("verifying entries"), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		progress = func(done, total uint64) { bar.Set64(int64(min(done*256, cp.Size))) }
	}
	rep, err := c.VerifyTree(ctx, cp, progress)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("log %s is corrupt: %w", c.Origin(), err)
	}
	prev, hadPrev, err := c.Advance(ctx, store, cp)
	if err != nil {
		return err
	}
	res := VerifyResult{Origin: c.Origin(), Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root),
		Entries: rep.Entries, Tiles: rep.Tiles, Seconds: time.Since(start).Seconds()}
	if hadPrev {
		res.PreviousSize = &prev.Size
	}
	if o.JSON {
		return env.PrintJSON(res)
	}
	fmt.Fprintf(env.Stdout, "OK: %s: %d entries, %d tiles and the signed root check out\n", c.Origin(), rep.Entries, rep.Tiles)
	if hadPrev {
		fmt.Fprintf(env.Stdout, "OK: consistent with the checkpoint seen before (%d entries)\n", prev.Size)
	}
	return nil
}

// LogMonitorOptions are the choices of `hegui log monitor`.
type LogMonitorOptions struct {
	// LogTarget is the log to follow.
	LogTarget
	// Interval is the time between polls (--interval, 10s by default).
	Interval time.Duration
	// Print writes each new entry on stdout (--print).
	Print bool
	// Rounds is how many polls to make; 0 polls until ctx ends (--rounds).
	Rounds int
}

func newLogMonitorCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogMonitorOptions
	cmd := &cobra.Command{
		Use:   "monitor --log LOC --pub FILE [--interval 10s]",
		Short: "Follow a log and verify every new checkpoint and entry",
		Long: `Monitor polls the log. For every new checkpoint it checks the signatures,
proves consistency with the previous one, reads the new entries, checks that
each is a valid audit event and that together with the earlier tree they hash
to the signed root. It starts from the checkpoint seen before (--state), so
nothing is read twice across runs. A fork, rollback or corrupt entry stops it
with exit 1. --print writes each new entry on stdout.`,
		Example: `  hegui log monitor --log https://audit.example.cn --pub log.pub --print
  hegui log monitor --log /srv/auditlog --interval 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunLogMonitor(cmd.Context(), env, opts)
		},
	}
	addLogTarget(cmd, &opts.LogTarget)
	cmd.Flags().DurationVar(&opts.Interval, "interval", 10*time.Second, "time between polls")
	cmd.Flags().BoolVar(&opts.Print, "print", false, "print new entries on stdout")
	cmd.Flags().IntVar(&opts.Rounds, "rounds", 0, "stop after `N` polls (0: run until interrupted)")
	return cmd
}

// RunLogMonitor follows the log (logclient.Monitor), verifying every new
// checkpoint and entry, and says on stderr when a poll verified new
// entries. It returns nil once the rounds are done or ctx ends between
// polls, and the error of the first poll that fails.
func RunLogMonitor(ctx context.Context, env *cmdutil.Env, o LogMonitorOptions) error {
	c, err := o.open(env)
	if err != nil {
		return err
	}
	store, err := o.seen(env)
	if err != nil {
		return err
	}
	m := &logclient.Monitor{Client: c, Store: store}
	if o.Print {
		m.OnEntry = func(_ uint64, entry []byte) { fmt.Fprintf(env.Stdout, "%s\n", entry) }
	}
	return m.Follow(ctx, o.Interval, o.Rounds, func(before, now translog.Checkpoint) {
		if now.Size > before.Size {
			env.Infof("%s: verified %d new entries (now %d)", time.Now().Format(time.RFC3339), now.Size-before.Size, now.Size)
		}
	})
}
