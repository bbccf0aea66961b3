// Package deliverytest builds the state of a delivery for one stage's
// tests, without running the pipeline: a staging directory, the built-in
// configuration, a version, a primary signer with a fixed test key, and
// whatever binaries the test adds. Stages then run on it as the pipeline
// would run them, and their documents are compared with golden files.
package deliverytest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"hegui.dev/hegui/internal/buildrecipe"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/keys"
)

// CommitTime is the commit time of the test delivery, and so the time of
// every document written from it.
var CommitTime = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

// Log collects a stage's progress and warnings.
type Log struct {
	mu       sync.Mutex
	Steps    []string
	Warnings []string
}

// Begin implements delivery.Logger.
func (l *Log) Begin(string, int, int) {}

// Stepf implements delivery.Logger.
func (l *Log) Stepf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Steps = append(l.Steps, fmt.Sprintf(format, args...))
}

// Warnf implements delivery.Logger.
func (l *Log) Warnf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Warnings = append(l.Warnings, fmt.Sprintf(format, args...))
}

// New returns the state of a delivery of example.com/app v1.2.3 as the
// stages after "signers" see it: staged in a temporary directory, with the
// built-in configuration, a tagged version, and one primary SM2 signer
// (SM2Key). Its Log is a *Log.
func New(t testing.TB) *delivery.Delivery {
	t.Helper()
	dir := t.TempDir()
	stage := filepath.Join(dir, "staging")
	if err := os.Mkdir(stage, 0o755); err != nil {
		t.Fatal(err)
	}
	d := &delivery.Delivery{
		Config: config.Default(), Log: &Log{},
		Module: &gotool.Module{Path: "example.com/app", Main: true, Dir: filepath.Join(dir, "module")}, ModuleDir: filepath.Join(dir, "module"),
		Name: "app", HeguiVersion: "v0.0.0-test", Getenv: func(string) string { return "" },
		Version: format.Version{
			Version: "v1.2.3", Tag: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", ShortCommit: "0123456789ab",
			CommitTime: CommitTime, VCS: true, RemoteURL: "https://git.example.com/app.git",
		},
		Dir: stage, OutputDir: filepath.Join(dir, "dist"), FinalDir: filepath.Join(dir, "dist", "app_v1.2.3"),
		Started: CommitTime.Add(time.Hour),
	}
	AddSigner(t, d, SM2Key(t), "primary")
	return d
}

// LogOf returns the Log of a delivery made by New.
func LogOf(d *delivery.Delivery) *Log { return d.Log.(*Log) }

// SM2Key is a fixed SM2 key: a test fixture, never a key to sign with.
func SM2Key(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := sm2.NewPrivateKey(fixedBytes("hegui test SM2 key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Ed25519Key is a fixed Ed25519 key: a test fixture.
func Ed25519Key() crypto.Signer {
	return ed25519.NewKeyFromSeed(fixedBytes("hegui test Ed25519 key"))
}

func fixedBytes(label string) []byte {
	sum := sha256.Sum256([]byte(label))
	return sum[:]
}

// AddSigner adds key to the delivery's signers in role ("primary" or
// "co-signer") and returns it.
func AddSigner(t testing.TB, d *delivery.Delivery, key crypto.Signer, role string) *delivery.Signer {
	t.Helper()
	id, err := keys.ID(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	alg, err := keys.AlgorithmOf(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	s := &delivery.Signer{Signer: format.Signer{KeyID: id, Algorithm: alg, Role: role, Label: "test key " + keys.ShortID(id)}, Key: key}
	d.Signers = append(d.Signers, s)
	return s
}

// AddBinary writes content as the binary NAME of ./cmd/NAME for target
// ("linux/amd64") into the staging directory, with its digests and the
// recipe the build stage would record, and returns it.
func AddBinary(t testing.TB, d *delivery.Delivery, name, target string, content []byte) *delivery.Binary {
	t.Helper()
	tg, err := buildrecipe.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	rel := format.BinDir + "/" + tg.Slug() + "/" + name
	if err := os.MkdirAll(filepath.Dir(d.Path(rel)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.Path(rel), content, 0o755); err != nil {
		t.Fatal(err)
	}
	sha := sha256.Sum256(content)
	sm := sm3.Sum(content)
	r := buildrecipe.Recipe{
		Output: rel, Main: "./cmd/" + name, Target: target, Trimpath: true, BuildVCS: true,
		Ldflags: buildrecipe.Ldflags{StripSymbols: true, StripDWARF: true},
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	b := &delivery.Binary{
		Binary: format.Binary{
			Build: name, Main: "./cmd/" + name, Target: tg, Path: rel, Size: int64(len(content)),
			SHA256: fmt.Sprintf("%x", sha), SM3: fmt.Sprintf("%x", sm), GoVersion: "go1.26.8",
		},
		Recipe:   r,
		Modules:  []gotool.Module{{Path: d.Module.Path, Main: true}, {Path: "github.com/emmansun/gmsm", Version: "v0.44.1"}},
		Packages: []string{d.Module.Path + "/cmd/" + name, "crypto/sha256", "github.com/emmansun/gmsm/sm2"},
	}
	d.Binaries = append(d.Binaries, b)
	return b
}

// WriteFiles writes files (path relative to dir, with slashes → content)
// below dir, making directories as needed: a module for a stage to read.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
