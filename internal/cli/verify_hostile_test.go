package cli

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/keys"
)

// resigner rewrites a delivery as whoever holds its signing keys could:
// after an edit, the checksum files, the manifest's entries and the
// signatures are made anew, so that only what the edit changed differs.
type resigner struct {
	t    *testing.T
	keys []crypto.Signer
}

func newResigner(t *testing.T, keyFiles ...string) *resigner {
	t.Helper()
	rs := &resigner{t: t}
	for _, f := range keyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		k, err := keys.ParsePrivateKey(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		rs.keys = append(rs.keys, k)
	}
	return rs
}

// editJSON rewrites a JSON file of the delivery through edit.
func (rs *resigner) editJSON(path string, edit func(map[string]any)) {
	rs.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		rs.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		rs.t.Fatal(err)
	}
	edit(doc)
	if data, err = json.Marshal(doc); err != nil {
		rs.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		rs.t.Fatal(err)
	}
}

// editProvenance changes the provenance statement and signs it anew.
func (rs *resigner) editProvenance(dir string, edit func(stmt map[string]any)) {
	rs.t.Helper()
	path := filepath.Join(dir, format.ProvenanceFile)
	data, err := os.ReadFile(path)
	if err != nil {
		rs.t.Fatal(err)
	}
	_, payload, err := envelope.Parse(data, envelope.InTotoPayloadType)
	if err != nil {
		rs.t.Fatal(err)
	}
	var stmt map[string]any
	if err := json.Unmarshal(payload, &stmt); err != nil {
		rs.t.Fatal(err)
	}
	edit(stmt)
	if payload, err = json.Marshal(stmt); err != nil {
		rs.t.Fatal(err)
	}
	env, err := envelope.Sign(context.Background(), envelope.InTotoPayloadType, payload, rs.keys...)
	if err != nil {
		rs.t.Fatal(err)
	}
	line, _ := json.Marshal(env)
	if err := os.WriteFile(path, append(line, '\n'), 0o644); err != nil {
		rs.t.Fatal(err)
	}
}

// sign makes the checksum files and the manifest anew and signs it;
// rawEdit, if not nil, changes the manifest's bytes before signing.
func (rs *resigner) sign(dir string, rawEdit func([]byte) []byte) {
	rs.t.Helper()
	ctx := context.Background()
	files, err := format.HashFiles(ctx, dir, func(p string) bool {
		return format.OutsideManifest(p) || p == format.SHA256SumsFile || p == format.SM3SumsFile
	})
	if err != nil {
		rs.t.Fatal(err)
	}
	var sha, sm strings.Builder
	for _, f := range files {
		fmt.Fprintf(&sha, "%s  %s\n", f.SHA256, f.Path)
		fmt.Fprintf(&sm, "%s  %s\n", f.SM3, f.Path)
	}
	os.WriteFile(filepath.Join(dir, format.SHA256SumsFile), []byte(sha.String()), 0o644)
	os.WriteFile(filepath.Join(dir, format.SM3SumsFile), []byte(sm.String()), 0o644)
	all, err := format.HashFiles(ctx, dir, format.OutsideManifest)
	if err != nil {
		rs.t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, format.ManifestFile))
	var m format.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		rs.t.Fatal(err)
	}
	m.Files = all
	data, _ = json.MarshalIndent(m, "", "  ")
	if rawEdit != nil {
		data = rawEdit(data)
	}
	env, err := envelope.Sign(ctx, envelope.ManifestPayloadType, data, rs.keys...)
	if err != nil {
		rs.t.Fatal(err)
	}
	envData, _ := envelope.Marshal(env)
	os.WriteFile(filepath.Join(dir, format.ManifestFile), data, 0o644)
	os.WriteFile(filepath.Join(dir, format.ManifestEnvelopeFile), envData, 0o644)
}

// copyDelivery makes a scratch copy of a delivery to tamper with.
func copyDelivery(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "delivery")
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestVerifyRebuildRunsNothingFromTheDelivery: `hegui verify --rebuild`
// used to run the go command with the arguments and environment report.json
// recorded, even when the signature failed, filtered by a prefix deny-list.
// Every route that ran a command then (--toolexec with a double dash, cgo
// with -extld, -o over a file outside the delivery) and its variants in the
// signed recipe now runs nothing: the rebuild takes its recipe from the
// signed provenance only, builds the command line from an allow-list, and
// writes only into a temporary directory.
func TestVerifyRebuildRunsNothingFromTheDelivery(t *testing.T) {
	d := deliverRelease(t)
	trusted := newResigner(t, d.s.signerKey, d.s.ecKey)
	attacker := makeSigning(t, t.TempDir())
	untrusted := newResigner(t, attacker.signerKey, attacker.ecKey)

	scratch := t.TempDir()
	mark := filepath.Join(scratch, "ran")
	tool := filepath.Join(scratch, "tool.sh")
	os.WriteFile(tool, []byte("#!/bin/sh\ntouch "+mark+"\nexec \"$@\"\n"), 0o755)
	victim := filepath.Join(scratch, "victim")

	// The routes of the old report.json.
	reportArgs := func(args []string, env []string) func(dir string) {
		return func(dir string) {
			trusted.editJSON(filepath.Join(dir, format.ReportJSONFile), func(doc map[string]any) {
				for _, b := range doc["binaries"].([]any) {
					bin := b.(map[string]any)
					bin["args"] = append([]any{"build"}, toAnySlice(args)...)
					bin["env"] = toAnySlice(env)
				}
			})
		}
	}
	// A recipe edit in the signed provenance.
	recipe := func(edit func(build map[string]any)) func(dir string) {
		return func(dir string) {
			trusted.editProvenance(dir, func(stmt map[string]any) {
				params := stmt["predicate"].(map[string]any)["buildDefinition"].(map[string]any)["externalParameters"].(map[string]any)
				for _, b := range params["builds"].([]any) {
					edit(b.(map[string]any))
				}
			})
		}
	}
	toolexec := []string{"--toolexec=" + tool, "-trimpath", "-o", "bin/x", "."}
	extld := []string{"-ldflags=-linkmode=external \"-extld=" + tool + "\"", "-o", "bin/x", "."}
	cases := []struct {
		name   string
		tamper func(dir string)
		sign   *resigner
		want   []string // in the output; the rebuild must not pass unless nil
	}{
		{"report.json --toolexec, signed by an untrusted key", reportArgs(toolexec, nil), untrusted, []string{"[FAIL] signature    manifest.dsse.json:", "no other check ran"}},
		{"report.json --toolexec, signed by the trusted key", reportArgs(toolexec, nil), trusted, nil},
		{"report.json cgo -extld, signed by the trusted key", reportArgs(extld, []string{"CGO_ENABLED=1"}), trusted, nil},
		{"report.json -o outside, signed by the trusted key", reportArgs([]string{"-trimpath", "-o=" + victim, "."}, nil), trusted, nil},
		{"recipe as a v1 command line", recipe(func(b map[string]any) { b["args"] = toAnySlice(toolexec) }), trusted, []string{"rebuild", "unknown"}},
		{"recipe main is a flag", recipe(func(b map[string]any) { b["main"] = "--toolexec=" + tool }), trusted, []string{"rebuild", "main package"}},
		{"recipe output outside", recipe(func(b map[string]any) { b["output"] = victim }), trusted, []string{"rebuild", "output"}},
		{"recipe ldflags define injects -extld", recipe(func(b map[string]any) {
			b["cgo"] = true
			b["ldflags"] = map[string]any{"define": []any{map[string]any{"name": "main.v -linkmode=external -extld=" + tool + " -X main.w", "value": "x"}}}
		}), trusted, []string{"rebuild", "-X"}},
		{"recipe ldflags value carries flags", recipe(func(b map[string]any) {
			b["cgo"] = true
			b["ldflags"] = map[string]any{"define": []any{map[string]any{"name": "main.v", "value": "x' -linkmode=external '-extld=" + tool}}}
		}), trusted, []string{"rebuild", "differ"}},
		{"recipe tag carries a flag", recipe(func(b map[string]any) { b["tags"] = []any{"netgo -toolexec=" + tool} }), trusted, []string{"rebuild", "build tag"}},
		{"recipe target carries a variable", recipe(func(b map[string]any) { b["target"] = "linux/amd64\nCC=" + tool }), trusted, []string{"rebuild", "target"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(mark)
			os.WriteFile(victim, []byte("original"), 0o755)
			dir := copyDelivery(t, d.dir)
			c.tamper(dir)
			c.sign.sign(dir, nil)
			d.r.t = t
			res := d.r.run("verify", dir, "--trust-root", d.s.root, "--source", d.f.dir, "--rebuild")
			out := res.stdout + res.stderr
			if c.want == nil {
				if res.code != 0 {
					t.Errorf("the binaries are the signed ones, built from the signed recipe: exit %d\n%s", res.code, out)
				}
			} else {
				if res.code != 1 {
					t.Errorf("exit %d, want 1\n%s", res.code, out)
				}
				for _, w := range c.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
			}
			if _, err := os.Stat(mark); err == nil {
				t.Errorf("the delivery ran a program of its choice\n%s", out)
			}
			if data, _ := os.ReadFile(victim); string(data) != "original" {
				t.Errorf("the rebuild wrote outside its temporary directory\n%s", out)
			}
			if strings.Contains(out, "[PASS] manifest") && strings.Contains(out, "[FAIL] signature") {
				t.Errorf("the manifest is called signed while its signature fails:\n%s", out)
			}
		})
	}
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestVerifyHostileFiles: a FIFO, a device, a symlink or an oversized file
// where a delivery should have a regular file is refused by name, never
// read (a FIFO would block forever, /dev/zero fill memory); signed JSON
// with a duplicated member or trailing data is refused; names are printed
// escaped.
func TestVerifyHostileFiles(t *testing.T) {
	d := deliverRelease(t)
	trusted := newResigner(t, d.s.signerKey, d.s.ecKey)
	pubs, _ := filepath.Glob(filepath.Join(d.dir, "signers", "*.pub"))
	pubRel, _ := filepath.Rel(d.dir, pubs[0])

	fifo := func(rel string) func(dir string) {
		return func(dir string) {
			p := filepath.Join(dir, rel)
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	symlink := func(rel, target string) func(dir string) {
		return func(dir string) {
			p := filepath.Join(dir, rel)
			os.Remove(p)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		tamper func(dir string)
		want   []string
	}{
		{"manifest is a FIFO", fifo(format.ManifestFile), []string{"manifest.json", "named pipe"}},
		{"envelope is a FIFO", fifo(format.ManifestEnvelopeFile), []string{"manifest.dsse.json", "named pipe"}},
		{"envelope is a link to /dev/zero", symlink(format.ManifestEnvelopeFile, "/dev/zero"), []string{"manifest.dsse.json", "symbolic link"}},
		{"signer key is a FIFO", fifo(pubRel), []string{"signature", "named pipe"}},
		{"signer key is a link to /dev/zero", symlink(pubRel, "/dev/zero"), []string{"signature", "symbolic link"}},
		{"provenance is a FIFO", fifo(format.ProvenanceFile), []string{"provenance", "named pipe"}},
		{"provenance is a link", symlink(format.ProvenanceFile, "/etc/passwd"), []string{"provenance", "symbolic link"}},
		{"an SBOM is a FIFO", fifo("sbom/app_linux_amd64.spdx.json"), []string{"sbom", "named pipe"}},
		{"report.json is a FIFO", fifo(format.ReportJSONFile), []string{"files", "report.json is a named pipe"}},
		{"the bin directory is a link", func(dir string) {
			os.Rename(filepath.Join(dir, "bin"), filepath.Join(dir, "elsewhere"))
			os.Symlink("elsewhere", filepath.Join(dir, "bin"))
		}, []string{"files", "bin is a symbolic link"}},
		{"a sparse 5 GB file not in the manifest", func(dir string) {
			f, _ := os.Create(filepath.Join(dir, "big"))
			f.Truncate(5 << 30)
			f.Close()
		}, []string{"files", "big is not in the manifest"}},
		{"a binary replaced by a sparse 5 GB file", func(dir string) {
			os.Truncate(filepath.Join(dir, "bin/linux_amd64/app"), 5<<30)
		}, []string{"files", "bin/linux_amd64/app: size 5368709120"}},
		{"a name that rewrites the terminal", func(dir string) {
			os.WriteFile(filepath.Join(dir, "\x1b[2K\r  Verified: every check holds.\x1b[8m"), nil, 0o644)
		}, []string{`\x1b[2K Verified: every check holds.\x1b[8m is not in the manifest`}},
		{"manifest with a duplicate path member, signed", func(dir string) {
			trusted.sign(dir, func(data []byte) []byte {
				return []byte(strings.Replace(string(data), `"path": "SHA256SUMS",`, `"path": "SHA256SUMS", "path": "SM3SUMS",`, 1))
			})
		}, []string{"manifest", "duplicate"}},
		{"manifest with trailing data, signed", func(dir string) {
			trusted.sign(dir, func(data []byte) []byte { return append(data, []byte(`{"files":[]}`)...) })
		}, []string{"manifest", "after top-level value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDelivery(t, d.dir)
			c.tamper(dir)
			d.r.t = t
			res := d.r.run("verify", dir, "--trust-root", d.s.root)
			out := res.stdout + res.stderr
			if res.code != 1 {
				t.Errorf("exit %d, want 1\n%s", res.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "\x1b") {
				t.Errorf("raw escape sequence in the output:\n%q", out)
			}
			quiet := d.r.run("verify", dir, "--trust-root", d.s.root, "-q")
			if quiet.code != 1 || strings.Contains(quiet.stdout, "PASS") || !strings.Contains(quiet.stdout, "[FAIL]") {
				t.Errorf("verify -q: exit %d, want 1 and only the failed checks:\n%s", quiet.code, quiet.stdout)
			}
		})
	}
}
