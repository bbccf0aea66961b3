package pki

import (
	"crypto"
	"crypto/rand"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/keys"
)

const distid = "distid:1234567812345678"

func intp(n int) *int { return &n }

type testCA struct {
	cert *smx509.Certificate
	key  crypto.Signer
}

func newKey(t *testing.T, alg keys.Algorithm) crypto.Signer {
	t.Helper()
	k, err := keys.Generate(alg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSubject(t *testing.T, s string) Template {
	t.Helper()
	name, err := ParseSubject(s)
	if err != nil {
		t.Fatal(err)
	}
	return Template{Subject: name}
}

func newRoot(t *testing.T, alg keys.Algorithm, pathLen *int) testCA {
	t.Helper()
	key := newKey(t, alg)
	tmpl := mustSubject(t, "/C=CN/O=hegui test/CN=Test Root "+string(alg))
	tmpl.PathLen = pathLen
	cert, err := CreateRoot(key, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert, key}
}

// issue makes a key and a certificate of profile p under ca through a CSR,
// the way `hegui cert csr` and `hegui cert issue` do.
func issue(t *testing.T, ca testCA, alg keys.Algorithm, p Profile, subject string, pathLen *int) testCA {
	t.Helper()
	key := newKey(t, alg)
	req := mustSubject(t, subject)
	if p == ProfileTLSServer {
		req.DNSNames = []string{"example.cn"}
	}
	csrDER, err := CreateCSR(key, req)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ParseCSR(EncodeCSR(csrDER))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := Issue(ca.cert, ca.key, csr, Template{Profile: p, PathLen: pathLen, Validity: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert, key}
}

func writePEM(t *testing.T, dir, name string, certs ...*smx509.Certificate) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, EncodeCertificates(certs...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChainInterop builds root → intermediate → code-signing leaf chains and
// checks them here and in `openssl verify -x509_strict`.
func TestChainInterop(t *testing.T) {
	for _, alg := range keys.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			dir := t.TempDir()
			root := newRoot(t, alg, intp(1))
			inter := issue(t, root, alg, ProfileIntermediateCA, "/C=CN/O=hegui test/CN=Test Intermediate", intp(0))
			leaf := issue(t, inter, alg, ProfileCodeSigning, "/C=CN/O=hegui test/CN=Release Signing", nil)

			chain, err := Verify(leaf.cert, VerifyOptions{Roots: []*smx509.Certificate{root.cert}, Intermediates: []*smx509.Certificate{inter.cert}, Purpose: PurposeCodeSigning})
			if err != nil {
				t.Fatal(err)
			}
			if len(chain) != 3 || !chain[2].Equal(root.cert) {
				t.Errorf("chain of %d certificates", len(chain))
			}

			rootFile, interFile, leafFile := writePEM(t, dir, "root.pem", root.cert), writePEM(t, dir, "int.pem", inter.cert), writePEM(t, dir, "leaf.pem", leaf.cert)
			var runs [][]string
			if alg == keys.SM2 {
				// OpenSSL 3.0 applies -vfyopt distid only to the certificate
				// being verified and checks the others with an empty ID, so
				// it fails on its own three-level SM2 chains; check each link
				// with its issuer as the anchor instead.
				runs = [][]string{
					{"verify", "-x509_strict", "-vfyopt", distid, "-CAfile", rootFile, interFile},
					{"verify", "-x509_strict", "-vfyopt", distid, "-partial_chain", "-CAfile", interFile, leafFile},
				}
			} else {
				runs = [][]string{{"verify", "-x509_strict", "-CAfile", rootFile, "-untrusted", interFile, leafFile}}
			}
			for _, args := range runs {
				if out := peertest.OpenSSL(t, dir, args...); !strings.Contains(out, ": OK") {
					t.Errorf("openssl %v: %s", args, out)
				}
			}
		})
	}
}

// TestOpenSSLMadeSM2 accepts an SM2 CA and a CSR made by OpenSSL, issues
// from each to the other side, and has both sides verify the results.
func TestOpenSSLMadeSM2(t *testing.T) {
	dir := t.TempDir()
	ossl := func(args ...string) string { return peertest.OpenSSL(t, dir, args...) }
	ossl("genpkey", "-algorithm", "SM2", "-out", "ca.key")
	ossl("req", "-x509", "-new", "-key", "ca.key", "-sm3", "-sigopt", distid, "-subj", "/CN=openssl-sm2-ca", "-days", "30",
		"-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.pem")
	data, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	certs, err := ParseCertificates(data)
	if err != nil {
		t.Fatal(err)
	}
	osslCA := certs[0]
	if err := osslCA.CheckSignatureFrom(osslCA); err != nil {
		t.Fatalf("OpenSSL root self-signature: %v", err)
	}

	// OpenSSL's CA issues a code-signing certificate for a hegui CSR.
	key := newKey(t, keys.SM2)
	csrDER, err := CreateCSR(key, mustSubject(t, "/CN=hegui-leaf"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "hegui.csr"), EncodeCSR(csrDER), 0o644)
	ossl("req", "-in", "hegui.csr", "-noout", "-verify", "-vfyopt", distid)
	os.WriteFile(filepath.Join(dir, "leaf.cnf"), []byte("[v3_leaf]\nbasicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n"), 0o644)
	ossl("x509", "-req", "-in", "hegui.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-sm3", "-sigopt", distid, "-vfyopt", distid,
		"-CAcreateserial", "-days", "10", "-extfile", "leaf.cnf", "-extensions", "v3_leaf", "-out", "leaf.pem")
	data, _ = os.ReadFile(filepath.Join(dir, "leaf.pem"))
	leafCerts, err := ParseCertificates(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(leafCerts[0], VerifyOptions{Roots: certs, Purpose: PurposeCodeSigning}); err != nil {
		t.Errorf("OpenSSL-issued leaf: %v", err)
	}

	// hegui issues from an OpenSSL CSR under its own root; OpenSSL verifies.
	ossl("genpkey", "-algorithm", "SM2", "-out", "req.key")
	ossl("req", "-new", "-key", "req.key", "-sm3", "-sigopt", distid, "-subj", "/CN=openssl-req", "-out", "req.csr")
	data, _ = os.ReadFile(filepath.Join(dir, "req.csr"))
	csr, err := ParseCSR(data)
	if err != nil {
		t.Fatal(err)
	}
	root := newRoot(t, keys.SM2, nil)
	leaf, err := Issue(root.cert, root.key, csr, Template{Profile: ProfileCodeSigning})
	if err != nil {
		t.Fatal(err)
	}
	out := ossl("verify", "-x509_strict", "-vfyopt", distid, "-CAfile", writePEM(t, dir, "root.pem", root.cert), writePEM(t, dir, "ossl-leaf.pem", leaf))
	if !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify: %s", out)
	}

	// A CSR signed with OpenSSL's default empty ID is refused with a hint.
	ossl("req", "-new", "-key", "req.key", "-sm3", "-subj", "/CN=no-id", "-out", "noid.csr")
	data, _ = os.ReadFile(filepath.Join(dir, "noid.csr"))
	csr, err = ParseCSR(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Issue(root.cert, root.key, csr, Template{Profile: ProfileCodeSigning}); err == nil || !strings.Contains(err.Error(), "distid") {
		t.Errorf("empty-ID CSR: err = %v, want a hint about distid", err)
	}
}

func TestVerifyFailures(t *testing.T) {
	root := newRoot(t, keys.SM2, nil)
	leaf := issue(t, root, keys.SM2, ProfileCodeSigning, "/CN=leaf", nil)
	server := issue(t, root, keys.SM2, ProfileTLSServer, "/CN=server", nil)
	other := newRoot(t, keys.SM2, nil)
	roots := []*smx509.Certificate{root.cert}

	// A CA at path length 0 that issued an intermediate anyway, bypassing
	// Issue's own check, and a CA without keyCertSign.
	zero := newRoot(t, keys.SM2, intp(0))
	rogueInter := rawIssue(t, zero, &smx509.Certificate{Subject: mustSubject(t, "/CN=rogue").Subject, IsCA: true, BasicConstraintsValid: true, KeyUsage: smx509.KeyUsageCertSign, MaxPathLen: -1})
	rogueLeaf := rawIssue(t, rogueInter, &smx509.Certificate{Subject: mustSubject(t, "/CN=rogue leaf").Subject, KeyUsage: smx509.KeyUsageDigitalSignature, ExtKeyUsage: []smx509.ExtKeyUsage{smx509.ExtKeyUsageCodeSigning}})
	noCertSign := rawIssue(t, root, &smx509.Certificate{Subject: mustSubject(t, "/CN=no certsign").Subject, IsCA: true, BasicConstraintsValid: true, KeyUsage: smx509.KeyUsageDigitalSignature, MaxPathLen: -1})
	underNoCertSign := rawIssue(t, noCertSign, &smx509.Certificate{Subject: mustSubject(t, "/CN=under").Subject, KeyUsage: smx509.KeyUsageDigitalSignature, ExtKeyUsage: []smx509.ExtKeyUsage{smx509.ExtKeyUsageCodeSigning}})
	noEKU := rawIssue(t, root, &smx509.Certificate{Subject: mustSubject(t, "/CN=no eku").Subject, KeyUsage: smx509.KeyUsageDigitalSignature})
	encipherOnly := rawIssue(t, root, &smx509.Certificate{Subject: mustSubject(t, "/CN=keyenc").Subject, KeyUsage: smx509.KeyUsageKeyEncipherment, ExtKeyUsage: []smx509.ExtKeyUsage{smx509.ExtKeyUsageCodeSigning}})

	cases := []struct {
		name string
		leaf *smx509.Certificate
		opts VerifyOptions
		want string
	}{
		{"expired", leaf.cert, VerifyOptions{Roots: roots, Time: time.Now().AddDate(1, 0, 0)}, "expired or is not yet valid"},
		{"not yet valid", leaf.cert, VerifyOptions{Roots: roots, Time: time.Now().AddDate(-1, 0, 0)}, "expired or is not yet valid"},
		{"untrusted", leaf.cert, VerifyOptions{Roots: []*smx509.Certificate{other.cert}}, "does not chain to a trusted root"},
		{"wrong purpose", server.cert, VerifyOptions{Roots: roots, Purpose: PurposeCodeSigning}, "key usage"},
		{"no roots", leaf.cert, VerifyOptions{}, "no trust roots"},
		{"path length", rogueLeaf.cert, VerifyOptions{Roots: []*smx509.Certificate{zero.cert}, Intermediates: []*smx509.Certificate{rogueInter.cert}}, "path length"},
		{"CA without keyCertSign", underNoCertSign.cert, VerifyOptions{Roots: roots, Intermediates: []*smx509.Certificate{noCertSign.cert}}, "cannot sign"},
		{"no EKU for code signing", noEKU.cert, VerifyOptions{Roots: roots, Purpose: PurposeCodeSigning}, "extended key usage"},
		{"no digitalSignature", encipherOnly.cert, VerifyOptions{Roots: roots, Purpose: PurposeCodeSigning}, "digitalSignature"},
		{"wrong DNS name", server.cert, VerifyOptions{Roots: roots, Purpose: PurposeTLSServer, DNSName: "evil.example"}, "evil.example"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Verify(c.leaf, c.opts)
			if err == nil {
				t.Fatal("verified")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to mention %q", err, c.want)
			}
		})
	}
	if _, err := Verify(server.cert, VerifyOptions{Roots: roots, Purpose: PurposeTLSServer, DNSName: "example.cn"}); err != nil {
		t.Errorf("server certificate: %v", err)
	}
}

// rawIssue signs tmpl under ca with the library directly, without Issue's
// checks, to make certificates Issue would refuse.
func rawIssue(t *testing.T, ca testCA, tmpl *smx509.Certificate) testCA {
	t.Helper()
	key := newKey(t, keys.SM2)
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Minute), time.Now().Add(24*time.Hour)
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert, key}
}

func TestIssueRefusals(t *testing.T) {
	root := newRoot(t, keys.SM2, intp(0))
	leaf := issue(t, root, keys.SM2, ProfileCodeSigning, "/CN=leaf", nil)
	key := newKey(t, keys.SM2)
	csrDER, _ := CreateCSR(key, mustSubject(t, "/CN=x"))
	csr, _ := smx509.ParseCertificateRequest(csrDER)

	cases := []struct {
		name string
		ca   testCA
		tmpl Template
		want string
	}{
		{"leaf as CA", leaf, Template{Profile: ProfileCodeSigning}, "not a CA"},
		{"path length 0", root, Template{Profile: ProfileIntermediateCA}, "path length 0"},
		{"outlives CA", root, Template{Profile: ProfileCodeSigning, Validity: 20 * 365 * 24 * time.Hour}, "not within the CA's"},
		{"wrong CA key", testCA{root.cert, key}, Template{Profile: ProfileCodeSigning}, "does not belong"},
		{"server without name", root, Template{Profile: ProfileTLSServer}, "DNS name or IP"},
		{"path length on leaf", root, Template{Profile: ProfileCodeSigning, PathLen: intp(1)}, "only to CA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Issue(c.ca.cert, c.ca.key, csr, c.tmpl)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestDescribeNamesGMOIDs(t *testing.T) {
	root := newRoot(t, keys.SM2, intp(2))
	d := DescribeCertificate(root.cert)
	if d.SignatureAlgorithm != "SM2-with-SM3 (1.2.156.10197.1.501)" {
		t.Errorf("signature algorithm %q", d.SignatureAlgorithm)
	}
	if d.PublicKey.Parameters != "sm2p256v1 (SM2 curve) (1.2.156.10197.1.301)" || d.PublicKey.Algorithm != "sm2" {
		t.Errorf("public key %+v", d.PublicKey)
	}
	if d.CA == nil || !*d.CA || d.PathLen == nil || *d.PathLen != 2 || !d.SelfSigned {
		t.Errorf("CA %v, path length %v, self-signed %v", d.CA, d.PathLen, d.SelfSigned)
	}
	if d.Subject != "/C=CN/O=hegui test/CN=Test Root sm2" {
		t.Errorf("subject %q", d.Subject)
	}
	leaf := issue(t, root, keys.SM2, ProfileCodeSigning, "/CN=leaf", nil)
	if d := DescribeCertificate(leaf.cert); len(d.ExtKeyUsage) != 1 || d.ExtKeyUsage[0] != "codeSigning (1.3.6.1.5.5.7.3.3)" {
		t.Errorf("extKeyUsage %v", d.ExtKeyUsage)
	}
}

func TestParseSubject(t *testing.T) {
	name, err := ParseSubject(`/C=CN/ST=Beijing/O=Example\/Lab/CN=Root`)
	if err != nil {
		t.Fatal(err)
	}
	if name.Organization[0] != "Example/Lab" || name.CommonName != "Root" || name.Province[0] != "Beijing" {
		t.Errorf("parsed %+v", name)
	}
	for _, bad := range []string{"CN=x", "/", "/CN", "/XX=1", "/CN=a/CN=b"} {
		if _, err := ParseSubject(bad); err == nil {
			t.Errorf("ParseSubject(%q) accepted", bad)
		}
	}
}

func TestParseCertificatesErrors(t *testing.T) {
	root := newRoot(t, keys.ECDSAP256, nil)
	good := EncodeCertificates(root.cert)
	cases := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)/2],
		"garbage":   []byte("not a certificate"),
		"key block": []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		"trailing":  append(append([]byte{}, good...), good[:40]...),
	}
	for name, data := range cases {
		if _, err := ParseCertificates(data); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
