// Package logcmd is `hegui log`: running a transparency audit log
// (logserver, httpserve) and reading and checking one (translog,
// logclient).
package logcmd

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/httpserve"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/logserver"
)

// NewLogCmd makes `hegui log` and its subcommands.
func NewLogCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Run and check a transparency audit log",
		Long: `Log runs an append-only audit log (C2SP tlog-tiles, built on Tessera) and
checks one. Every entry is an audit event (docs/audit-log.md); checkpoints are
signed with Ed25519 and SM2, so anyone holding log.pub can prove that an event
is in the log and that the log was never rewritten.

Server side: init creates a log home, writer manages who may append, serve
runs the HTTP API. Client side: append, get, proof, consistency, verify and
monitor take --log (a URL, a log home or a directory of tiles) and --pub (the
log's verifier keys; found by itself in a log home).`,
		Args: cobra.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	cmd.AddCommand(newLogInitCmd(env), newLogWriterCmd(env), newLogServeCmd(env),
		newLogAppendCmd(env), newLogGetCmd(env), newLogProofCmd(env), newLogConsistencyCmd(env),
		newLogVerifyCmd(env), newLogMonitorCmd(env))
	return cmd
}

// logKeyPassword is the password of a log's checkpoint keys: from
// --password-file, $HEGUI_LOG_KEY_PASSWORD or the terminal.
func logKeyPassword(cmd *cobra.Command, env *cmdutil.Env, confirm bool) *cmdutil.PasswordSource {
	p := logKeyPasswordSource(env, confirm)
	p.Cmd = cmd
	cmd.Flags().StringVar(&p.File, "password-file", "", "read the checkpoint keys' password from `FILE` (else $"+logserver.KeyPasswordEnv+")")
	return p
}

// logKeyPasswordSource is the password of a log's checkpoint keys without
// a --password-file: $HEGUI_LOG_KEY_PASSWORD or the terminal.
func logKeyPasswordSource(env *cmdutil.Env, confirm bool) *cmdutil.PasswordSource {
	return &cmdutil.PasswordSource{Env: env, EnvName: logserver.KeyPasswordEnv, Prompt: "Password for the log's checkpoint keys: ", Confirm: confirm}
}

// LogInitOptions are the choices of `hegui log init`.
type LogInitOptions struct {
	// Dir is the log home to create (DIR): a new or empty directory.
	Dir string
	// Origin is the log's name, the first line of its checkpoints
	// (--origin); required.
	Origin string
	// NoSM2 leaves out the SM2 checkpoint key: checkpoints are signed with
	// Ed25519 only (--no-sm2).
	NoSM2 bool
	// Storage is where the log keeps entries and tiles (--storage, --dsn,
	// --bucket, --bucket-prefix, --endpoint, --region, --path-style). An
	// empty driver is posix, which without a path keeps them in DIR/data.
	Storage logserver.StorageConfig
	// Password is where the checkpoint keys' password comes from
	// (--password-file, else $HEGUI_LOG_KEY_PASSWORD); with neither, the
	// keys are written unencrypted. Nil means no --password-file.
	Password *cmdutil.PasswordSource
}

func newLogInitCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogInitOptions
	cmd := &cobra.Command{
		Use:   "init DIR --origin NAME",
		Short: "Create a log home: keys, configuration and storage",
		Long: `Init creates a log home in DIR (new or empty): an Ed25519 and an SM2
checkpoint key, log.pub with their verifier keys, log.yaml and the data
directory of the POSIX storage driver.

The keys are encrypted (PKCS#8, SM4 for SM2) when a password is given with
--password-file or $HEGUI_LOG_KEY_PASSWORD; serve then needs the same
password. Otherwise they are written unencrypted with mode 0600.

NAME is the log's origin, the first line of every checkpoint: choose a stable
name that says whose log it is, such as audit.example.com/prod.

Storage (docs/audit-log-storage.md):
  posix   ` + logserver.DescribeDriver("posix") + `
  mysql   ` + logserver.DescribeDriver("mysql") + `
  aws     ` + logserver.DescribeDriver("aws") + `
Passwords and keys never go into log.yaml: the MySQL password is read from
$HEGUI_LOG_MYSQL_PASSWORD, S3 keys from $AWS_ACCESS_KEY_ID and
$AWS_SECRET_ACCESS_KEY.`,
		Example: `  hegui log init /srv/auditlog --origin audit.example.com/prod
  HEGUI_LOG_KEY_PASSWORD=... hegui log init ./log --origin ci.example.cn/builds
  hegui log init /srv/auditlog --origin audit.example.cn/prod --storage mysql \
      --dsn 'hegui@tcp(db.example.cn:3306)/auditlog'
  hegui log init /srv/auditlog --origin audit.example.cn/prod --storage aws \
      --dsn 'hegui@tcp(db:3306)/auditlog' --bucket auditlog --endpoint https://s3.example.cn --path-style`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			return RunLogInit(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Origin, "origin", "", "the log's `NAME` (first line of its checkpoints)")
	cmd.Flags().BoolVar(&opts.NoSM2, "no-sm2", false, "sign checkpoints with Ed25519 only")
	f := cmd.Flags()
	f.StringVar(&opts.Storage.Driver, "storage", "posix", "storage `DRIVER`: "+strings.Join(logserver.Drivers(), ", "))
	f.StringVar(&opts.Storage.DSN, "dsn", "", "mysql, aws: the MySQL/MariaDB `DSN` without its password (user@tcp(host:3306)/db)")
	f.StringVar(&opts.Storage.Bucket, "bucket", "", "aws: the S3 `BUCKET` for tiles and entry bundles")
	f.StringVar(&opts.Storage.BucketPrefix, "bucket-prefix", "", "aws: a `PREFIX` for the log's objects in the bucket")
	f.StringVar(&opts.Storage.Endpoint, "endpoint", "", "aws: an S3-compatible `URL` (default: AWS itself)")
	f.StringVar(&opts.Storage.Region, "region", "", "aws: the S3 `REGION`")
	f.BoolVar(&opts.Storage.PathStyle, "path-style", false, "aws: path-style bucket URLs (most S3-compatible servers)")
	opts.Password = logKeyPassword(cmd, env, true)
	return cmd
}

// RunLogInit creates the log home o.Dir and says what to do with it next.
func RunLogInit(ctx context.Context, env *cmdutil.Env, o LogInitOptions) error {
	if o.Origin == "" {
		return cmdutil.Usagef("--origin is required (e.g. --origin audit.example.com/prod)")
	}
	pw := cmp.Or(o.Password, logKeyPasswordSource(env, true))
	var password []byte
	if pw.File != "" || env.Getenv(logserver.KeyPasswordEnv) != "" {
		var err error
		if password, err = pw.Get(); err != nil {
			return err
		}
	}
	storage := o.Storage
	if storage.Driver == "" {
		storage.Driver = "posix"
	}
	if storage.Driver == "posix" && storage.Path == "" {
		storage.Path = logserver.DataDir
	}
	if err := storage.Check(); err != nil {
		return cmdutil.Usagef("%v", err)
	}
	h, err := logserver.Init(o.Dir, logserver.InitOptions{Origin: o.Origin, NoSM2: o.NoSM2, Password: password, Storage: storage})
	if err != nil {
		return err
	}
	if len(password) == 0 {
		env.Infof("note: the checkpoint keys are not encrypted (mode 0600); set %s to encrypt them", logserver.KeyPasswordEnv)
	}
	env.Infof("created log %q in %s", h.Config.Origin, h.Dir)
	env.Infof("give %s/%s to everyone who checks the log; add writers with: hegui log writer add %s NAME", h.Dir, logserver.PublicKeyFile, h.Dir)
	return nil
}

func newLogWriterCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "writer",
		Short: "Manage who may append to a log",
		Long: `Writer manages the writers file of a log home: bearer tokens (kept as their
SHA-256 only) and TLS client certificates, each allowed a list of action
patterns. A running server picks up changes within a second.`,
		Args: cobra.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	cmd.AddCommand(newLogWriterAddCmd(env), newLogWriterListCmd(env), newLogWriterRevokeCmd(env))
	return cmd
}

// LogWriterAddOptions are the choices of `hegui log writer add`.
type LogWriterAddOptions struct {
	// Dir is the log home (DIR).
	Dir string
	// Name is the writer's name (NAME): letters, digits, '.', '_' or '-'.
	Name string
	// Actions are the action patterns the writer may log (--actions, "*"
	// by default); empty allows every action.
	Actions []string
	// CertCN, if set, allows TLS client certificates with this subject CN
	// instead of issuing a token (--cert).
	CertCN string
}

func newLogWriterAddCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogWriterAddOptions
	add := &cobra.Command{
		Use:   "add DIR NAME [--actions PATTERNS] [--cert CN]",
		Short: "Issue a bearer token (printed once) or allow a client certificate",
		Example: `  hegui log writer add /srv/auditlog ci --actions 'delivery.*,key.*'
  hegui log writer add /srv/auditlog payments --cert payments.svc.example.cn`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir, opts.Name = args[0], args[1]
			return RunLogWriterAdd(cmd.Context(), env, opts)
		},
	}
	add.Flags().StringSliceVar(&opts.Actions, "actions", []string{"*"}, "action `PATTERNS` the writer may log (comma-separated, e.g. delivery.*,key.*)")
	add.Flags().StringVar(&opts.CertCN, "cert", "", "allow TLS client certificates with subject `CN` instead of issuing a token")
	return add
}

// RunLogWriterAdd allows a client certificate CN to append to the log in
// o.Dir, or issues a bearer token and prints it, once, on stdout.
func RunLogWriterAdd(ctx context.Context, env *cmdutil.Env, o LogWriterAddOptions) error {
	if o.CertCN != "" {
		if err := logserver.AddCert(o.Dir, o.Name, o.CertCN, o.Actions); err != nil {
			return err
		}
		env.Infof("client certificates with CN %q may now append as %s", o.CertCN, o.Name)
		return nil
	}
	token, err := logserver.AddToken(o.Dir, o.Name, o.Actions)
	if err != nil {
		return err
	}
	env.Infof("token for %s (shown once; the log keeps only its hash):", o.Name)
	fmt.Fprintln(env.Stdout, token)
	return nil
}

// LogWriterListOptions are the choices of `hegui log writer list`.
type LogWriterListOptions struct {
	// Dir is the log home (DIR).
	Dir string
	// JSON prints the writers as a JSON array (--json).
	JSON bool
}

func newLogWriterListCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogWriterListOptions
	list := &cobra.Command{
		Use:   "list DIR [--json]",
		Short: "List writers: name, kind (token or cert), certificate CN, actions",
		Long: `List shows the writers of the log in DIR. Tokens are shown by name only: the
log keeps their SHA-256, never the token.`,
		Example: `  hegui log writer list /srv/auditlog
  hegui log writer list /srv/auditlog --json | jq -r '.[] | select(.kind == "token") | .name'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			return RunLogWriterList(cmd.Context(), env, opts)
		},
	}
	list.Flags().BoolVar(&opts.JSON, "json", false, "print the writers as a JSON array")
	return list
}

// RunLogWriterList prints the writers of the log in o.Dir: a table, or
// JSON. Tokens appear by name only.
func RunLogWriterList(ctx context.Context, env *cmdutil.Env, o LogWriterListOptions) error {
	ws, err := logserver.LoadWriters(filepath.Join(o.Dir, logserver.WritersFile))
	if err != nil {
		return err
	}
	if o.JSON {
		return env.PrintJSON(ws.List())
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tCERTIFICATE CN\tACTIONS")
	for _, w := range ws.List() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.Name, w.Kind, cmp.Or(w.CN, "-"), strings.Join(w.Actions, ","))
	}
	return tw.Flush()
}

// LogWriterRevokeOptions are the choices of `hegui log writer revoke`.
type LogWriterRevokeOptions struct {
	// Dir is the log home (DIR).
	Dir string
	// Name is the writer to remove (NAME).
	Name string
}

func newLogWriterRevokeCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogWriterRevokeOptions
	revoke := &cobra.Command{
		Use:   "revoke DIR NAME",
		Short: "Remove a writer: its token or certificate CN no longer appends",
		Long: `Revoke removes the writer NAME from the log in DIR. A running server stops
accepting its token or certificate within a second; entries it appended stay
in the log, as an append-only log's entries do.`,
		Example: `  hegui log writer revoke /srv/auditlog ci
  hegui log writer add /srv/auditlog ci --actions 'delivery.*'   # a new token for the same name`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir, opts.Name = args[0], args[1]
			return RunLogWriterRevoke(cmd.Context(), env, opts)
		},
	}
	return revoke
}

// RunLogWriterRevoke removes the writer o.Name from the log in o.Dir.
func RunLogWriterRevoke(ctx context.Context, env *cmdutil.Env, o LogWriterRevokeOptions) error {
	if err := logserver.RemoveWriter(o.Dir, o.Name); err != nil {
		return err
	}
	env.Infof("revoked %s", o.Name)
	return nil
}

// LogServeOptions are the choices of `hegui log serve`.
type LogServeOptions struct {
	// Dir is the log home to serve (DIR).
	Dir string
	// Listen is the address to listen on (--listen, "127.0.0.1:8080" by
	// default; port 0 picks a free one).
	Listen string
	// TLSCert and TLSKey are PEM files to serve HTTPS with (--tls-cert,
	// --tls-key); both or neither.
	TLSCert, TLSKey string
	// URLFile, if set, receives the server's URL once it listens
	// (--url-file).
	URLFile string
	// ClientCA, if set, is a PEM file of CAs whose client certificates are
	// accepted as writers (--client-ca); it needs TLSCert.
	ClientCA string
	// MaxConnections is how many client connections may be open at once
	// (--max-connections, httpserve.DefaultMaxConnections by default); at
	// least 1.
	MaxConnections int
	// Password is where the checkpoint keys' password comes from when they
	// are encrypted (--password-file, else $HEGUI_LOG_KEY_PASSWORD, else
	// the terminal). Nil means no --password-file.
	Password *cmdutil.PasswordSource
}

func newLogServeCmd(env *cmdutil.Env) *cobra.Command {
	var opts LogServeOptions
	cmd := &cobra.Command{
		Use:   "serve DIR [--listen ADDR]",
		Short: "Serve a log: the write API and the tlog-tiles read API",
		Long: `Serve runs the log in DIR.

  POST /add          append one event (JSON) or many (NDJSON, Content-Type
                     application/x-ndjson); needs a writer's bearer token or
                     client certificate. ?wait=checkpoint waits for a signed
                     checkpoint that covers the event.
  GET  /checkpoint   the latest signed checkpoint
  GET  /tile/...     hash tiles and entry bundles (C2SP tlog-tiles)
  GET  /log.pub      the verifier keys (clients should get them out of band)
  GET  /metrics      Prometheus metrics; GET /healthz: 200 once a checkpoint exists

Missing or unknown credentials get 401 (the body is not read), an action the
writer may not log 403, an event that does not match the schema 400, a body,
event or batch larger than the server ever takes 413, and a request that does
not fit while others are being appended 503 with Retry-After. An NDJSON batch
holds at most 10,000 events (docs/audit-log.md lists every limit). With the
POSIX driver the read API is plain files under DIR/data: any web server can
serve them instead, and only one serve may run on DIR at a time.

At most --max-connections client connections are open at once; more wait
until one closes. Headers must arrive within 10s and the whole request within
60s.

SIGINT or SIGTERM stop the server after the appends in progress are durable.`,
		Example: `  hegui log serve /srv/auditlog --listen :8080
  hegui log serve /srv/auditlog --listen :8443 --tls-cert srv.crt --tls-key srv.key --client-ca ca.crt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			return RunLogServe(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "`ADDR` to listen on")
	cmd.Flags().StringVar(&opts.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
	cmd.Flags().StringVar(&opts.TLSKey, "tls-key", "", "private key `FILE` of --tls-cert")
	cmd.Flags().StringVar(&opts.URLFile, "url-file", "", "write the server's URL to `FILE` once it listens (useful with --listen 127.0.0.1:0)")
	cmd.Flags().StringVar(&opts.ClientCA, "client-ca", "", "accept client certificates issued by the CAs in `FILE` as writers")
	cmd.Flags().IntVar(&opts.MaxConnections, "max-connections", httpserve.DefaultMaxConnections, "keep at most `N` client connections open at once")
	opts.Password = logKeyPassword(cmd, env, false)
	return cmd
}

// RunLogServe serves the log in o.Dir until ctx ends, SIGINT or SIGTERM
// arrives or the server fails, and returns once the appends in progress
// are durable.
func RunLogServe(ctx context.Context, env *cmdutil.Env, o LogServeOptions) error {
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return cmdutil.Usagef("--tls-cert and --tls-key go together")
	}
	if o.ClientCA != "" && o.TLSCert == "" {
		return cmdutil.Usagef("--client-ca needs --tls-cert and --tls-key")
	}
	if o.MaxConnections < 1 {
		return cmdutil.Usagef("--max-connections must be at least 1")
	}
	h, err := logserver.Open(o.Dir)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if env.Quiet {
		logger = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	serveCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	pw := cmp.Or(o.Password, logKeyPasswordSource(env, false))
	srv, err := logserver.New(serveCtx, logserver.Options{Home: h, Password: pw.KeysFunc(), Logger: logger})
	if err != nil {
		return err
	}
	opts := srv.ServeOptions()
	opts.Addr, opts.MaxConnections, opts.TLSCert, opts.TLSKey = o.Listen, o.MaxConnections, o.TLSCert, o.TLSKey
	opts.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	if o.ClientCA != "" {
		pem, err := inputfile.Read(ctx, o.ClientCA, inputfile.DocumentLimit)
		if err != nil {
			srv.Close(context.Background())
			return err
		}
		// Reads stay public: a client certificate is checked when
		// presented and required only to append.
		opts.ClientCAs = x509.NewCertPool()
		if !opts.ClientCAs.AppendCertsFromPEM(pem) {
			srv.Close(context.Background())
			return fmt.Errorf("%s holds no PEM certificates", o.ClientCA)
		}
	}
	opts.Listening = func(url string) error {
		env.Infof("serving log %q from %s at %s", h.Config.Origin, h.Dir, url)
		if o.URLFile != "" {
			return cmdutil.WriteOutput(o.URLFile, []byte(url+"\n"), 0o644, true)
		}
		return nil
	}
	stopping := context.AfterFunc(serveCtx, func() { env.Infof("stopping: finishing the appends in progress") })
	defer stopping()
	serveErr := httpserve.Run(serveCtx, opts)
	shutCtx, cancel := context.WithTimeout(context.Background(), httpserve.DefaultShutdownTimeout)
	defer cancel()
	closeErr := srv.Close(shutCtx)
	return cmp.Or(serveErr, closeErr)
}
