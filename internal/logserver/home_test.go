package logserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/translog"
)

func TestInitAndOpen(t *testing.T) {
	h := newHome(t)
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{
		{logserver.ConfigFile, 0o644},
		{logserver.PublicKeyFile, 0o644},
		{logserver.WritersFile, 0o600},
		{"keys/ed25519.pem", 0o600},
		{"keys/sm2.pem", 0o600},
	} {
		st, err := os.Stat(filepath.Join(h.Dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != f.mode {
			t.Errorf("%s has mode %v, want %v", f.name, st.Mode().Perm(), f.mode)
		}
	}
	if h.StaticDir() != filepath.Join(h.Dir, logserver.DataDir) {
		t.Fatalf("StaticDir = %s", h.StaticDir())
	}

	opened, err := logserver.Open(h.Dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	c := opened.Config
	if c.Origin != testOrigin || c.Storage.Driver != "posix" || c.Storage.Path != logserver.DataDir ||
		c.Batching.MaxSize != logserver.DefaultBatchMaxSize || time.Duration(c.Batching.MaxAge) != logserver.DefaultBatchMaxAge ||
		time.Duration(c.CheckpointInterval) != logserver.DefaultCheckpointInterval || c.Pushback != logserver.DefaultPushback {
		t.Fatalf("Open read config %+v", c)
	}
	signers, err := opened.Signers(nil)
	if err != nil || len(signers) != 2 {
		t.Fatalf("Signers: %d, %v", len(signers), err)
	}
	vs := verifiersOf(t, opened)
	for i := range signers {
		if signers[i].KeyHash() != vs[i].KeyHash() {
			t.Fatalf("signer %d does not match log.pub", i)
		}
	}

	tests := []struct {
		name string
		dir  func() string
		opts logserver.InitOptions
		want string
	}{
		{"existing home", func() string { return h.Dir }, logserver.InitOptions{Origin: "x"}, "not empty"},
		{"empty origin", t.TempDir, logserver.InitOptions{}, "origin"},
		{"origin with a space", t.TempDir, logserver.InitOptions{Origin: "a b"}, "origin"},
		{"origin with a plus", t.TempDir, logserver.InitOptions{Origin: "a+b"}, "origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := logserver.Init(tt.dir(), tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Init = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	tests := []struct {
		name   string
		config string // "" for no log.yaml
		want   string
	}{
		{"not a log home", "", "not a log home"},
		{"unknown field", "origin: a\nshards: 3\n", "shards"},
		{"no origin", "storage:\n  driver: posix\n  path: data\n", "origin is missing"},
		{"bad duration", "origin: a\ncheckpoint-interval: soon\n", `invalid duration "soon"`},
		{"negative duration", "origin: a\nbatching:\n  max-age: -1s\n", "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(dir, logserver.ConfigFile), []byte(tt.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := logserver.Open(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestEncryptedKeys: a home initialised with a password serves only when
// given it.
func TestEncryptedKeys(t *testing.T) {
	password := []byte("correct horse battery staple")
	h, err := logserver.Init(filepath.Join(t.TempDir(), "log"), logserver.InitOptions{Origin: testOrigin, Password: password, NoSM2: true})
	if err != nil {
		t.Fatal(err)
	}
	h.Config.CheckpointInterval = testCheckpointInterval
	if _, err := os.Stat(filepath.Join(h.Dir, "keys", "sm2.pem")); !os.IsNotExist(err) {
		t.Fatalf("NoSM2 home has an SM2 key: %v", err)
	}
	pem, err := os.ReadFile(filepath.Join(h.Dir, "keys", "ed25519.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pem), "ENCRYPTED PRIVATE KEY") {
		t.Fatalf("key is not encrypted:\n%s", pem)
	}

	ctx := context.Background()
	wrong := func() ([]byte, error) { return []byte("wrong"), nil }
	if srv, err := logserver.New(ctx, logserver.Options{Home: h, Password: wrong}); err == nil {
		srv.Close(ctx)
		t.Fatal("New with the wrong password succeeded")
	}
	srv, err := logserver.New(ctx, logserver.Options{Home: h, Password: func() ([]byte, error) { return password, nil }})
	if err != nil {
		t.Fatalf("New with the password: %v", err)
	}
	defer srv.Close(ctx)
	vs := verifiersOf(t, h)
	if len(vs) != 1 || translog.VerifierAlgorithm(vs[0]) != "ed25519" {
		t.Fatalf("log.pub of a NoSM2 home holds %d keys", len(vs))
	}
}
