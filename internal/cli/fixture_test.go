package cli

import (
	"crypto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
)

// mitLicense is the MIT licence text, for the fixture's local module.
const mitLicense = `MIT License

Copyright (c) 2026 hegui fixture authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`

// fixture is a Go module in a git repository, made for delivery tests:
// fixture.example/app links go-spew (ISC), golang.org/x/text (BSD-3-Clause)
// and a local module replaced from ./lib (MIT, with a NOTICE file).
type fixture struct {
	t   *testing.T
	dir string // the repository and module root
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: filepath.Join(t.TempDir(), "app")}
	f.write("go.mod", `module fixture.example/app

go 1.26.0

require (
	fixture.example/lib v0.0.0
	github.com/davecgh/go-spew v1.1.1
	golang.org/x/text v0.31.0
)

replace fixture.example/lib => ./lib
`)
	f.write("main.go", `package main

import (
	"fmt"

	"fixture.example/lib"
	"github.com/davecgh/go-spew/spew"
	"golang.org/x/text/language"
)

var version = "dev"

func main() {
	fmt.Print(spew.Sdump(lib.Greeting(), language.Chinese.String(), version))
}
`)
	f.write("lib/go.mod", "module fixture.example/lib\n\ngo 1.26.0\n")
	f.write("lib/lib.go", "// Package lib greets.\npackage lib\n\n// Greeting is a greeting.\nfunc Greeting() string { return \"你好\" }\n")
	f.write("lib/LICENSE", mitLicense)
	f.write("lib/NOTICE", "fixture lib\nThis product includes software developed by the hegui fixture authors.\n")
	f.write(".gitignore", "dist/\n")
	f.goCmd("mod", "tidy")
	f.git("init", "-q")
	f.git("add", ".")
	f.commit("first")
	return f
}

func (f *fixture) write(name, content string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) run(name string, args ...string) string {
	f.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = f.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=2026-11-01T08:00:00Z", "GIT_AUTHOR_DATE=2026-11-01T08:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (f *fixture) git(args ...string) string   { f.t.Helper(); return f.run("git", args...) }
func (f *fixture) goCmd(args ...string) string { f.t.Helper(); return f.run("go", args...) }
func (f *fixture) commit(msg string)           { f.t.Helper(); f.git("commit", "-q", "-m", msg) }

// signing makes an SM2 root CA, an SM2 code-signing key and certificate,
// and an ECDSA co-signing key, unencrypted, in dir; it returns the paths.
type signingFiles struct {
	root, signerKey, signerChain, ecKey, ecPub string
}

func makeSigning(t *testing.T, dir string) signingFiles {
	t.Helper()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gen := func(alg keys.Algorithm) crypto.Signer {
		k, err := keys.Generate(alg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rootKey, signer, ec := gen(keys.SM2), gen(keys.SM2), gen(keys.ECDSAP256)
	subject := func(s string) pki.Template {
		n, err := pki.ParseSubject(s)
		if err != nil {
			t.Fatal(err)
		}
		return pki.Template{Subject: n}
	}
	root, err := pki.CreateRoot(rootKey, subject("/C=CN/O=fixture/CN=Fixture Root"))
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := pki.CreateCSR(signer, subject("/C=CN/O=fixture/CN=Fixture Release Signing"))
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.ParseCSR(pki.EncodeCSR(csrDER))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Issue(root, rootKey, csr, pki.Template{Profile: pki.ProfileCodeSigning})
	if err != nil {
		t.Fatal(err)
	}
	signerPEM, _ := keys.MarshalPrivateKeyPEM(signer)
	ecPEM, _ := keys.MarshalPrivateKeyPEM(ec)
	ecPub, _ := keys.MarshalPublicKeyPEM(ec.Public())
	return signingFiles{
		root:        write("root.pem", pki.EncodeCertificates(root)),
		signerKey:   write("signer.key", signerPEM),
		signerChain: write("signer-chain.pem", pki.EncodeCertificates(leaf, root)),
		ecKey:       write("ec.key", ecPEM),
		ecPub:       write("ec.pub", ecPub),
	}
}
