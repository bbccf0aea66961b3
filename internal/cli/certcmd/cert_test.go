package certcmd

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/keyring"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
)

// testEnv is an Env with buffers for its streams, a fixed environment and
// a keyring of its own; asking for a password fails as without a terminal.
type testEnv struct {
	*cmdutil.Env
	stdout, stderr *bytes.Buffer
	vars           map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	e := &testEnv{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, vars: map[string]string{}}
	e.Env = &cmdutil.Env{
		Stdin:        strings.NewReader(""),
		Stdout:       e.stdout,
		Stderr:       e.stderr,
		Getenv:       func(k string) string { return e.vars[k] },
		ReadPassword: func(string) ([]byte, error) { return nil, errors.New("no terminal to ask for a password") },
		KeyringDir:   filepath.Join(t.TempDir(), "keyring"),
	}
	return e
}

// reset empties the output buffers between runs.
func (e *testEnv) reset() { e.stdout.Reset(); e.stderr.Reset() }

func newKey(t *testing.T, alg keys.Algorithm) crypto.Signer {
	t.Helper()
	k, err := keys.Generate(alg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeKey writes a new unencrypted key of alg to dir/name and returns it
// and its path.
func writeKey(t *testing.T, dir, name string, alg keys.Algorithm) (crypto.Signer, string) {
	t.Helper()
	k := newKey(t, alg)
	data, err := keys.MarshalPrivateKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, writeFile(t, dir, name, data)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readCert(t *testing.T, path string) *smx509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ParseCertificates(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 {
		t.Fatalf("%s holds %d certificates, want 1", path, len(certs))
	}
	return certs[0]
}

func isUsage(err error) bool {
	var u cmdutil.UsageError
	return errors.As(err, &u)
}

// wantErr checks err: nil when want is empty, else an error containing
// want that is a usage error exactly when usage is set.
func wantErr(t *testing.T, err error, want string, usage bool) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want == "":
	case err == nil:
		t.Errorf("no error, want one containing %q", want)
	case !strings.Contains(err.Error(), want):
		t.Errorf("error %q, want one containing %q", err, want)
	case isUsage(err) != usage:
		t.Errorf("error %q: usage error %v, want %v", err, isUsage(err), usage)
	}
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed command left %s behind (%v)", path, err)
	}
}

func intp(n int) *int { return &n }

const day = 24 * time.Hour

func TestRunCertCA(t *testing.T) {
	dir := t.TempDir()
	_, sm2Key := writeKey(t, dir, "root.key", keys.SM2)
	encKey := newKey(t, keys.ECDSAP256)
	encPEM, err := keys.EncryptPrivateKeyPEM(encKey, []byte("secret"), keys.Protection{PRF: keys.PRFHMACSHA256, Cipher: keys.CipherAES256, Iterations: keys.MinIterations})
	if err != nil {
		t.Fatal(err)
	}
	encPath := writeFile(t, dir, "enc.key", encPEM)
	pwFile := writeFile(t, dir, "pw.txt", []byte("secret\n"))
	ringKey := newKey(t, keys.Ed25519)

	tests := []struct {
		name     string
		o        CertCAOptions
		vars     map[string]string
		password string // a --password-file
		want     string // in the error; "" for success
		usage    bool
		pathLen  int // of the certificate made: MaxPathLen
		validity time.Duration
		alg      keys.Algorithm
	}{
		{name: "sm2 with path length", o: CertCAOptions{Key: sm2Key, NameOptions: NameOptions{Subject: "/C=CN/O=Example/CN=Example Root"}, PathLen: intp(1), Days: 10}, pathLen: 1, validity: 10 * day, alg: keys.SM2},
		{name: "default validity, no path length", o: CertCAOptions{Key: sm2Key, NameOptions: NameOptions{Subject: "/CN=Root"}}, pathLen: -1, validity: 3650 * day, alg: keys.SM2},
		{name: "path length 0", o: CertCAOptions{Key: sm2Key, NameOptions: NameOptions{Subject: "/CN=Root"}, PathLen: intp(0)}, pathLen: 0, validity: 3650 * day, alg: keys.SM2},
		{name: "encrypted key, password file", o: CertCAOptions{Key: encPath, NameOptions: NameOptions{Subject: "/CN=Enc Root"}}, password: pwFile, pathLen: -1, validity: 3650 * day, alg: keys.ECDSAP256},
		{name: "encrypted key, password variable", o: CertCAOptions{Key: encPath, NameOptions: NameOptions{Subject: "/CN=Enc Root"}}, vars: map[string]string{cmdutil.EnvKeyPassword: "secret"}, pathLen: -1, validity: 3650 * day, alg: keys.ECDSAP256},
		{name: "keyring key", o: CertCAOptions{Key: "keyring:ring-root", NameOptions: NameOptions{Subject: "/CN=Ring Root"}}, pathLen: -1, validity: 3650 * day, alg: keys.Ed25519},

		{name: "no key", o: CertCAOptions{NameOptions: NameOptions{Subject: "/CN=Root"}}, want: "--key is required", usage: true},
		{name: "no subject", o: CertCAOptions{Key: sm2Key}, want: "--subject and --out are required", usage: true},
		{name: "bad subject", o: CertCAOptions{Key: sm2Key, NameOptions: NameOptions{Subject: "CN=Root"}}, want: "must start with", usage: true},
		{name: "bad URI", o: CertCAOptions{Key: sm2Key, NameOptions: NameOptions{Subject: "/CN=Root", URIs: []string{"relative/path"}}}, want: `--uri "relative/path" is not an absolute URI`, usage: true},
		{name: "negative days", o: CertCAOptions{Key: sm2Key, NameOptions: NameOptions{Subject: "/CN=Root"}, Days: -1}, want: "--days must be positive", usage: true},
		{name: "negative path length", o: CertCAOptions{Key: sm2Key, NameOptions: NameOptions{Subject: "/CN=Root"}, PathLen: intp(-1)}, want: "--path-len must be 0 or more", usage: true},
		{name: "no CN", o: CertCAOptions{Key: sm2Key, NameOptions: NameOptions{Subject: "/O=Example"}}, want: "needs a subject with a CN"},
		{name: "missing key file", o: CertCAOptions{Key: filepath.Join(dir, "absent.key"), NameOptions: NameOptions{Subject: "/CN=Root"}}, want: "read key"},
		{name: "wrong password", o: CertCAOptions{Key: encPath, NameOptions: NameOptions{Subject: "/CN=Root"}}, vars: map[string]string{cmdutil.EnvKeyPassword: "wrong"}, want: "wrong password"},
		{name: "no password", o: CertCAOptions{Key: encPath, NameOptions: NameOptions{Subject: "/CN=Root"}}, want: "no terminal to ask for a password"},
		{name: "unknown keyring key", o: CertCAOptions{Key: "keyring:absent", NameOptions: NameOptions{Subject: "/CN=Root"}}, want: "absent"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			ring, err := keyring.Open(env.KeyringDir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ring.Add("ring-root", ringKey, nil, keys.Protection{}); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.vars {
				env.vars[k] = v
			}
			o := tt.o
			o.Out = filepath.Join(dir, fmt.Sprintf("root-%d.pem", i))
			if tt.password != "" {
				o.Password = &cmdutil.PasswordSource{Env: env.Env, File: tt.password, EnvName: cmdutil.EnvKeyPassword}
			}
			err = RunCertCA(context.Background(), env.Env, o)
			wantErr(t, err, tt.want, tt.usage)
			if tt.want != "" {
				noFile(t, o.Out)
				if env.stdout.Len() != 0 {
					t.Errorf("a failed command printed %q", env.stdout)
				}
				return
			}
			cert := readCert(t, o.Out)
			subject, _ := pki.ParseSubject(o.Subject)
			if !cert.IsCA || cert.Subject.String() != subject.String() || cert.CheckSignatureFrom(cert) != nil {
				t.Errorf("not a self-signed CA %q: CA %v, subject %q", o.Subject, cert.IsCA, cert.Subject)
			}
			if cert.MaxPathLen != tt.pathLen || cert.MaxPathLenZero != (tt.pathLen == 0) {
				t.Errorf("path length %d (zero %v), want %d", cert.MaxPathLen, cert.MaxPathLenZero, tt.pathLen)
			}
			if got := cert.NotAfter.Sub(cert.NotBefore); got != tt.validity {
				t.Errorf("valid for %s, want %s", got, tt.validity)
			}
			if alg, _ := keys.AlgorithmOf(cert.PublicKey); alg != tt.alg {
				t.Errorf("key %s, want %s", alg, tt.alg)
			}
			want := fmt.Sprintf("Created root CA %s: %s (%s, valid until %s)\n", pki.FormatName(cert.RawSubject), o.Out, tt.alg, cert.NotAfter.Format(time.DateOnly))
			if env.stdout.String() != want {
				t.Errorf("stdout %q, want %q", env.stdout, want)
			}
		})
	}
}

// TestRunCertCAKeepsFile: an existing output survives without Force and is
// replaced with it.
func TestRunCertCAKeepsFile(t *testing.T) {
	dir := t.TempDir()
	env := newTestEnv(t)
	_, key := writeKey(t, dir, "root.key", keys.SM2)
	out := writeFile(t, dir, "root.pem", []byte("precious"))
	o := CertCAOptions{Key: key, NameOptions: NameOptions{Subject: "/CN=Root"}, Out: out}
	err := RunCertCA(context.Background(), env.Env, o)
	wantErr(t, err, "already exists (use --force to replace it)", false)
	if data, _ := os.ReadFile(out); string(data) != "precious" {
		t.Errorf("the existing file was overwritten: %q", data)
	}
	o.Force = true
	if err := RunCertCA(context.Background(), env.Env, o); err != nil {
		t.Fatal(err)
	}
	readCert(t, out)
}

func TestRunCertCSR(t *testing.T) {
	dir := t.TempDir()
	key, keyPath := writeKey(t, dir, "leaf.key", keys.ECDSAP256)
	id, err := keys.ID(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t)
	out := filepath.Join(dir, "leaf.csr")
	names := NameOptions{Subject: "/C=CN/O=Example/CN=api.example.cn", DNSNames: []string{"api.example.cn", "www.example.cn"}, IPAddresses: []string{"192.0.2.1", "2001:db8::1"}, EmailAddresses: []string{"ops@example.cn"}, URIs: []string{"spiffe://example.cn/api"}}
	if err := RunCertCSR(context.Background(), env.Env, CertCSROptions{Key: keyPath, NameOptions: names, Out: out}); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Created certificate request %s (ecdsa-p256 key %s)\n", out, keys.ShortID(id)); env.stdout.String() != want {
		t.Errorf("stdout %q, want %q", env.stdout, want)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.ParseCSR(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Errorf("request signature: %v", err)
	}
	if !keys.Equal(csr.PublicKey, key.Public()) {
		t.Error("the request is not for the key")
	}
	got := fmt.Sprintf("%s %v %v %v %v", pki.FormatName(csr.RawSubject), csr.DNSNames, csr.IPAddresses, csr.EmailAddresses, csr.URIs)
	if want := "/C=CN/O=Example/CN=api.example.cn [api.example.cn www.example.cn] [192.0.2.1 2001:db8::1] [ops@example.cn] [spiffe://example.cn/api]"; got != want {
		t.Errorf("request names %s, want %s", got, want)
	}
	// OpenSSL, the real peer, accepts the request's self-signature.
	peertest.OpenSSL(t, dir, "req", "-in", out, "-noout", "-verify")

	xOut := filepath.Join(dir, "x.csr")
	for _, tt := range []struct {
		name  string
		o     CertCSROptions
		want  string
		usage bool
	}{
		{"no key", CertCSROptions{NameOptions: names, Out: xOut}, "--key is required", true},
		{"no out", CertCSROptions{Key: keyPath, NameOptions: names}, "--out is required", true},
		{"bad IP", CertCSROptions{Key: keyPath, NameOptions: NameOptions{Subject: "/CN=x", IPAddresses: []string{"300.1.1.1"}}, Out: xOut}, `--ip "300.1.1.1" is not an IP address`, true},
		{"no names", CertCSROptions{Key: keyPath, Out: xOut}, "needs a subject or an alternative name", false},
		{"certificate as key", CertCSROptions{Key: writeFile(t, dir, "cert.pem", pki.EncodeCertificates(selfSigned(t, key))), NameOptions: names, Out: xOut}, "cert.pem", false},
		{"existing output", CertCSROptions{Key: keyPath, NameOptions: names, Out: out}, "already exists", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env.reset()
			wantErr(t, RunCertCSR(context.Background(), env.Env, tt.o), tt.want, tt.usage)
			noFile(t, xOut)
			if env.stdout.Len() != 0 {
				t.Errorf("a failed command printed %q", env.stdout)
			}
		})
	}
}

// selfSigned is a root certificate for key.
func selfSigned(t *testing.T, key crypto.Signer) *smx509.Certificate {
	t.Helper()
	c, err := pki.CreateRoot(key, pki.Template{Subject: pkix.Name{CommonName: "Self"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testPKI is a root CA in files, and a request for a leaf key.
type testPKI struct {
	dir                     string
	root                    *smx509.Certificate
	rootPEM, rootKey        string
	leafKey                 crypto.Signer
	leafKeyPath, leafCSR    string
	otherRootPEM, otherKey  string // a second, unrelated root and its key
	noNamesCSR, tamperedCSR string
}

func newTestPKI(t *testing.T, alg keys.Algorithm) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	var rootKey crypto.Signer
	rootKey, p.rootKey = writeKey(t, p.dir, "root.key", alg)
	root, err := pki.CreateRoot(rootKey, pki.Template{Subject: pkix.Name{Country: []string{"CN"}, CommonName: "Test Root"}, PathLen: intp(1)})
	if err != nil {
		t.Fatal(err)
	}
	p.root, p.rootPEM = root, writeFile(t, p.dir, "root.pem", pki.EncodeCertificates(root))
	var otherKey crypto.Signer
	otherKey, p.otherKey = writeKey(t, p.dir, "other.key", alg)
	p.otherRootPEM = writeFile(t, p.dir, "other.pem", pki.EncodeCertificates(selfSigned(t, otherKey)))
	p.leafKey, p.leafKeyPath = writeKey(t, p.dir, "leaf.key", alg)
	csr, err := pki.CreateCSR(p.leafKey, pki.Template{Subject: pkix.Name{CommonName: "leaf.example.cn"}, DNSNames: []string{"leaf.example.cn"}})
	if err != nil {
		t.Fatal(err)
	}
	p.leafCSR = writeFile(t, p.dir, "leaf.csr", pki.EncodeCSR(csr))
	tampered := bytes.Clone(csr)
	i := bytes.Index(tampered, []byte("leaf.example.cn"))
	tampered[i] = 'L'
	p.tamperedCSR = writeFile(t, p.dir, "tampered.csr", pki.EncodeCSR(tampered))
	bare, err := pki.CreateCSR(p.leafKey, pki.Template{Subject: pkix.Name{CommonName: "bare"}})
	if err != nil {
		t.Fatal(err)
	}
	p.noNamesCSR = writeFile(t, p.dir, "bare.csr", pki.EncodeCSR(bare))
	return p
}

func TestRunCertIssue(t *testing.T) {
	p := newTestPKI(t, keys.SM2)
	base := CertIssueOptions{CA: p.rootPEM, CAKey: p.rootKey, CSR: p.leafCSR}
	with := func(f func(*CertIssueOptions)) CertIssueOptions {
		o := base
		f(&o)
		return o
	}
	tests := []struct {
		name    string
		o       CertIssueOptions
		want    string
		usage   bool
		purpose pki.Purpose // the certificate made verifies for it
		subject string
		pathLen int // for CA certificates
		days    int
	}{
		{name: "code signing", o: with(func(o *CertIssueOptions) { o.Profile = "code-signing" }), purpose: pki.PurposeCodeSigning, subject: "/CN=leaf.example.cn", days: 365},
		{name: "tls server, names given", o: with(func(o *CertIssueOptions) {
			o.Profile, o.Days = "tls-server", 30
			o.NameOptions = NameOptions{Subject: "/O=Example/CN=api", DNSNames: []string{"api.example.cn"}}
		}), purpose: pki.PurposeTLSServer, subject: "/O=Example/CN=api", days: 30},
		{name: "intermediate gets path length 0", o: with(func(o *CertIssueOptions) { o.Profile = "intermediate-ca" }), purpose: pki.PurposeAny, subject: "/CN=leaf.example.cn", pathLen: 0, days: 1825},
		{name: "intermediate, path length given", o: with(func(o *CertIssueOptions) { o.Profile, o.PathLen = "intermediate-ca", intp(0) }), purpose: pki.PurposeAny, subject: "/CN=leaf.example.cn", pathLen: 0, days: 1825},

		{name: "missing flags", o: with(func(o *CertIssueOptions) { o.CSR = "" }), want: "--ca, --ca-key, --csr, --profile and --out are required", usage: true},
		{name: "root profile", o: with(func(o *CertIssueOptions) { o.Profile = "root-ca" }), want: `unknown profile "root-ca"`, usage: true},
		{name: "unknown profile", o: with(func(o *CertIssueOptions) { o.Profile = "server" }), want: `unknown profile "server"`, usage: true},
		{name: "bad subject", o: with(func(o *CertIssueOptions) { o.Profile, o.Subject = "code-signing", "/XX=1" }), want: "XX", usage: true},
		{name: "negative path length", o: with(func(o *CertIssueOptions) { o.Profile, o.PathLen = "intermediate-ca", intp(-1) }), want: "--path-len must be 0 or more", usage: true},
		{name: "path length too long", o: with(func(o *CertIssueOptions) { o.Profile, o.PathLen = "intermediate-ca", intp(1) }), want: "not below the issuing CA's 1"},
		{name: "CA key of another CA", o: with(func(o *CertIssueOptions) { o.Profile, o.CAKey = "code-signing", p.otherKey }), want: "the CA key does not belong to the CA certificate"},
		{name: "tampered request", o: with(func(o *CertIssueOptions) { o.Profile, o.CSR = "code-signing", p.tamperedCSR }), want: "certificate request signature is invalid"},
		{name: "server without names", o: with(func(o *CertIssueOptions) { o.Profile, o.CSR = "tls-server", p.noNamesCSR }), want: "needs at least one DNS name or IP address"},
		{name: "longer than the CA", o: with(func(o *CertIssueOptions) { o.Profile, o.Days = "code-signing", 4000 }), want: "not within the CA's"},
		{name: "certificate as request", o: with(func(o *CertIssueOptions) { o.Profile, o.CSR = "code-signing", p.rootPEM }), want: `request "` + p.rootPEM + `"`},
		{name: "request as CA", o: with(func(o *CertIssueOptions) { o.Profile, o.CA = "code-signing", p.leafCSR }), want: p.leafCSR},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			o := tt.o
			o.Out = filepath.Join(p.dir, fmt.Sprintf("issued-%d.pem", i))
			err := RunCertIssue(context.Background(), env.Env, o)
			wantErr(t, err, tt.want, tt.usage)
			if tt.want != "" {
				noFile(t, o.Out)
				return
			}
			cert := readCert(t, o.Out)
			if _, err := pki.Verify(cert, pki.VerifyOptions{Roots: []*smx509.Certificate{p.root}, Purpose: tt.purpose}); err != nil {
				t.Errorf("the certificate does not verify for %s: %v", tt.purpose, err)
			}
			if !keys.Equal(cert.PublicKey, p.leafKey.Public()) {
				t.Error("the certificate is not for the requested key")
			}
			if got := pki.FormatName(cert.RawSubject); got != tt.subject {
				t.Errorf("subject %s, want %s", got, tt.subject)
			}
			if got := cert.NotAfter.Sub(cert.NotBefore); got != time.Duration(tt.days)*day {
				t.Errorf("valid for %s, want %d days", got, tt.days)
			}
			if cert.IsCA && (cert.MaxPathLen != tt.pathLen || !cert.MaxPathLenZero) {
				t.Errorf("path length %d (zero %v), want %d", cert.MaxPathLen, cert.MaxPathLenZero, tt.pathLen)
			}
			want := fmt.Sprintf("Issued %s certificate %s: %s (valid until %s)\n", o.Profile, tt.subject, o.Out, cert.NotAfter.Format(time.DateOnly))
			if env.stdout.String() != want {
				t.Errorf("stdout %q, want %q", env.stdout, want)
			}
		})
	}
}

// TestRunCertChainInOpenSSL makes an SM2 root, request and code-signing
// certificate with the run functions alone and has OpenSSL check them.
func TestRunCertChainInOpenSSL(t *testing.T) {
	dir := t.TempDir()
	env := newTestEnv(t)
	ctx := context.Background()
	_, rootKey := writeKey(t, dir, "root.key", keys.SM2)
	_, leafKey := writeKey(t, dir, "leaf.key", keys.SM2)
	steps := []func() error{
		func() error {
			return RunCertCA(ctx, env.Env, CertCAOptions{Key: rootKey, NameOptions: NameOptions{Subject: "/C=CN/O=Example/CN=SM2 Root"}, PathLen: intp(0), Out: filepath.Join(dir, "root.pem")})
		},
		func() error {
			return RunCertCSR(ctx, env.Env, CertCSROptions{Key: leafKey, NameOptions: NameOptions{Subject: "/C=CN/O=Example/CN=Release Signing"}, Out: filepath.Join(dir, "leaf.csr")})
		},
		func() error {
			return RunCertIssue(ctx, env.Env, CertIssueOptions{CA: filepath.Join(dir, "root.pem"), CAKey: rootKey, CSR: filepath.Join(dir, "leaf.csr"), Profile: "code-signing", Out: filepath.Join(dir, "leaf.pem")})
		},
		func() error {
			return RunCertVerify(ctx, env.Env, CertVerifyOptions{Cert: filepath.Join(dir, "leaf.pem"), Roots: filepath.Join(dir, "root.pem"), Purpose: "code-signing"})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasSuffix(env.stdout.String(), "leaf.pem: OK (code-signing)\n  0 /C=CN/O=Example/CN=Release Signing\n  1 /C=CN/O=Example/CN=SM2 Root\n") {
		t.Errorf("stdout:\n%s", env.stdout)
	}
	peertest.OpenSSL(t, dir, "req", "-in", "leaf.csr", "-noout", "-verify", "-vfyopt", "distid:1234567812345678")
	if out := peertest.OpenSSL(t, dir, "verify", "-x509_strict", "-vfyopt", "distid:1234567812345678", "-CAfile", "root.pem", "leaf.pem"); !strings.Contains(out, "leaf.pem: OK") {
		t.Errorf("openssl verify: %s", out)
	}
}

func TestRunCertInspect(t *testing.T) {
	const fixtures = "../testdata/"
	golden := func(name string) string {
		data, err := os.ReadFile(fixtures + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	env := newTestEnv(t)
	run := func(o CertInspectOptions) (string, error) {
		env.reset()
		err := RunCertInspect(context.Background(), env.Env, o)
		return env.stdout.String(), err
	}
	// The golden files of the command line tests, made from the same
	// fixtures, are what the run function prints.
	for file, want := range map[string]string{
		"root.pem":   "inspect-root.golden",
		"signer.pem": "inspect-signer.golden",
		"signer.csr": "inspect-csr.golden",
	} {
		if out, err := run(CertInspectOptions{File: fixtures + file}); err != nil || out != golden(want) {
			t.Errorf("%s: %v\n%s\nwant\n%s", file, err, out, golden(want))
		}
	}
	if out, err := run(CertInspectOptions{File: fixtures + "signer.pem", JSON: true}); err != nil || out != golden("inspect-signer.json.golden") {
		t.Errorf("signer.pem --json: %v\n%s", err, out)
	}

	dir := t.TempDir()
	// A bundle is described certificate by certificate, a blank line
	// between them.
	bundle := writeFile(t, dir, "bundle.pem", []byte(golden("signer.pem")+golden("root.pem")))
	if out, err := run(CertInspectOptions{File: bundle}); err != nil || out != golden("inspect-signer.golden")+"\n"+golden("inspect-root.golden") {
		t.Errorf("bundle: %v\n%s", err, out)
	}
	out, err := run(CertInspectOptions{File: bundle, JSON: true})
	var descs []pki.Description
	if jerr := json.Unmarshal([]byte(out), &descs); err != nil || jerr != nil || len(descs) != 2 || descs[1].Subject != "/C=CN/ST=Beijing/O=hegui example/CN=hegui Example SM2 Root" {
		t.Errorf("bundle --json: %v, %v, %+v", err, jerr, descs)
	}
	// A request in DER has no PEM header to tell it by.
	block, _ := pem.Decode([]byte(golden("signer.csr")))
	der := writeFile(t, dir, "signer.der", block.Bytes)
	if out, err := run(CertInspectOptions{File: der}); err != nil || out != golden("inspect-csr.golden") {
		t.Errorf("DER request: %v\n%s", err, out)
	}

	_, keyPath := writeKey(t, dir, "a.key", keys.SM2)
	truncated := writeFile(t, dir, "truncated.csr", []byte(golden("signer.csr")[:200]))
	for _, tt := range []struct {
		name, file, want string
	}{
		{"missing", filepath.Join(dir, "absent.pem"), "read: "},
		{"key", keyPath, fmt.Sprintf("%q: ", keyPath)},
		{"truncated request", truncated, fmt.Sprintf("%q: no complete PEM block", truncated)},
	} {
		out, err := run(CertInspectOptions{File: tt.file})
		wantErr(t, err, tt.want, false)
		if out != "" {
			t.Errorf("%s: printed %q", tt.name, out)
		}
	}
}

// expiredLeaf issues, under a root valid from ten days ago, a code-signing
// certificate for a new key that was valid for one day five days ago.
func expiredLeaf(t *testing.T, dir string) (rootPEM, leafPEM string) {
	t.Helper()
	rootKey := newKey(t, keys.SM2)
	root, err := pki.CreateRoot(rootKey, pki.Template{Subject: pkix.Name{CommonName: "Old Root"}, NotBefore: time.Now().Add(-10 * day), Validity: 30 * day})
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := pki.CreateCSR(newKey(t, keys.SM2), pki.Template{Subject: pkix.Name{CommonName: "Old Leaf"}})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.ParseCSR(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Issue(root, rootKey, csr, pki.Template{Profile: pki.ProfileCodeSigning, NotBefore: time.Now().Add(-5 * day), Validity: day})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, "old-root.pem", pki.EncodeCertificates(root)), writeFile(t, dir, "old-leaf.pem", pki.EncodeCertificates(leaf))
}

func TestRunCertVerify(t *testing.T) {
	p := newTestPKI(t, keys.ECDSAP256)
	ctx := context.Background()
	env := newTestEnv(t)
	issue := func(name string, o CertIssueOptions) string {
		t.Helper()
		o.Out = filepath.Join(p.dir, name)
		if err := RunCertIssue(ctx, env.Env, o); err != nil {
			t.Fatal(err)
		}
		return o.Out
	}
	server := issue("server.pem", CertIssueOptions{CA: p.rootPEM, CAKey: p.rootKey, CSR: p.leafCSR, Profile: "tls-server"})
	// An intermediate CA (the leaf key serves for it too) and a
	// code-signing certificate it issues.
	inter := issue("int.pem", CertIssueOptions{CA: p.rootPEM, CAKey: p.rootKey, CSR: p.leafCSR, Profile: "intermediate-ca", NameOptions: NameOptions{Subject: "/CN=Test Intermediate"}})
	signer := issue("signer.pem", CertIssueOptions{CA: inter, CAKey: p.leafKeyPath, CSR: p.noNamesCSR, Profile: "code-signing", NameOptions: NameOptions{Subject: "/CN=Signer"}})
	interData, _ := os.ReadFile(inter)
	signerData, _ := os.ReadFile(signer)
	signerBundle := writeFile(t, p.dir, "signer-bundle.pem", append(signerData, interData...))
	oldRoot, oldLeaf := expiredLeaf(t, p.dir)

	tests := []struct {
		name   string
		o      CertVerifyOptions
		stdout string // for success
		want   string // in the error
		usage  bool
	}{
		{name: "server", o: CertVerifyOptions{Cert: server, Roots: p.rootPEM, Purpose: "tls-server", DNSName: "leaf.example.cn"},
			stdout: server + ": OK (tls-server)\n  0 /CN=leaf.example.cn\n  1 /C=CN/CN=Test Root\n"},
		{name: "any purpose", o: CertVerifyOptions{Cert: server, Roots: p.rootPEM, Purpose: "any", At: time.Now().Add(day).Format(time.RFC3339)},
			stdout: server + ": OK (any)\n  0 /CN=leaf.example.cn\n  1 /C=CN/CN=Test Root\n"},
		{name: "intermediates given", o: CertVerifyOptions{Cert: signer, Roots: p.rootPEM, Intermediates: inter, Purpose: "code-signing"},
			stdout: signer + ": OK (code-signing)\n  0 /CN=Signer\n  1 /CN=Test Intermediate\n  2 /C=CN/CN=Test Root\n"},
		{name: "intermediates in the bundle", o: CertVerifyOptions{Cert: signerBundle, Roots: p.rootPEM, Purpose: "code-signing"},
			stdout: signerBundle + ": OK (code-signing)\n  0 /CN=Signer\n  1 /CN=Test Intermediate\n  2 /C=CN/CN=Test Root\n"},

		{name: "no roots", o: CertVerifyOptions{Cert: server, Purpose: "any"}, want: "--roots is required", usage: true},
		{name: "no purpose", o: CertVerifyOptions{Cert: server, Roots: p.rootPEM}, want: `unknown purpose ""`, usage: true},
		{name: "unknown purpose", o: CertVerifyOptions{Cert: server, Roots: p.rootPEM, Purpose: "email"}, want: `unknown purpose "email"`, usage: true},
		{name: "bad time", o: CertVerifyOptions{Cert: server, Roots: p.rootPEM, Purpose: "any", At: "yesterday"}, want: `--at "yesterday"`, usage: true},
		{name: "not issued by the root", o: CertVerifyOptions{Cert: server, Roots: p.otherRootPEM, Purpose: "any"}, want: "does not chain to a trusted root (issuer /C=CN/CN=Test Root)"},
		{name: "intermediate missing", o: CertVerifyOptions{Cert: signer, Roots: p.rootPEM, Purpose: "code-signing"}, want: "does not chain to a trusted root"},
		{name: "expired", o: CertVerifyOptions{Cert: oldLeaf, Roots: oldRoot, Purpose: "code-signing"}, want: "certificate /CN=Old Leaf: x509: certificate has expired"},
		{name: "valid then", o: CertVerifyOptions{Cert: oldLeaf, Roots: oldRoot, Purpose: "code-signing", At: time.Now().Add(-5*day + time.Hour).Format(time.RFC3339)},
			stdout: oldLeaf + ": OK (code-signing)\n  0 /CN=Old Leaf\n  1 /CN=Old Root\n"},
		{name: "not yet valid", o: CertVerifyOptions{Cert: server, Roots: p.rootPEM, Purpose: "any", At: "2000-01-01"}, want: "not yet valid"},
		{name: "wrong purpose", o: CertVerifyOptions{Cert: server, Roots: p.rootPEM, Purpose: "code-signing"}, want: "key usage"},
		{name: "wrong name", o: CertVerifyOptions{Cert: server, Roots: p.rootPEM, Purpose: "tls-server", DNSName: "other.example.cn"}, want: "other.example.cn"},
		{name: "missing certificate", o: CertVerifyOptions{Cert: filepath.Join(p.dir, "absent.pem"), Roots: p.rootPEM, Purpose: "any"}, want: "absent.pem"},
		{name: "key as roots", o: CertVerifyOptions{Cert: server, Roots: p.rootKey, Purpose: "any"}, want: p.rootKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.reset()
			err := RunCertVerify(ctx, env.Env, tt.o)
			wantErr(t, err, tt.want, tt.usage)
			if tt.want == "" && env.stdout.String() != tt.stdout {
				t.Errorf("stdout %q, want %q", env.stdout, tt.stdout)
			}
			if tt.want != "" && env.stdout.Len() != 0 {
				t.Errorf("a failure printed %q", env.stdout)
			}
			if tt.usage {
				return
			}
			// With JSON the result is printed whether the chain holds or
			// not, and the error is the same.
			env.reset()
			o := tt.o
			o.JSON = true
			jerr := RunCertVerify(ctx, env.Env, o)
			if fmt.Sprint(jerr) != fmt.Sprint(err) {
				t.Errorf("JSON: error %v, want %v", jerr, err)
			}
			var res chainResult
			if err := json.Unmarshal(env.stdout.Bytes(), &res); err != nil {
				t.Fatalf("JSON: %v\n%s", err, env.stdout)
			}
			if res.Certificate != o.Cert || res.Valid != (err == nil) || (err != nil) != (res.Error != "") || (err == nil) != (len(res.Chain) > 1) {
				t.Errorf("JSON result %+v for error %v", res, err)
			}
			if err != nil && strings.Contains(res.Error, "\n") {
				t.Errorf("JSON error spans lines: %q", res.Error)
			}
		})
	}
}
