package modproxy_test

import (
	"crypto"
	"crypto/rand"
	"net/http"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modsign"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/translog"
)

// TestPrivateSumDB: the go command, with GOSUMDB set to the proxy's own
// checksum database and no GONOSUMDB, verifies an internal module and a
// public one against it; the tree heads carry an SM2 co-signature; a proxy
// restarted over the same store serves the same tree.
func TestPrivateSumDB(t *testing.T) {
	up := upstream(t)
	lg := startLog(t)
	key := publisher(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, "sum.corp.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	sm2Key := publisher(t)
	storeDir := t.TempDir()
	store, _ := modstore.NewDir(storeDir)
	lib := writeModule(t, map[string]string{"go.mod": "module corp.example/auth\n\ngo 1.22\n", "auth.go": authLib})
	pub, err := publish(t, store, lg, key, lib, "v1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	opts := func() modproxy.Options {
		return modproxy.Options{Upstream: up, Internal: "corp.example",
			Internals:    &modsign.StoreVerifier{Trust: modsign.Trust{Publishers: []crypto.PublicKey{key.Public()}, Log: lg.Keys}},
			PrivateSumDB: &modproxy.PrivateSumDB{Signer: signer, SM2: sm2Key}}
	}
	p := startProxy(t, storeDir, opts())
	app := writeModule(t, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.22\n\nrequire (\n\tcorp.example/auth v1.0.0\n\tgithub.com/google/uuid v1.6.0\n)\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"corp.example/auth\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(auth.Check(\"ok\"), uuid.Nil) }\n",
	})
	env := goEnv(t, p.URL, "GOSUMDB="+vkey)
	runGo(t, app, env, false, "build", "-o", os.DevNull, ".")
	sum, _ := os.ReadFile(app + "/go.sum")
	if !strings.Contains(string(sum), string(pub.Statement.GoSum())) {
		t.Errorf("go.sum lacks the published lines:\n%s", sum)
	}

	code, latest := get(t, p.URL+"/sumdb/sum.corp.example/latest")
	if code != http.StatusOK {
		t.Fatalf("latest: %d %s", code, latest)
	}
	sm2vkey, err := translog.VerifierKey("sum.corp.example", sm2Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	sm2v, err := translog.NewVerifier(sm2vkey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open([]byte(latest), note.VerifierList(sm2v)); err != nil {
		t.Errorf("the tree head has no valid SM2 signature: %v\n%s", err, latest)
	}
	if !strings.Contains(latest, "\n2\n") {
		t.Errorf("tree head %q, want 2 records (the internal and the public module)", latest)
	}
	if code, body := get(t, p.URL+"/sumdb/sum.corp.example/lookup/corp.example/auth@v9.9.9"); code != http.StatusNotFound {
		t.Errorf("lookup of an unpublished version: %d %s", code, body)
	}

	// A restarted proxy reads the records back: the same tree, and a go
	// command with an empty cache still verifies.
	p2 := startProxy(t, storeDir, opts())
	// (SM2 signatures are randomised: the tree and the Ed25519 signature
	// are what must be equal.)
	if _, again := get(t, p2.URL+"/sumdb/sum.corp.example/latest"); treeAndEd25519(again) != treeAndEd25519(latest) {
		t.Errorf("after a restart the tree head is\n%s\nwant\n%s", again, latest)
	}
	fresh := func() string {
		return writeModule(t, map[string]string{
			"go.mod":  "module example.com/app2\n\ngo 1.22\n\nrequire (\n\tcorp.example/auth v1.0.0\n\tgithub.com/google/uuid v1.6.0\n)\n",
			"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"corp.example/auth\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(auth.Check(\"ok\"), uuid.Nil) }\n",
		})
	}
	runGo(t, fresh(), goEnv(t, p2.URL, "GOSUMDB="+vkey), false, "build", "-o", os.DevNull, ".")

	// The go command does check: a key of the same name that did not sign
	// the tree heads fails verification.
	_, otherVkey, _ := note.GenerateKey(rand.Reader, "sum.corp.example")
	out := runGo(t, fresh(), goEnv(t, p2.URL, "GOSUMDB="+otherVkey), true, "build", "-o", os.DevNull, ".")
	t.Logf("the go command with another key: %s", out)
	if !strings.Contains(out, "sum.corp.example") || !strings.Contains(out, "verif") {
		t.Errorf("the go command with another key:\n%s", out)
	}
}

// treeAndEd25519 is a signed tree head's text and first signature line.
func treeAndEd25519(signed string) string {
	lines := strings.SplitN(signed, "\n", 6)
	if len(lines) < 5 {
		return signed
	}
	return strings.Join(lines[:5], "\n")
}
