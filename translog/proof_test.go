package translog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"hegui.dev/hegui/translog"
)

// tlogTree is an RFC 6962 tree built with golang.org/x/mod/sumdb/tlog, an
// implementation independent of the transparency-dev/merkle code translog
// uses, so proofs and tiles made from it check translog against a peer.
type tlogTree struct {
	entries [][]byte
	stored  []tlog.Hash
}

func newTlogTree(t testing.TB, entries [][]byte) *tlogTree {
	t.Helper()
	tr := &tlogTree{}
	for _, e := range entries {
		tr.add(t, e)
	}
	return tr
}

func (tr *tlogTree) add(t testing.TB, entry []byte) {
	t.Helper()
	hs, err := tlog.StoredHashes(int64(len(tr.entries)), entry, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.entries = append(tr.entries, entry)
	tr.stored = append(tr.stored, hs...)
}

// ReadHashes implements tlog.HashReader.
func (tr *tlogTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(tr.stored)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = tr.stored[x]
	}
	return out, nil
}

func (tr *tlogTree) root(t testing.TB, size int) []byte {
	t.Helper()
	h, err := tlog.TreeHash(int64(size), tr)
	if err != nil {
		t.Fatal(err)
	}
	return h[:]
}

func (tr *tlogTree) inclusion(t testing.TB, index, size int) [][]byte {
	t.Helper()
	p, err := tlog.ProveRecord(int64(size), int64(index), tr)
	if err != nil {
		t.Fatal(err)
	}
	return hashSlices(p)
}

func (tr *tlogTree) consistency(t testing.TB, older, newer int) [][]byte {
	t.Helper()
	p, err := tlog.ProveTree(int64(newer), int64(older), tr)
	if err != nil {
		t.Fatal(err)
	}
	return hashSlices(p)
}

func hashSlices(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = bytes.Clone(hs[i][:])
	}
	return out
}

// signedCheckpoint returns the checkpoint of the tree's first size entries,
// signed with both of k's keys.
func (tr *tlogTree) signedCheckpoint(t testing.TB, k logKeys, size int) translog.Checkpoint {
	t.Helper()
	raw := signNote(t, checkpointText(k.name, uint64(size), tr.root(t, size)), k.signers()...)
	cp, err := translog.OpenCheckpoint(raw, k.verifiers)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func numberedEntries(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"entry":%d}`, i)
	}
	return out
}

// Hashes whose base64 is easy to write by hand.
var (
	zeroHash = make([]byte, 32)
	onesHash = bytes.Repeat([]byte{0xff}, 32)
)

const (
	zeroHash64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	onesHash64 = "//////////////////////////////////////////8="
)

func TestInclusionProofFormat(t *testing.T) {
	const cp = "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— log.example AAAAAQ==\n"
	tests := []struct {
		name  string
		proof translog.InclusionProof
		want  string
	}{
		{
			name:  "two hashes, no extra",
			proof: translog.InclusionProof{Index: 4, Hashes: [][]byte{zeroHash, onesHash}, Checkpoint: []byte(cp)},
			want:  "c2sp.org/tlog-proof@v1\nindex 4\n" + zeroHash64 + "\n" + onesHash64 + "\n\n" + cp,
		},
		{
			name:  "with extra data",
			proof: translog.InclusionProof{Index: 10, Hashes: [][]byte{onesHash}, Checkpoint: []byte(cp), Extra: []byte("extra information")},
			want:  "c2sp.org/tlog-proof@v1\nextra ZXh0cmEgaW5mb3JtYXRpb24=\nindex 10\n" + onesHash64 + "\n\n" + cp,
		},
		{
			name:  "index 0 of a one-entry tree: no hashes",
			proof: translog.InclusionProof{Index: 0, Checkpoint: []byte(cp)},
			want:  "c2sp.org/tlog-proof@v1\nindex 0\n\n" + cp,
		},
		{
			name:  "largest index",
			proof: translog.InclusionProof{Index: 1<<64 - 1, Hashes: [][]byte{zeroHash}, Checkpoint: []byte(cp)},
			want:  "c2sp.org/tlog-proof@v1\nindex 18446744073709551615\n" + zeroHash64 + "\n\n" + cp,
		},
	}
	if base64.StdEncoding.EncodeToString(zeroHash) != zeroHash64 || base64.StdEncoding.EncodeToString(onesHash) != onesHash64 {
		t.Fatal("hand-written base64 of the test hashes is wrong")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.proof.Marshal()
			if string(got) != tt.want {
				t.Fatalf("Marshal:\n%s\nwant:\n%s", got, tt.want)
			}
			p, err := translog.ParseInclusionProof([]byte(tt.want))
			if err != nil {
				t.Fatalf("ParseInclusionProof: %v", err)
			}
			if !proofsEqual(p, tt.proof) {
				t.Fatalf("ParseInclusionProof = %+v, want %+v", p, tt.proof)
			}
		})
	}
}

func proofsEqual(a, b translog.InclusionProof) bool {
	if a.Index != b.Index || !bytes.Equal(a.Checkpoint, b.Checkpoint) || !bytes.Equal(a.Extra, b.Extra) || len(a.Hashes) != len(b.Hashes) {
		return false
	}
	for i := range a.Hashes {
		if !bytes.Equal(a.Hashes[i], b.Hashes[i]) {
			return false
		}
	}
	return true
}

// TestParseInclusionProofSpecExample reads the example of the C2SP
// tlog-proof specification and writes it back byte for byte.
func TestParseInclusionProofSpecExample(t *testing.T) {
	data, err := os.ReadFile("testdata/c2sp-example.tlog-proof")
	if err != nil {
		t.Fatal(err)
	}
	p, err := translog.ParseInclusionProof(data)
	if err != nil {
		t.Fatalf("ParseInclusionProof: %v", err)
	}
	if p.Index != 73894 || len(p.Hashes) != 5 || !bytes.HasPrefix(p.Extra, []byte("age-v1.2.1-darwin-arm64.tar.gz")) {
		t.Fatalf("parsed index %d, %d hashes, extra %q", p.Index, len(p.Hashes), p.Extra)
	}
	if !bytes.HasPrefix(p.Checkpoint, []byte("example.com/fancylog\n109482\n")) {
		t.Fatalf("checkpoint %q", p.Checkpoint)
	}
	if got := p.Marshal(); !bytes.Equal(got, data) {
		t.Fatalf("Marshal does not reproduce the example:\n%s", got)
	}
}

func TestParseInclusionProofRejects(t *testing.T) {
	const cp = "\nlog.example\n1\n" + zeroHash64 + "\n\n— log.example AAAAAQ==\n"
	const head = "c2sp.org/tlog-proof@v1\n"
	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty", "", "no blank line"},
		{"no blank line", head + "index 0\n" + zeroHash64 + "\n", "no blank line"},
		{"wrong header", "c2sp.org/tlog-proof@v2\nindex 0\n" + cp, "first line"},
		{"header with trailing space", "c2sp.org/tlog-proof@v1 \nindex 0\n" + cp, "first line"},
		{"CRLF line endings", "c2sp.org/tlog-proof@v1\r\nindex 0\r\n" + cp, "not CRLF"},
		{"CR in a hash line", head + "index 1\n" + zeroHash64[:10] + "\r" + zeroHash64[10:] + "\n" + cp, "not CRLF"},
		{"no index line", head + cp, "no index line"},
		{"only extra", head + "extra AAAA\n" + cp, "no index line"},
		{"index with leading zero", head + "index 01\n" + cp, `is not "index N"`},
		{"negative index", head + "index -1\n" + cp, `is not "index N"`},
		{"index with plus sign", head + "index +1\n" + cp, `is not "index N"`},
		{"index out of range", head + "index 18446744073709551616\n" + cp, `is not "index N"`},
		{"index without number", head + "index \n" + cp, `is not "index N"`},
		{"index spelled otherwise", head + "Index 1\n" + cp, `is not "index N"`},
		{"extra after index", head + "index 1\nextra AAAA\n" + cp, "not a base64 SHA-256 hash"},
		{"extra not base64", head + "extra !!!\nindex 1\n" + cp, "extra"},
		{"hash not base64", head + "index 1\n" + strings.Repeat("!", 44) + "\n" + cp, "not a base64 SHA-256 hash"},
		{"hash of 31 bytes", head + "index 1\n" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n" + cp, "not a base64 SHA-256 hash"},
		{"hash of 33 bytes", head + "index 1\n" + base64.StdEncoding.EncodeToString(make([]byte, 33)) + "\n" + cp, "not a base64 SHA-256 hash"},
		{"unpadded hash", head + "index 1\n" + strings.TrimSuffix(zeroHash64, "=") + "\n" + cp, "not a base64 SHA-256 hash"},
		{"too many hashes", head + "index 1\n" + strings.Repeat(zeroHash64+"\n", 129) + cp, "too many hashes"},
		{"too large", head + "index 1\n" + strings.Repeat(zeroHash64+"\n", 2000) + cp, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := translog.ParseInclusionProof([]byte(tt.data))
			if err == nil {
				t.Fatalf("ParseInclusionProof accepted it: %+v", p)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestInclusionProofVerify verifies proofs made by x/mod/sumdb/tlog for
// every entry of trees of several sizes, as a parsed tlog-proof.
func TestInclusionProofVerify(t *testing.T) {
	k := newLogKeys(t, "log.example")
	entries := numberedEntries(13)
	tr := newTlogTree(t, entries)
	for size := 1; size <= len(entries); size++ {
		cp := tr.signedCheckpoint(t, k, size)
		for i := range size {
			p := translog.InclusionProof{Index: uint64(i), Hashes: tr.inclusion(t, i, size), Checkpoint: cp.Raw, Extra: []byte("x")}
			parsed, err := translog.ParseInclusionProof(p.Marshal())
			if err != nil {
				t.Fatalf("size %d index %d: ParseInclusionProof: %v", size, i, err)
			}
			got, err := parsed.Verify(entries[i], k.verifiers)
			if err != nil {
				t.Fatalf("size %d index %d: Verify: %v", size, i, err)
			}
			if got.Size != uint64(size) {
				t.Fatalf("Verify returned checkpoint of size %d", got.Size)
			}
		}
	}

	size := len(entries)
	cp := tr.signedCheckpoint(t, k, size)
	good := translog.InclusionProof{Index: 5, Hashes: tr.inclusion(t, 5, size), Checkpoint: cp.Raw}
	refusals := []struct {
		name  string
		entry []byte
		proof func() translog.InclusionProof
		sig   bool
	}{
		{"another entry", entries[6], func() translog.InclusionProof { return good }, false},
		{"entry changed by one byte", append(bytes.Clone(entries[5][:len(entries[5])-1]), '!'), func() translog.InclusionProof { return good }, false},
		{"another index", entries[5], func() translog.InclusionProof { p := good; p.Index = 4; return p }, false},
		{"index past the tree", entries[5], func() translog.InclusionProof { p := good; p.Index = uint64(size); return p }, false},
		{"a hash missing", entries[5], func() translog.InclusionProof { p := good; p.Hashes = p.Hashes[1:]; return p }, false},
		{"a hash too many", entries[5], func() translog.InclusionProof { p := good; p.Hashes = append(p.Hashes, zeroHash); return p }, false},
		{"a hash changed", entries[5], func() translog.InclusionProof {
			p := good
			p.Hashes = append([][]byte{}, p.Hashes...)
			p.Hashes[1] = sha256.New().Sum(nil)
			return p
		}, false},
		{"checkpoint signed by Ed25519 only", entries[5], func() translog.InclusionProof {
			p := good
			p.Checkpoint = signNote(t, checkpointText(k.name, uint64(size), tr.root(t, size)), k.edSigner)
			return p
		}, true},
		{"checkpoint of a smaller tree", entries[5], func() translog.InclusionProof {
			p := good
			p.Checkpoint = tr.signedCheckpoint(t, k, size-1).Raw
			return p
		}, false},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.proof().Verify(tt.entry, k.verifiers)
			if err == nil {
				t.Fatal("Verify accepted it")
			}
			if errors.Is(err, translog.ErrCheckpointSignature) != tt.sig {
				t.Fatalf("Verify error %q: ErrCheckpointSignature is %v, want %v", err, !tt.sig, tt.sig)
			}
		})
	}
	if _, err := good.Verify(entries[5], k.verifiers); err != nil {
		t.Fatalf("the unmodified proof does not verify: %v", err)
	}
}

// TestVerifyConsistency checks consistency proofs made by x/mod/sumdb/tlog
// between every pair of tree sizes.
func TestVerifyConsistency(t *testing.T) {
	k := newLogKeys(t, "log.example")
	tr := newTlogTree(t, numberedEntries(17))
	cps := make([]translog.Checkpoint, 18)
	for n := 1; n <= 17; n++ {
		cps[n] = tr.signedCheckpoint(t, k, n)
	}
	for m := 1; m <= 17; m++ {
		for n := m; n <= 17; n++ {
			proof := tr.consistency(t, m, n)
			if err := translog.VerifyConsistency(cps[m], cps[n], proof); err != nil {
				t.Fatalf("%d to %d: %v", m, n, err)
			}
			if m == n {
				continue
			}
			bad := cps[m]
			bad.Root = sha256.New().Sum(nil)
			if err := translog.VerifyConsistency(bad, cps[n], proof); err == nil {
				t.Fatalf("%d to %d: accepted an older root that is not a prefix", m, n)
			}
			if err := translog.VerifyConsistency(cps[n], cps[m], proof); err == nil {
				t.Fatalf("%d to %d: accepted the sizes swapped", m, n)
			}
			if len(proof) > 0 {
				if err := translog.VerifyConsistency(cps[m], cps[n], proof[1:]); err == nil {
					t.Fatalf("%d to %d: accepted a proof missing a hash", m, n)
				}
			}
		}
	}
}

func TestLeafHash(t *testing.T) {
	// RFC 6962 2.1: MTH({d(0)}) = SHA-256(0x00 || d(0)).
	for _, e := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{0}, 1000)} {
		want := sha256.Sum256(append([]byte{0}, e...))
		if got := translog.LeafHash(e); !bytes.Equal(got, want[:]) {
			t.Errorf("LeafHash(%q) = %x, want %x", e, got, want)
		}
		if th := tlog.RecordHash(e); !bytes.Equal(th[:], want[:]) {
			t.Errorf("tlog.RecordHash disagrees for %q", e)
		}
	}
}
