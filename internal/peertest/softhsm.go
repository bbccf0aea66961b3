package peertest

import (
	"os"
	"path/filepath"
	"testing"
)

// SoftHSMModule is where Debian's softhsm2 package installs the module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// SoftHSM is a SoftHSM2 installation whose tokens live in a temporary
// directory of one test.
type SoftHSM struct {
	Module string
	t      testing.TB
}

// NewSoftHSM points SOFTHSM2_CONF at a fresh token directory for the rest of
// the test (so the test must not run in parallel with others using it).
func NewSoftHSM(t testing.TB) *SoftHSM {
	t.Helper()
	Require(t, "softhsm2-util")
	Require(t, "pkcs11-tool")
	if _, err := os.Stat(SoftHSMModule); err != nil {
		t.Fatalf("SoftHSM2 module missing (apt-get install softhsm2): %v", err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	content := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	return &SoftHSM{Module: SoftHSMModule, t: t}
}

// InitToken creates a token with a user PIN.
func (h *SoftHSM) InitToken(label, pin string) {
	h.t.Helper()
	Run(h.t, "", "softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "so-"+pin)
}

// GenerateKeyPair makes a key pair on the token with pkcs11-tool; keyType is
// pkcs11-tool's, e.g. "EC:prime256v1" or "EC:edwards25519". id is hex.
func (h *SoftHSM) GenerateKeyPair(token, pin, keyType, label, id string) {
	h.t.Helper()
	Run(h.t, "", "pkcs11-tool", "--module", h.Module, "--token-label", token, "--login", "--pin", pin,
		"--keypairgen", "--key-type", keyType, "--label", label, "--id", id)
}
