package logcmd

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
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

// logTarget is the log a client command reads: --log, --pub and --state.
type logTarget struct {
	env      *cmdutil.Env
	location string
	pub      string
	state    string
}

func addLogTarget(cmd *cobra.Command, env *cmdutil.Env) *logTarget {
	t := &logTarget{env: env}
	cmd.Flags().StringVar(&t.location, "log", "", "the log: an http(s) `URL`, a log home or a directory of tiles (default $"+envLog+")")
	cmd.Flags().StringVar(&t.pub, "pub", "", "the log's verifier keys `FILE` (default $"+envLogPub+", or log.pub of a log home)")
	cmd.Flags().StringVar(&t.state, "state", "", "`DIR` of checkpoints seen before (default $"+envLogState+", else ~/.local/state/hegui/translog)")
	return t
}

// open resolves the flags into a client.
func (t *logTarget) open() (*logclient.Client, error) {
	loc := cmp.Or(t.location, t.env.Getenv(envLog))
	if loc == "" {
		return nil, cmdutil.Usagef("--log is required (a URL such as http://127.0.0.1:8080, or a log home)")
	}
	pub := cmp.Or(t.pub, t.env.Getenv(envLogPub))
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

func (t *logTarget) seen() (logclient.SeenStore, error) {
	dir := cmp.Or(t.state, t.env.Getenv(envLogState))
	if dir == "" {
		var err error
		if dir, err = logclient.DefaultStateDir(t.env.Getenv); err != nil {
			return logclient.SeenStore{}, err
		}
	}
	return logclient.NewSeenStore(dir), nil
}

// provenEntry reads entry n with its inclusion proof in the log's latest
// checkpoint, both verified.
func (t *logTarget) provenEntry(ctx context.Context, n uint64) ([]byte, translog.InclusionProof, translog.Checkpoint, error) {
	c, err := t.open()
	if err != nil {
		return nil, translog.InclusionProof{}, translog.Checkpoint{}, err
	}
	cp, err := c.Checkpoint(ctx)
	if err != nil {
		return nil, translog.InclusionProof{}, translog.Checkpoint{}, err
	}
	entry, err := c.Entry(ctx, n, cp.Size)
	if err != nil {
		return nil, translog.InclusionProof{}, translog.Checkpoint{}, err
	}
	p, err := c.Inclusion(ctx, entry, n, cp)
	return entry, p, cp, err
}

func newLogAppendCmd(env *cmdutil.Env) *cobra.Command {
	var logURL, tokenFile, eventFile string
	var ev translog.Event
	var digests []string
	var wait bool
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
			u := cmp.Or(logURL, env.Getenv(envLog))
			if u == "" {
				return cmdutil.Usagef("--log is required: the URL of the log server")
			}
			token := env.Getenv(cmdutil.EnvLogToken)
			if tokenFile != "" {
				b, err := inputfile.ReadStream(cmd.Context(), tokenFile, inputfile.KeyLimit)
				if err != nil {
					return fmt.Errorf("read token file: %w", err)
				}
				token = strings.TrimSpace(string(b))
			}
			if eventFile != "" {
				if ev.Action != "" {
					return cmdutil.Usagef("--event and --action exclude each other")
				}
				return appendEventFile(cmd.Context(), env, u, token, eventFile)
			}
			if ev.Action == "" {
				return cmdutil.Usagef("give --event FILE or --action (with --actor and --outcome)")
			}
			ev.Time = time.Now().UTC()
			if ev.Host == "" {
				ev.Host, _ = os.Hostname()
			}
			for _, d := range digests {
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
			if wait {
				r, err := app.AppendAndWait(cmd.Context(), ev)
				if err != nil {
					return err
				}
				fmt.Fprintln(env.Stdout, r.Index)
				return nil
			}
			idx, err := app.Append(cmd.Context(), ev)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, idx)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&logURL, "log", "", "the log server's `URL` (default $"+envLog+")")
	f.StringVar(&tokenFile, "token-file", "", "read the bearer token from `FILE` (default $"+cmdutil.EnvLogToken+")")
	f.StringVar(&eventFile, "event", "", "read events (JSON or NDJSON) from `FILE`, - for stdin")
	f.StringVar(&ev.Action, "action", "", "what was done, e.g. user.login")
	f.StringVar(&ev.Actor, "actor", "", "who did it")
	f.StringVar(&ev.Object, "object", "", "what it was done to")
	f.StringVar(&ev.Outcome, "outcome", translog.OutcomeSuccess, "success, failure or unknown")
	f.StringVar(&ev.Message, "message", "", "a short description")
	f.StringVar(&ev.Application, "application", "hegui", "the reporting program")
	f.StringVar(&ev.Host, "host", "", "the host (default this machine's name)")
	f.StringVar(&ev.Traceparent, "traceparent", "", "W3C traceparent of the request")
	f.StringSliceVar(&digests, "digest", nil, "payload digest `NAME=ALG:HEX` (repeatable; ALG sha256, sha384, sha512 or sm3)")
	f.BoolVar(&wait, "wait", false, "wait until a signed checkpoint covers the event")
	return cmd
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
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			lines = append(lines, bytes.Clone(l))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s holds no events", file)
	}
	if len(lines) > 1 && !json.Valid(lines[0]) {
		// One pretty-printed JSON object over several lines.
		lines = [][]byte{bytes.TrimSpace(data)}
	}
	if len(lines) > translog.MaxBatchEvents {
		return fmt.Errorf("%s holds %d events; send at most %d per request", file, len(lines), translog.MaxBatchEvents)
	}
	events := make([]translog.Event, len(lines))
	for i, l := range lines {
		if events[i], err = translog.ParseEvent(l); err != nil {
			return fmt.Errorf("%s: event %d: %w", file, i+1, err)
		}
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

func newLogGetCmd(env *cmdutil.Env) *cobra.Command {
	var t *logTarget
	var proofOut string
	cmd := &cobra.Command{
		Use:   "get N --log LOC --pub FILE",
		Short: "Print entry N, proven included in the latest checkpoint",
		Example: `  hegui log get 42 --log http://127.0.0.1:8080 --pub log.pub
  hegui log get 0 --log /srv/auditlog --proof entry0.tlog-proof`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return cmdutil.Usagef("N must be an entry index, not %q", args[0])
			}
			entry, p, cp, err := t.provenEntry(cmd.Context(), n)
			if err != nil {
				return err
			}
			if proofOut != "" {
				if err := env.Emit(proofOut, p.Marshal()); err != nil {
					return err
				}
			}
			env.Infof("entry %d is included in %s", n, cp)
			_, err = env.Stdout.Write(append(entry, '\n'))
			return err
		},
	}
	t = addLogTarget(cmd, env)
	cmd.Flags().StringVar(&proofOut, "proof", "", "also write its inclusion proof (C2SP tlog-proof) to `FILE`")
	return cmd
}

func newLogProofCmd(env *cmdutil.Env) *cobra.Command {
	var t *logTarget
	var index uint64
	var out, check, entryFile string
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
			if check != "" {
				return checkProofFile(cmd.Context(), env, t, check, entryFile)
			}
			if !cmd.Flags().Changed("index") {
				return cmdutil.Usagef("give --index N (or --check PROOF --entry FILE)")
			}
			_, p, _, err := t.provenEntry(cmd.Context(), index)
			if err != nil {
				return err
			}
			return env.Emit(out, p.Marshal())
		},
	}
	t = addLogTarget(cmd, env)
	cmd.Flags().Uint64Var(&index, "index", 0, "entry `N`")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the proof to `FILE` (default stdout)")
	cmd.Flags().StringVar(&check, "check", "", "verify the tlog-proof in `FILE` instead")
	cmd.Flags().StringVar(&entryFile, "entry", "", "with --check: the entry's exact bytes, from `FILE`")
	return cmd
}

func checkProofFile(ctx context.Context, env *cmdutil.Env, t *logTarget, proofFile, entryFile string) error {
	if entryFile == "" {
		return cmdutil.Usagef("--check needs --entry FILE (the entry's exact bytes)")
	}
	pub := cmp.Or(t.pub, env.Getenv(envLogPub))
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

func newLogConsistencyCmd(env *cmdutil.Env) *cobra.Command {
	var t *logTarget
	var cpFile string
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
			c, err := t.open()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			latest, err := c.Checkpoint(ctx)
			if err != nil {
				return err
			}
			store, err := t.seen()
			if err != nil {
				return err
			}
			var older translog.Checkpoint
			if cpFile != "" {
				raw, err := inputfile.Read(ctx, cpFile, inputfile.KeyLimit)
				if err != nil {
					return err
				}
				if older, err = translog.OpenCheckpoint(raw, c.Verifiers()); err != nil {
					return fmt.Errorf("%s: %w", cpFile, err)
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
			if cpFile == "" {
				if err := store.Save(latest); err != nil {
					return err
				}
			}
			env.Infof("consistent: %d -> %d entries", older.Size, latest.Size)
			return nil
		},
	}
	t = addLogTarget(cmd, env)
	cmd.Flags().StringVar(&cpFile, "checkpoint", "", "compare with the signed checkpoint in `FILE` instead of the one seen before")
	return cmd
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

func newLogVerifyCmd(env *cmdutil.Env) *cobra.Command {
	var t *logTarget
	var asJSON bool
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
			c, err := t.open()
			if err != nil {
				return err
			}
			store, err := t.seen()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
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
			if asJSON {
				return env.PrintJSON(res)
			}
			fmt.Fprintf(env.Stdout, "OK: %s: %d entries, %d tiles and the signed root check out\n", c.Origin(), rep.Entries, rep.Tiles)
			if hadPrev {
				fmt.Fprintf(env.Stdout, "OK: consistent with the checkpoint seen before (%d entries)\n", prev.Size)
			}
			return nil
		},
	}
	t = addLogTarget(cmd, env)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newLogMonitorCmd(env *cmdutil.Env) *cobra.Command {
	var t *logTarget
	var interval time.Duration
	var printEntries bool
	var rounds int
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
			c, err := t.open()
			if err != nil {
				return err
			}
			store, err := t.seen()
			if err != nil {
				return err
			}
			m := &logclient.Monitor{Client: c, Store: store}
			if printEntries {
				m.OnEntry = func(_ uint64, entry []byte) { fmt.Fprintf(env.Stdout, "%s\n", entry) }
			}
			ctx := cmd.Context()
			for round := 0; rounds == 0 || round < rounds; round++ {
				if round > 0 {
					select {
					case <-ctx.Done():
						return nil
					case <-time.After(interval):
					}
				}
				before := m.Checkpoint().Size
				cp, err := m.Poll(ctx)
				if err != nil {
					return err
				}
				if cp.Size > before {
					env.Infof("%s: verified %d new entries (now %d)", time.Now().Format(time.RFC3339), cp.Size-before, cp.Size)
				}
			}
			return nil
		},
	}
	t = addLogTarget(cmd, env)
	cmd.Flags().DurationVar(&interval, "interval", 10*time.Second, "time between polls")
	cmd.Flags().BoolVar(&printEntries, "print", false, "print new entries on stdout")
	cmd.Flags().IntVar(&rounds, "rounds", 0, "stop after `N` polls (0: run until interrupted)")
	return cmd
}
