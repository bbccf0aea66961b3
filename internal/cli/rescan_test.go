package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"hegui.dev/hegui/internal/cli/delivercmd"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/internal/rescan"
	"hegui.dev/hegui/keys"
)

// TestRescan rescans a delivery against the database: the update is an
// OpenVEX document signed as an in-toto statement about the delivered
// binaries, naming the delivery by its manifest's digest, recorded in the
// audit log; a delivery whose binary changed is refused and leaves nothing.
func TestRescan(t *testing.T) {
	r := newRunner(t)
	r.env["HEGUI_VULNDB"] = testVulnDB(t)
	f := newFixture(t)
	var dr delivercmd.Result
	res := r.ok("deliver", f.dir, "--snapshot", "--output", r.path("out"), "--skip-reproduce", "--json")
	if err := json.Unmarshal([]byte(res.stdout), &dr); err != nil {
		t.Fatal(err)
	}
	s := makeSigning(t, r.dir)
	home, url, token := startLog(t, r, "delivery.*")
	r.env["HEGUI_LOG_TOKEN"] = token

	r.fails(2, []string{"--key is required"}, "rescan", dr.Directory)
	out := r.path("rescan1")
	res = r.ok("rescan", dr.Directory, "--key", s.ecKey, "-o", out, "--json",
		"--audit-log", url, "--audit-log-pub", filepath.Join(home, logserver.PublicKeyFile))
	var sum rescan.Summary
	if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
		t.Fatal(err)
	}
	manifest, _ := os.ReadFile(filepath.Join(dr.Directory, format.ManifestFile))
	digest := sha256.Sum256(manifest)
	if sum.Manifest != "sha256:"+hex.EncodeToString(digest[:]) || sum.Findings == 0 || len(sum.Binaries) == 0 || sum.Logged == nil || sum.Logged.URL != url {
		t.Errorf("summary %+v", sum)
	}
	// The same database as the delivery's: nothing is new.
	if len(sum.New) != 0 {
		t.Errorf("new findings against the delivery's own database: %v", sum.New)
	}
	data, err := os.ReadFile(filepath.Join(out, rescan.StatementFile))
	if err != nil {
		t.Fatal(err)
	}
	env, payload, err := envelope.Parse(data, envelope.InTotoPayloadType)
	if err != nil {
		t.Fatal(err)
	}
	pubData, _ := os.ReadFile(s.ecPub)
	pub, _ := keys.ParsePublicKey(pubData)
	if err := envelope.VerifyKey(env, pub); err != nil {
		t.Errorf("the update's signature: %v", err)
	}
	stmt, err := format.ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	if stmt.PredicateType != rescan.OpenVEXPredicateType || len(stmt.Subjects) != len(sum.Binaries) {
		t.Errorf("statement: %s, %d subjects", stmt.PredicateType, len(stmt.Subjects))
	}
	for _, name := range []string{format.VulnsJSONFile, format.OpenVEXFile, rescan.SummaryFile, format.TransparencyEntryFile, format.TransparencyProofFile} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	r.fails(1, []string{"exists"}, "rescan", dr.Directory, "--key", s.ecKey, "-o", out)

	// A binary changed after signing: refused before anything is written.
	tampered := r.path("tampered")
	if err := os.CopyFS(tampered, os.DirFS(dr.Directory)); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tampered, filepath.FromSlash(sum.Binaries[0]))
	os.Chmod(bin, 0o644)
	fh, _ := os.OpenFile(bin, os.O_WRONLY|os.O_APPEND, 0)
	fh.Write([]byte("x"))
	fh.Close()
	r.fails(1, []string{"does not match the delivery's manifest"}, "rescan", tampered, "--key", s.ecKey, "-o", r.path("rescan2"))
	if _, err := os.Stat(r.path("rescan2")); err == nil {
		t.Error("a refused rescan left its directory")
	}
	if m, _ := filepath.Glob(filepath.Join(r.dir, ".rescan-*")); len(m) != 0 {
		t.Errorf("a refused rescan left %v", m)
	}
}
