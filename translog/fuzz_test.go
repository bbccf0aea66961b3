package translog_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/translog"
)

// FuzzParseEvent: ParseEvent never panics, and whatever it accepts has a
// canonical encoding that parses back to the same canonical encoding.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"time":"2026-05-17T08:30:00Z","actor":"alice","action":"user.login","outcome":"success"}`,
		`{"schema":"hegui.dev/audit-event/v1","time":"2026-05-17T16:30:00.123456789+08:00","actor":"ci","action":"delivery.publish","object":"hello_1.2.0","outcome":"failure","host":"构建机","application":"hegui","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"a=b","message":"line1\n\tline2 \u2028 <&>","digests":[{"name":"a.tgz","algorithm":"sm3","value":"66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"}],"attributes":{"😀":"x","\ufb33":"y","a":"\\\""}}`,
		`{"time":"2026-05-17T08:30:00Z","actor":"a","action":"x","outcome":"unknown","attributes":{}}`,
		`{"time":"2026-05-17T08:30:00Z","Actor":"a","ACTION":"x","outcome":"unknown","actor":"b"}`,
		`{"time":"2026-05-17T08:30:00Z","actor":"\ud800","action":"x","outcome":"unknown"}`,
		`{"time":"2026-05-17T08:30:00Z","actor":"a","action":"x","outcome":"unknown"}]`,
		`{"time":"9999-12-31T23:59:59.999999999-23:59","actor":"a","action":"x","outcome":"success"}`,
		`{"time":"1970-01-01T00:00:00+00:01","actor":"a","action":"x","outcome":"success"}`,
		`[]`, `null`, `{}`, `"x"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := translog.ParseEvent(data)
		if err != nil {
			return
		}
		c, err := e.Canonical()
		if err != nil {
			// Only the size limit may refuse an event ParseEvent took.
			if !strings.Contains(err.Error(), "limit") {
				t.Fatalf("ParseEvent accepted %q but Canonical refuses it: %v", data, err)
			}
			return
		}
		e2, err := translog.ParseEvent(c)
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", c, err)
		}
		c2, err := e2.Canonical()
		if err != nil {
			t.Fatalf("canonical form %q: Canonical: %v", c, err)
		}
		if !bytes.Equal(c, c2) {
			t.Fatalf("canonical form is not stable:\n%s\n%s", c, c2)
		}
	})
}

// FuzzParseInclusionProof: no panics, and a parsed proof survives
// Marshal and Parse unchanged.
func FuzzParseInclusionProof(f *testing.F) {
	example, err := os.ReadFile("testdata/c2sp-example.tlog-proof")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("c2sp.org/tlog-proof@v1\nindex 0\n\nlog.example\n1\n" + zeroHash64 + "\n\n— log.example AAAAAQ==\n"))
	f.Add([]byte("c2sp.org/tlog-proof@v1\nextra \nindex 5\n" + zeroHash64 + "\n" + onesHash64 + "\n\n"))
	f.Add([]byte("c2sp.org/tlog-proof@v1\r\nindex 1\r\n\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := translog.ParseInclusionProof(data)
		if err != nil {
			return
		}
		for _, h := range p.Hashes {
			if len(h) != 32 {
				t.Fatalf("accepted a %d-byte hash", len(h))
			}
		}
		again, err := translog.ParseInclusionProof(p.Marshal())
		if err != nil {
			t.Fatalf("Marshal of a parsed proof does not parse: %v\n%q", err, p.Marshal())
		}
		if !proofsEqual(p, again) {
			t.Fatalf("round trip changed the proof: %+v -> %+v", p, again)
		}
	})
}

// FuzzParseVerifierKeys: no panics; every key accepted is for one log
// name and encodes the key it was read from.
func FuzzParseVerifierKeys(f *testing.F) {
	k := newLogKeys(f, "log.example")
	_, vkey, err := note.GenerateKey(rand.Reader, "log.example")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(k.edVKey + "\n" + k.sm2VKey + "\n"))
	f.Add([]byte("# comment\n\n" + vkey + "\n"))
	f.Add([]byte(k.sm2VKey))
	f.Add([]byte(rawVKey("log.example", append([]byte("\xffSM2-SM3"), 0x30, 0x00))))
	f.Add([]byte(rawVKey("log.example", []byte{0x01})))
	f.Add([]byte("a+00000000+"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := translog.ParseVerifierKeys(data)
		if err != nil {
			return
		}
		if len(vs) == 0 {
			t.Fatal("no error and no keys")
		}
		for _, v := range vs {
			if v.Name() != vs[0].Name() {
				t.Fatalf("keys for %q and %q accepted together", vs[0].Name(), v.Name())
			}
			if a := translog.VerifierAlgorithm(v); a != "ed25519" && a != "sm2" {
				t.Fatalf("verifier of algorithm %q", a)
			}
			// Verifying garbage must not panic.
			v.Verify([]byte("msg\n"), make([]byte, ed25519.SignatureSize))
			v.Verify([]byte("msg\n"), []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
		}
	})
}

// FuzzOpenCheckpoint: no panics; an accepted checkpoint is signed by both
// keys, is for the keys' log and opens again from its Raw bytes.
func FuzzOpenCheckpoint(f *testing.F) {
	k := newLogKeys(f, "log.example")
	witness := newLogKeys(f, "witness.example")
	// stranger never signs anything.
	stranger := newLogKeys(f, "stranger.example")
	text := checkpointText(k.name, 10, make([]byte, 32))
	f.Add(signNote(f, text, k.signers()...))
	f.Add(signNote(f, text, k.edSigner))
	f.Add(signNote(f, text, k.edSigner, k.sm2Signer, witness.edSigner))
	f.Add(signNote(f, k.name+"\n10\n"+zeroHash64+"\nextension line\n", k.signers()...))
	f.Add(signNote(f, "other.example\n1\n"+zeroHash64+"\n", k.signers()...))
	f.Add(signNote(f, k.name+"\n-1\n"+zeroHash64+"\n", k.signers()...))
	f.Add([]byte("log.example\n1\n\n— log.example AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := translog.OpenCheckpoint(data, k.verifiers)
		if err != nil {
			return
		}
		if cp.Origin != k.name || len(cp.Root) != 32 {
			t.Fatalf("accepted checkpoint %v", cp)
		}
		n, err := note.Open(data, note.VerifierList(k.verifiers...))
		if err != nil || len(n.Sigs) < 2 {
			t.Fatalf("OpenCheckpoint accepted a note that note.Open with both keys does not: %v", err)
		}
		again, err := translog.OpenCheckpoint(cp.Raw, k.verifiers)
		if err != nil || again.Size != cp.Size || !bytes.Equal(again.Root, cp.Root) {
			t.Fatalf("Raw does not open to the same checkpoint: %v", err)
		}
		if _, err := translog.OpenCheckpoint(data, []note.Verifier{k.edVerifier, stranger.edVerifier}); err == nil {
			t.Fatal("accepted although one of the keys did not sign")
		}
	})
}
