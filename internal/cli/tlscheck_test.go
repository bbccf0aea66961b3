package cli

import (
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/internal/schematest"
)

// TestTLSCheckOpenSSL runs hegui tlscheck against openssl s_server with a
// chain made by hegui cert: first a weak configuration (TLS 1.0 allowed),
// then a TLS 1.3-only one; and tells the truth about an SM2 chain, which
// neither OpenSSL 3.0's s_server nor Go's TLS can use.
func TestTLSCheckOpenSSL(t *testing.T) {
	openssl := peertest.Require(t, "openssl")
	r := newRunner(t)
	r.ok("key", "generate", "--alg", "ecdsa-p256", "--out", r.path("root.key"), "--no-password")
	r.ok("key", "generate", "--alg", "ecdsa-p256", "--out", r.path("srv.key"), "--no-password")
	r.ok("cert", "ca", "--key", r.path("root.key"), "--subject", "/CN=EC Root", "--out", r.path("root.pem"))
	r.ok("cert", "csr", "--key", r.path("srv.key"), "--subject", "/CN=127.0.0.1", "--out", r.path("srv.csr"))
	r.ok("cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("root.key"), "--csr", r.path("srv.csr"),
		"--profile", "tls-server", "--ip", "127.0.0.1", "--out", r.path("srv.pem"))

	serve := func(args ...string) string {
		t.Helper()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(openssl, append([]string{"s_server", "-accept", addr, "-cert", r.path("srv.pem"), "-key", r.path("srv.key"), "-www"}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for i := 0; i < 100; i++ {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return addr
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("openssl s_server %v does not listen", args)
		return ""
	}

	weak := serve("-min_protocol", "TLSv1", "-cipher", "DEFAULT:@SECLEVEL=0")
	r.fails(1, []string{"does not meet gbt22239-l3: 2 findings"}, "tlscheck", weak, "--ca", r.path("root.pem"), "--sarif", r.path("tls.sarif"))
	res := r.run("tlscheck", weak, "--ca", r.path("root.pem"), "--json")
	var out struct {
		Passed   bool
		Chain    []struct{ KeyAlgorithm string }
		Versions []struct {
			Name     string
			Accepted bool
		}
		Findings      []struct{ Rule, Level, Message string }
		ChainVerified bool
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || out.Passed || !out.ChainVerified || len(out.Chain) != 1 || out.Chain[0].KeyAlgorithm != "ECDSA" {
		t.Fatalf("--json: %v %s", err, res.stdout)
	}
	var errs []string
	for _, f := range out.Findings {
		if f.Level == "error" {
			errs = append(errs, f.Message)
		}
	}
	if strings.Join(errs, "\n") != "TLS 1.1 is accepted; gbt22239-l3 allows TLS 1.2 or later\nTLS 1.0 is accepted; gbt22239-l3 allows TLS 1.2 or later" {
		t.Fatalf("errors:\n%s", strings.Join(errs, "\n"))
	}
	schematest.ValidateSARIF(t, r.read("tls.sarif"))

	strict := serve("-tls1_3")
	out2 := r.ok("tlscheck", strict, "--ca", r.path("root.pem"), "--profile", "gbt22239-l3")
	if !strings.Contains(out2.stdout, "protocols   TLS 1.3 yes, TLS 1.2 no, TLS 1.1 no, TLS 1.0 no") {
		t.Fatalf("TLS 1.3 only:\n%s", out2.stdout)
	}
	// modern also wants an OCSP staple: a warning, not a failure.
	r.ok("tlscheck", strict, "--ca", r.path("root.pem"), "--profile", "modern")

	// An SM2 chain made by hegui cert: OpenSSL 3.0's s_server refuses to
	// serve it ("unknown certificate type"), and Go's TLS cannot verify
	// against it; tlscheck says so instead of failing obscurely.
	r.ok("key", "generate", "--alg", "sm2", "--out", r.path("sm2root.key"), "--no-password")
	r.ok("cert", "ca", "--key", r.path("sm2root.key"), "--subject", "/CN=SM2 Root", "--out", r.path("sm2root.pem"))
	sm2, err := exec.Command(openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", r.path("sm2root.pem"), "-key", r.path("sm2root.key"), "-www").CombinedOutput()
	if err == nil || !strings.Contains(string(sm2), "unknown certificate type") {
		t.Errorf("openssl s_server with an SM2 chain: %v %s (if this OpenSSL serves SM2 now, test tlscheck against it)", err, sm2)
	}
	r.fails(2, []string{"holds an SM2 certificate", "docs/tlscheck.md"}, "tlscheck", strict, "--ca", r.path("sm2root.pem"))
	r.fails(2, []string{"give one of gbt22239-l3, modern"}, "tlscheck", strict, "--profile", "strict")
	r.fails(2, []string{"give HOST:PORT"}, "tlscheck", "example.cn")
}
