package modproxy_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modsign"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/internal/modverify"
	"hegui.dev/hegui/keys"
)

// testLog is a running audit log (hegui log serve's server) with a writer
// token that may log module publications.
type testLog struct {
	URL   string
	Token string
	Keys  []note.Verifier
	// KeysFile is its log.pub.
	KeysFile string
	// Dir is the log's home.
	Dir string
}

func startLog(t *testing.T, actions ...string) *testLog {
	t.Helper()
	h, err := logserver.Init(filepath.Join(t.TempDir(), "log"), logserver.InitOptions{Origin: "test.example/audit"})
	if err != nil {
		t.Fatal(err)
	}
	h.Config.CheckpointInterval = logserver.Duration(100 * time.Millisecond)
	if len(actions) == 0 {
		actions = []string{"module.*"}
	}
	token, err := logserver.AddToken(h.Dir, "publisher", actions)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close(context.Background())
	})
	vs, err := h.Verifiers()
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{URL: hs.URL, Token: token, Keys: vs, KeysFile: filepath.Join(h.Dir, logserver.PublicKeyFile), Dir: h.Dir}
}

// publisher is an SM2 publisher key.
func publisher(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := keys.Generate(keys.SM2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// publish publishes dir at version into store.
func publish(t *testing.T, store modstore.Store, lg *testLog, key crypto.Signer, dir, version string) (*modsign.Published, error) {
	t.Helper()
	return modsign.Publish(context.Background(), modsign.PublishOptions{
		Store: store, Dir: dir, Version: version, Internal: "corp.example",
		Signer: key, LogURL: lg.URL, LogToken: lg.Token, LogKeys: lg.Keys, TempDir: t.TempDir(),
	})
}

const authLib = `package auth

// Check reports whether the token is the expected one.
func Check(token string) bool { return token == "ok" }
`

// TestInternalModuleThroughGoCommand publishes an internal module signed
// with SM2 and logged, builds a program that uses it through the proxy with
// GOPRIVATE as users set it, and checks what is refused: a republication
// with other content, a stored zip rewritten together with its record, and
// a proxy that does not trust the publisher.
func TestInternalModuleThroughGoCommand(t *testing.T) {
	up := upstream(t)
	lg := startLog(t)
	key := publisher(t)
	lib := writeModule(t, map[string]string{"go.mod": "module corp.example/auth\n\ngo 1.22\n", "auth.go": authLib})

	storeDir := t.TempDir()
	store, err := modstore.NewDir(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := publish(t, store, lg, key, lib, "v1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if pub.Existing || pub.Statement.Module != "corp.example/auth" || !strings.HasPrefix(pub.Statement.ZipHash, "h1:") {
		t.Fatalf("published %+v", pub)
	}
	// The same content again: nothing new.
	again, err := publish(t, store, lg, key, lib, "v1.0.0")
	if err != nil || !again.Existing {
		t.Fatalf("republishing the same content: %+v, %v", again, err)
	}
	// Other content for the same version: refused, nothing changed.
	os.WriteFile(filepath.Join(lib, "auth.go"), []byte(strings.Replace(authLib, `"ok"`, `"changed"`, 1)), 0o644)
	_, err = publish(t, store, lg, key, lib, "v1.0.0")
	var immutable *modsign.ImmutableError
	if !errors.As(err, &immutable) {
		t.Fatalf("republishing other content: %v, want an ImmutableError", err)
	}
	// A public-looking module is not published.
	other := writeModule(t, map[string]string{"go.mod": "module github.com/x/y\n"})
	if _, err := publish(t, store, lg, key, other, "v1.0.0"); err == nil || !strings.Contains(err.Error(), "internal.modules") {
		t.Errorf("publishing a module outside internal.modules: %v", err)
	}

	trust := modsign.Trust{Publishers: []crypto.PublicKey{key.Public()}, Log: lg.Keys}
	p := startProxy(t, storeDir, modproxy.Options{Upstream: up, Internal: "corp.example", Internals: &modsign.StoreVerifier{Trust: trust}})
	app := writeModule(t, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.22\n\nrequire (\n\tcorp.example/auth v1.0.0\n\tgithub.com/google/uuid v1.6.0\n)\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"corp.example/auth\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(auth.Check(\"ok\"), uuid.Nil) }\n",
	})
	env := goEnv(t, p.URL, "GOPRIVATE=corp.example", "GONOPROXY=none")
	runGo(t, app, env, false, "build", "-o", os.DevNull, ".")
	sum, err := os.ReadFile(filepath.Join(app, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sum, pub.Statement.GoSum()) {
		t.Errorf("go.sum does not hold the signed lines %q:\n%s", pub.Statement.GoSum(), sum)
	}
	if out := runGo(t, app, env, false, "list", "-m", "-versions", "corp.example/auth"); !strings.Contains(out, "v1.0.0") {
		t.Errorf("go list -m -versions: %s", out)
	}
	checkGoSum(t, p.URL, sum, trust, pub.Statement)
	if code, body := get(t, p.URL+"/corp.example/auth/@v/v1.0.0.sig"); code != http.StatusOK || !strings.Contains(body, modsign.PayloadType) {
		t.Errorf(".sig: %d %s", code, body)
	}
	if code, _ := get(t, p.URL+"/github.com/google/uuid/@v/v1.6.0.sig"); code != http.StatusNotFound {
		t.Errorf(".sig of a public module: %d, want 404", code)
	}

	// Someone with write access to the store swaps the zip and rewrites its
	// record to match: the signature no longer covers it.
	forged := writeModule(t, map[string]string{"go.mod": "module corp.example/auth\n\ngo 1.22\n", "auth.go": strings.Replace(authLib, `"ok"`, `"backdoor"`, 1)})
	forgedStore, _ := modstore.NewDir(t.TempDir())
	if _, err := publish(t, forgedStore, lg, publisher(t), forged, "v1.0.0"); err != nil {
		t.Fatal(err)
	}
	zipKey, _ := modstore.ModuleKey("corp.example/auth", "v1.0.0", modstore.Zip)
	for _, k := range []string{zipKey, zipKey + modstore.RecordSuffix} {
		data, err := modstore.ReadAll(context.Background(), forgedStore, k, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Replace(context.Background(), k, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	p2 := startProxy(t, storeDir, modproxy.Options{Upstream: up, Internal: "corp.example", Internals: &modsign.StoreVerifier{Trust: trust}})
	out := runGo(t, writeModule(t, map[string]string{"go.mod": "module example.com/b\n"}), goEnv(t, p2.URL, "GONOSUMDB=corp.example"), true, "mod", "download", "corp.example/auth@v1.0.0")
	if !strings.Contains(out, "403") || !strings.Contains(out, "hegui proxy refused (internal)") {
		t.Errorf("a forged zip: the go command says\n%s", out)
	}

	// A proxy that trusts another publisher refuses the genuine version.
	p3 := startProxy(t, storeDir, modproxy.Options{Upstream: up, Internal: "corp.example",
		Internals: &modsign.StoreVerifier{Trust: modsign.Trust{Publishers: []crypto.PublicKey{publisher(t).Public()}, Log: lg.Keys}}})
	if code, body := get(t, p3.URL+"/corp.example/auth/@v/v1.0.0.mod"); code != http.StatusForbidden || !strings.Contains(body, "trusted publisher") {
		t.Errorf("untrusted publisher: %d %s", code, body)
	}
}

// checkGoSum runs hegui mod verify's check on the go.sum the go command
// wrote, then on copies with one public and one internal hash changed.
func checkGoSum(t *testing.T, proxyURL string, sum []byte, trust modsign.Trust, st modsign.Statement) {
	t.Helper()
	lines, err := modverify.ParseGoSum(sum)
	if err != nil {
		t.Fatal(err)
	}
	o := modverify.Options{Proxy: proxyURL, Internal: "corp.example", Trust: trust}
	res, err := modverify.Check(context.Background(), lines, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 0 || res.Internal != 2 || res.Public != len(lines)-2 || res.Public < 2 {
		t.Errorf("genuine go.sum: %+v", res)
	}
	for i := range lines {
		lines[i].Hash = strings.Replace(lines[i].Hash, "h1:", "h1:A", 1)[:len(lines[i].Hash)]
	}
	res, err = modverify.Check(context.Background(), lines, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != len(lines) {
		t.Fatalf("every hash changed, %d of %d lines fail: %+v", len(res.Failures), len(lines), res)
	}
	for _, f := range res.Failures {
		if !strings.Contains(f.Err.Error(), "SECURITY ERROR") {
			t.Errorf("%s: %v", f.Line, f.Err)
		}
	}
	// Without trusted keys the internal lines fail, the public ones pass.
	lines, _ = modverify.ParseGoSum(sum)
	o.Trust = modsign.Trust{}
	res, err = modverify.Check(context.Background(), lines, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 2 || !strings.Contains(res.Failures[0].Err.Error(), "no trusted publisher") {
		t.Errorf("no trust: %+v", res.Failures)
	}
}

// TestPublicationTampering checks Verify against each kind of lie.
func TestPublicationTampering(t *testing.T) {
	lg := startLog(t)
	key := publisher(t)
	lib := writeModule(t, map[string]string{"go.mod": "module corp.example/auth\n", "auth.go": authLib})
	store, _ := modstore.NewDir(t.TempDir())
	if _, err := publish(t, store, lg, key, lib, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	read := func(kind string) []byte {
		k, _ := modstore.ModuleKey("corp.example/auth", "v1.2.3", kind)
		data, err := modstore.ReadAll(context.Background(), store, k, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	sig, tlog := read(modstore.SignatureExt), read(modstore.LogProofExt)
	trust := modsign.Trust{Publishers: []crypto.PublicKey{key.Public()}, Log: lg.Keys}
	if _, err := modsign.Verify(sig, tlog, trust); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	lp, err := modsign.ParseLogProof(tlog)
	if err != nil {
		t.Fatal(err)
	}
	otherEntry := strings.Replace(lp.Entry, "v1.2.3", "v1.2.4", -1)
	reLogged, _ := modsign.LogProof{Entry: otherEntry, Proof: lp.Proof}.Marshal()
	for name, c := range map[string]struct {
		sig, tlog []byte
		trust     modsign.Trust
		want      string
	}{
		"flipped signature": {flip(sig, bytes.Index(sig, []byte(`"sig"`))+12), tlog, trust, "signature"},
		"other publisher":   {sig, tlog, modsign.Trust{Publishers: []crypto.PublicKey{publisher(t).Public()}, Log: lg.Keys}, "trusted publisher"},
		"other entry":       {sig, reLogged, trust, "audit-log proof"},
		"no proof":          {sig, []byte("{}"), trust, "audit-log proof"},
		"garbage":           {[]byte("not json"), tlog, trust, "signature"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := modsign.Verify(c.sig, c.tlog, c.trust)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want an error about %q", err, c.want)
			}
		})
	}
}

func flip(data []byte, i int) []byte {
	out := bytes.Clone(data)
	if out[i] == 'A' {
		out[i] = 'B'
	} else {
		out[i] = 'A'
	}
	return out
}

// TestVerifierCacheIsPerVersion copies a verified version's objects to
// another version, records edited to match, as someone with write access
// to the store could: the copy is refused even after the original was
// verified and served.
func TestVerifierCacheIsPerVersion(t *testing.T) {
	lg := startLog(t)
	key := publisher(t)
	lib := writeModule(t, map[string]string{"go.mod": "module corp.example/auth\n", "auth.go": authLib})
	storeDir := t.TempDir()
	store, _ := modstore.NewDir(storeDir)
	if _, err := publish(t, store, lg, key, lib, "v1.0.0"); err != nil {
		t.Fatal(err)
	}
	trust := modsign.Trust{Publishers: []crypto.PublicKey{key.Public()}, Log: lg.Keys}
	p := startProxy(t, storeDir, modproxy.Options{Offline: true, Internal: "corp.example", Internals: &modsign.StoreVerifier{Trust: trust}})
	if code, body := get(t, p.URL+"/corp.example/auth/@v/v1.0.0.mod"); code != http.StatusOK {
		t.Fatalf("genuine: %d %s", code, body)
	}
	ctx := context.Background()
	for _, kind := range []string{modstore.Info, modstore.Mod, modstore.Zip, modstore.SignatureExt, modstore.LogProofExt} {
		from, _ := modstore.ModuleKey("corp.example/auth", "v1.0.0", kind)
		to, _ := modstore.ModuleKey("corp.example/auth", "v1.1.0", kind)
		keys := [][2]string{{from, to}}
		if kind != modstore.SignatureExt && kind != modstore.LogProofExt {
			keys = append(keys, [2]string{from + modstore.RecordSuffix, to + modstore.RecordSuffix})
		}
		for _, k := range keys {
			data, err := modstore.ReadAll(ctx, store, k[0], 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(k[0], modstore.RecordSuffix) || kind == modstore.Info {
				data = bytes.ReplaceAll(data, []byte("v1.0.0"), []byte("v1.1.0"))
			}
			if strings.HasSuffix(k[0], modstore.RecordSuffix) && kind == modstore.Info {
				rec, err := modstore.ParseRecord(data, "corp.example/auth", "v1.1.0", kind)
				if err != nil {
					t.Fatal(err)
				}
				info, _ := modstore.ReadAll(ctx, store, to, 1<<20)
				rec.Size, rec.SHA256 = int64(len(info)), sha256Hex(info)
				data, _ = rec.Marshal()
			}
			if err := store.Create(ctx, k[1], bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, kind := range []string{"mod", "zip", "sig"} {
		if code, body := get(t, p.URL+"/corp.example/auth/@v/v1.1.0."+kind); code != http.StatusForbidden || !strings.Contains(body, "not corp.example/auth@v1.1.0") {
			t.Errorf("copied version's .%s: %d %s", kind, code, body)
		}
	}
}
