package translog_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/translog"
)

// logKeys are the checkpoint keys of a test log: Ed25519 and SM2, as
// `hegui log init` makes them.
type logKeys struct {
	name        string
	ed, sm2     crypto.Signer
	edSigner    note.Signer
	sm2Signer   note.Signer
	edVKey      string
	sm2VKey     string
	verifiers   []note.Verifier // Ed25519, then SM2
	edVerifier  note.Verifier
	sm2Verifier note.Verifier
}

func newLogKeys(t testing.TB, name string) logKeys {
	t.Helper()
	k := logKeys{name: name}
	var err error
	if k.ed, err = keys.Generate(keys.Ed25519, rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.sm2, err = keys.Generate(keys.SM2, rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.edSigner, err = translog.NewEd25519Signer(name, k.ed); err != nil {
		t.Fatal(err)
	}
	if k.sm2Signer, err = translog.NewSM2Signer(name, k.sm2); err != nil {
		t.Fatal(err)
	}
	if k.edVKey, err = translog.VerifierKey(name, k.ed.Public()); err != nil {
		t.Fatal(err)
	}
	if k.sm2VKey, err = translog.VerifierKey(name, k.sm2.Public()); err != nil {
		t.Fatal(err)
	}
	if k.verifiers, err = translog.ParseVerifierKeys([]byte(k.edVKey + "\n" + k.sm2VKey + "\n")); err != nil {
		t.Fatal(err)
	}
	k.edVerifier, k.sm2Verifier = k.verifiers[0], k.verifiers[1]
	return k
}

// signers returns both checkpoint signers, Ed25519 first.
func (k logKeys) signers() []note.Signer { return []note.Signer{k.edSigner, k.sm2Signer} }

// checkpointText is the body of a C2SP tlog-checkpoint.
func checkpointText(origin string, size uint64, root []byte) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root))
}

func signNote(t testing.TB, text string, signers ...note.Signer) []byte {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		t.Fatalf("note.Sign: %v", err)
	}
	return msg
}

// rawVKey builds a verifier key for arbitrary key bytes with a correct hash,
// so tests can reach the checks behind the hash.
func rawVKey(name string, enc []byte) string {
	h := sha256.Sum256(append([]byte(name+"\n"), enc...))
	return fmt.Sprintf("%s+%08x+%s", name, binary.BigEndian.Uint32(h[:4]), base64.StdEncoding.EncodeToString(enc))
}

// TestEd25519InteropWithNote checks the Ed25519 signer and verifier against
// golang.org/x/mod/sumdb/note in both directions.
func TestEd25519InteropWithNote(t *testing.T) {
	const name = "audit.example.com/prod"
	k := newLogKeys(t, name)
	text := checkpointText(name, 42, sha256.New().Sum(nil))

	// note parses our verifier key and verifies a note our signer signed.
	theirV, err := note.NewVerifier(k.edVKey)
	if err != nil {
		t.Fatalf("note.NewVerifier(%q): %v", k.edVKey, err)
	}
	if theirV.KeyHash() != k.edSigner.KeyHash() || theirV.Name() != name {
		t.Fatalf("note computes key hash %08x for our key, our signer says %08x", theirV.KeyHash(), k.edSigner.KeyHash())
	}
	msg := signNote(t, text, k.edSigner)
	n, err := note.Open(msg, note.VerifierList(theirV))
	if err != nil {
		t.Fatalf("note.Open of a note signed by our Ed25519 signer: %v", err)
	}
	if n.Text != text || len(n.Sigs) != 1 {
		t.Fatalf("note.Open = %q with %d signatures", n.Text, len(n.Sigs))
	}

	// We parse a key note generated and verify what its signer signed.
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	ourV, err := translog.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("NewVerifier(%q) from note.GenerateKey: %v", vkey, err)
	}
	if got := translog.VerifierAlgorithm(ourV); got != "ed25519" {
		t.Fatalf("VerifierAlgorithm = %q, want ed25519", got)
	}
	theirS, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if ourV.KeyHash() != theirS.KeyHash() {
		t.Fatalf("key hash %08x, note's signer says %08x", ourV.KeyHash(), theirS.KeyHash())
	}
	msg = signNote(t, text, theirS)
	if _, err := note.Open(msg, note.VerifierList(ourV)); err != nil {
		t.Fatalf("our verifier rejects a note signed by note.NewSigner: %v", err)
	}
	// And a note signed by note's signer is a valid checkpoint for us.
	if _, err := translog.OpenCheckpoint(msg, []note.Verifier{ourV}); err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}

	// Our key encoding is the standard one: 0x01 || public key.
	_, b64, _ := strings.Cut(strings.SplitN(k.edVKey, "+", 2)[1], "+")
	enc, _ := base64.StdEncoding.DecodeString(b64)
	if want := append([]byte{0x01}, k.ed.Public().(ed25519.PublicKey)...); string(enc) != string(want) {
		t.Fatalf("Ed25519 key encoding is %x, want %x", enc, want)
	}
}

// TestSM2NoteRoundTrip signs a note with an SM2 key and checks it with our
// verifier and, independently, with gmsm's SM2-SM3 verification over the
// note text with the default ID.
func TestSM2NoteRoundTrip(t *testing.T) {
	const name = "ci.example.cn/builds"
	k := newLogKeys(t, name)
	if got := translog.VerifierAlgorithm(k.sm2Verifier); got != "sm2" {
		t.Fatalf("VerifierAlgorithm = %q, want sm2", got)
	}
	if k.sm2Verifier.KeyHash() != k.sm2Signer.KeyHash() {
		t.Fatalf("verifier key hash %08x, signer %08x", k.sm2Verifier.KeyHash(), k.sm2Signer.KeyHash())
	}

	// The key encoding is 0xff || "SM2-SM3" || DER SubjectPublicKeyInfo.
	parts := strings.SplitN(k.sm2VKey, "+", 3)
	enc, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(enc), "\xffSM2-SM3") {
		t.Fatalf("SM2 key encoding starts %q", enc[:min(len(enc), 8)])
	}
	pub, err := smx509.ParsePKIXPublicKey(enc[8:])
	if err != nil {
		t.Fatalf("the key after the identifier is not a DER SPKI: %v", err)
	}
	if !pub.(*ecdsa.PublicKey).Equal(k.sm2.Public()) {
		t.Fatal("the SPKI holds another key")
	}

	text := checkpointText(name, 7, make([]byte, 32))
	msg := signNote(t, text, k.sm2Signer)
	n, err := note.Open(msg, note.VerifierList(k.sm2Verifier))
	if err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	// Peer check: the signature (after the 4-byte key hash) is SM2 with
	// SM3 and the default ID over the note text.
	line := strings.TrimPrefix(strings.TrimSuffix(strings.SplitN(string(msg), "\n\n", 2)[1], "\n"), "— "+name+" ")
	raw, err := base64.StdEncoding.DecodeString(line)
	if err != nil || len(raw) < 5 {
		t.Fatalf("signature line %q: %v", line, err)
	}
	if binary.BigEndian.Uint32(raw[:4]) != k.sm2Signer.KeyHash() {
		t.Fatal("signature line carries another key hash")
	}
	if !sm2.VerifyASN1WithSM2(k.sm2.Public().(*ecdsa.PublicKey), nil, []byte(n.Text), raw[4:]) {
		t.Fatal("gmsm does not verify the SM2 note signature as SM2-SM3 with the default ID")
	}
}

func TestNoteSignatureFailures(t *testing.T) {
	const name = "audit.example.com/prod"
	k := newLogKeys(t, name)
	other := newLogKeys(t, name)
	text := checkpointText(name, 1, make([]byte, 32))
	for _, tt := range []struct {
		alg      string
		signer   note.Signer
		verifier note.Verifier
		otherV   note.Verifier
	}{
		{"ed25519", k.edSigner, k.edVerifier, other.edVerifier},
		{"sm2", k.sm2Signer, k.sm2Verifier, other.sm2Verifier},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			msg := signNote(t, text, tt.signer)
			if _, err := note.Open(msg, note.VerifierList(tt.verifier)); err != nil {
				t.Fatalf("the right key does not verify: %v", err)
			}
			var unverified *note.UnverifiedNoteError
			if _, err := note.Open(msg, note.VerifierList(tt.otherV)); !errors.As(err, &unverified) {
				t.Fatalf("another key of the same name: note.Open = %v, want UnverifiedNoteError", err)
			}
			tampered := strings.Replace(string(msg), "\n1\n", "\n2\n", 1)
			if tampered == string(msg) {
				t.Fatal("test did not tamper the note")
			}
			if _, err := note.Open([]byte(tampered), note.VerifierList(tt.verifier)); err == nil {
				t.Fatal("a tampered note verifies")
			}
			// Flip a bit of the signature itself.
			sig := strings.SplitN(string(msg), "\n\n", 2)
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(sig[1], "— "+name+" "), "\n"))
			raw[len(raw)-3] ^= 1
			bad := sig[0] + "\n\n— " + name + " " + base64.StdEncoding.EncodeToString(raw) + "\n"
			if _, err := note.Open([]byte(bad), note.VerifierList(tt.verifier)); err == nil {
				t.Fatal("a note with a damaged signature verifies")
			}
			if tt.verifier.Verify([]byte(text), nil) || tt.verifier.Verify([]byte(text), []byte("short")) {
				t.Fatal("Verify accepts an empty or short signature")
			}
		})
	}
}

func TestNewVerifierRejects(t *testing.T) {
	const name = "log.example"
	k := newLogKeys(t, name)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256DER, err := smx509.MarshalPKIXPublicKey(&p256.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	edPub := k.ed.Public().(ed25519.PublicKey)
	tests := []struct {
		name string
		vkey string
		want string
	}{
		{"empty", "", "not NAME+HASH+BASE64"},
		{"name only", name, "not NAME+HASH+BASE64"},
		{"no key", name + "+01234567", "not NAME+HASH+BASE64"},
		{"short hash", name + "+0123456+AQ==", "not NAME+HASH+BASE64"},
		{"hash not hex", name + "+0123456z+AQ==", "not NAME+HASH+BASE64"},
		{"bad base64", name + "+01234567+!!!!", "not NAME+HASH+BASE64"},
		{"empty name", rawVKey("", append([]byte{1}, edPub...)), "not NAME+HASH+BASE64"},
		{"name with space", "a b+01234567+AQ==", "not NAME+HASH+BASE64"},
		{"hash of another key", name + "+" + flipHash(k.edVKey), "does not match"},
		{"unknown type", rawVKey(name, append([]byte{0x02}, edPub...)), "unsupported key type 0x02"},
		{"Ed25519 key too short", rawVKey(name, append([]byte{0x01}, edPub[:31]...)), "unsupported key type 0x01"},
		{"extension without SM2 identifier", rawVKey(name, append([]byte{0xff}, "SM9-SM3"...)), "unsupported key type 0xff"},
		{"SM2 identifier with garbage", rawVKey(name, append([]byte("\xffSM2-SM3"), 0x30, 0x03, 0x02, 0x01)), "verifier key for"},
		{"SM2 identifier with a P-256 key", rawVKey(name, append([]byte("\xffSM2-SM3"), p256DER...)), "not on the SM2 curve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := translog.NewVerifier(tt.vkey)
			if err == nil {
				t.Fatalf("NewVerifier(%q) = %v, want an error", tt.vkey, v.Name())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewVerifier(%q) error %q does not contain %q", tt.vkey, err, tt.want)
			}
		})
	}
}

// flipHash returns vkey's "HASH+BASE64" with the hash changed.
func flipHash(vkey string) string {
	parts := strings.SplitN(vkey, "+", 3)
	h := []byte(parts[1])
	if h[0] == '0' {
		h[0] = '1'
	} else {
		h[0] = '0'
	}
	return string(h) + "+" + parts[2]
}

func TestParseVerifierKeys(t *testing.T) {
	k := newLogKeys(t, "log.example")
	other := newLogKeys(t, "other.example")
	good := "# comment\n\n  " + k.edVKey + "  \n# another\n" + k.sm2VKey + "\n"
	vs, err := translog.ParseVerifierKeys([]byte(good))
	if err != nil {
		t.Fatalf("ParseVerifierKeys: %v", err)
	}
	if len(vs) != 2 || translog.VerifierAlgorithm(vs[0]) != "ed25519" || translog.VerifierAlgorithm(vs[1]) != "sm2" {
		t.Fatalf("ParseVerifierKeys returned %d verifiers", len(vs))
	}

	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty", "", "no verifier keys"},
		{"only comments", "# a\n\n# b\n", "no verifier keys"},
		{"mixed names", k.edVKey + "\n\n" + other.sm2VKey + "\n", `line 3: key for "other.example", but earlier keys are for "log.example"`},
		{"bad hash", k.edVKey + "\n" + k.name + "+" + flipHash(k.sm2VKey) + "\n", "line 2:"},
		{"garbage line", "# keys\nnot a key\n", "line 2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := translog.ParseVerifierKeys([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseVerifierKeys = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSignerRejects(t *testing.T) {
	p256, err := keys.Generate(keys.ECDSAP256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := keys.Generate(keys.Ed25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := translog.NewSigner("log.example", p256); err == nil {
		t.Error("NewSigner accepted an ECDSA P-256 key")
	}
	if _, err := translog.VerifierKey("log.example", p256.Public()); err == nil {
		t.Error("VerifierKey accepted an ECDSA P-256 key")
	}
	if _, err := translog.NewEd25519Signer("log.example", p256); err == nil {
		t.Error("NewEd25519Signer accepted an ECDSA P-256 key")
	}
	for _, name := range []string{"", "a+b", "a b", "a\tb"} {
		if _, err := translog.NewSigner(name, ed); err == nil {
			t.Errorf("NewSigner accepted the name %q", name)
		}
		if _, err := translog.VerifierKey(name, ed.Public()); err == nil {
			t.Errorf("VerifierKey accepted the name %q", name)
		}
	}
}

func TestOpenCheckpoint(t *testing.T) {
	const origin = "audit.example.com/prod"
	k := newLogKeys(t, origin)
	other := newLogKeys(t, origin)
	witness := newLogKeys(t, "witness.example")
	root := sha256.Sum256([]byte("root"))
	text := checkpointText(origin, 1234, root[:])

	t.Run("signed by both keys", func(t *testing.T) {
		raw := signNote(t, text, k.signers()...)
		cp, err := translog.OpenCheckpoint(raw, k.verifiers)
		if err != nil {
			t.Fatalf("OpenCheckpoint: %v", err)
		}
		if cp.Origin != origin || cp.Size != 1234 || string(cp.Root) != string(root[:]) || string(cp.Raw) != string(raw) {
			t.Fatalf("OpenCheckpoint = %+v", cp)
		}
		if want := origin + " size 1234 root " + base64.StdEncoding.EncodeToString(root[:]); cp.String() != want {
			t.Fatalf("String = %q, want %q", cp.String(), want)
		}
	})
	t.Run("witness cosignatures are ignored", func(t *testing.T) {
		raw := signNote(t, text, k.edSigner, k.sm2Signer, witness.edSigner)
		if _, err := translog.OpenCheckpoint(raw, k.verifiers); err != nil {
			t.Fatalf("OpenCheckpoint: %v", err)
		}
	})
	t.Run("Ed25519 alone is enough for an Ed25519-only client", func(t *testing.T) {
		raw := signNote(t, text, k.edSigner)
		if _, err := translog.OpenCheckpoint(raw, []note.Verifier{k.edVerifier}); err != nil {
			t.Fatalf("OpenCheckpoint: %v", err)
		}
	})

	refusals := []struct {
		name      string
		raw       func() []byte
		verifiers []note.Verifier
		want      string
		sigErr    bool
	}{
		{"only Ed25519 signed, SM2 required too", func() []byte { return signNote(t, text, k.edSigner) }, k.verifiers, "missing the sm2 signature", true},
		{"only SM2 signed, Ed25519 required too", func() []byte { return signNote(t, text, k.sm2Signer) }, k.verifiers, "missing the ed25519 signature", true},
		{"signed by other keys of the same name", func() []byte { return signNote(t, text, other.signers()...) }, k.verifiers, "no signature by a trusted key", true},
		{"one of the two keys is another", func() []byte { return signNote(t, text, k.edSigner, other.sm2Signer) }, k.verifiers, "missing the sm2 signature", true},
		{"only a witness signed", func() []byte { return signNote(t, text, witness.edSigner) }, k.verifiers, "no signature by a trusted key", true},
		{"body changed after signing", func() []byte {
			return []byte(strings.Replace(string(signNote(t, text, k.signers()...)), "\n1234\n", "\n1235\n", 1))
		}, k.verifiers, "", true},
		{"body for another origin", func() []byte {
			return signNote(t, checkpointText("evil.example", 1, root[:]), k.signers()...)
		}, k.verifiers, `checkpoint is for log "evil.example"`, false},
		{"body not a checkpoint", func() []byte { return signNote(t, origin+"\nlots\n", k.signers()...) }, k.verifiers, "checkpoint body", false},
		{"not a note", func() []byte { return []byte("hello\n") }, k.verifiers, "", true},
		{"too large", func() []byte { return []byte(strings.Repeat("a\n", 10<<10)) }, k.verifiers, "larger than", false},
		{"no verifiers", func() []byte { return signNote(t, text, k.signers()...) }, nil, "no verifier keys", false},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := translog.OpenCheckpoint(tt.raw(), tt.verifiers)
			if err == nil {
				t.Fatalf("OpenCheckpoint accepted it: %v", cp)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if got := errors.Is(err, translog.ErrCheckpointSignature); got != tt.sigErr {
				t.Fatalf("errors.Is(%q, ErrCheckpointSignature) = %v, want %v", err, got, tt.sigErr)
			}
		})
	}
}
