package opevidence

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/testcert"
	"hegui.dev/hegui/internal/tlscheck"
)

// check probes addr as `hegui tlscheck --json --profile profile` does and
// returns the document it prints.
func check(t *testing.T, addr string, ca *testcert.Issuer, profile tlscheck.Profile) []byte {
	t.Helper()
	res, err := tlscheck.Probe(context.Background(), tlscheck.Options{Addr: addr, Roots: ca.Pool(), Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(tlscheck.NewReport(res, profile, tlscheck.Judge(res, profile)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func rules(e format.OperatorEvidence) string {
	var s []string
	for _, f := range e.Findings {
		s = append(s, f.Level+":"+f.Rule)
	}
	return strings.Join(s, " ")
}

// TestJudgedAgain: evidence is judged by gbt22239-l3 from what the check
// saw, whatever profile the check used and whatever verdict the file
// carries.
func TestJudgedAgain(t *testing.T) {
	ca := testcert.NewCA(t, "Evidence Root")
	cert := ca.Leaf(t, "127.0.0.1")
	good := testcert.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	weak := testcert.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12})

	// A good server checked with "modern" fails that profile (TLS 1.2
	// is accepted), and meets gbt22239-l3.
	data := check(t, good, ca, tlscheck.Profiles["modern"])
	if r, _ := tlscheck.ParseReport(data); r.Passed {
		t.Fatal("the good server passes modern: the test does not show a re-judgement")
	}
	e, err := Parse("tls-good.json", data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if !e.Meets || e.Kind != format.EvidenceTLS || e.File != "tls-good.json" || e.SHA256 != hex.EncodeToString(sum[:]) || len(e.SM3) != 64 ||
		e.Profile != TLSProfile || e.Subject != good+" (server name 127.0.0.1)" || e.Checked.IsZero() {
		t.Errorf("good server: %+v", e)
	}
	// Go's default server accepts ECDHE-CBC suites in TLS 1.2, and
	// testcert's certificates last an hour: warnings, not failures.
	if got := rules(e); got != "warning:not-aead warning:expiring" {
		t.Errorf("good server findings %q", got)
	}
	for _, want := range []string{"accepts TLS 1.3, TLS 1.2, refuses TLS 1.1, TLS 1.0", "ECDSA 256", "chain verifies for 127.0.0.1", "client certificate not requested"} {
		if !strings.Contains(e.Summary.EN, want) {
			t.Errorf("summary %q lacks %q", e.Summary.EN, want)
		}
	}
	if !strings.Contains(e.Summary.ZH, "接受 TLS 1.3、TLS 1.2，拒绝 TLS 1.1、TLS 1.0") || !strings.Contains(e.Summary.ZH, "客户端证书 不要求") {
		t.Errorf("summary (zh) %q", e.Summary.ZH)
	}

	// A weak server checked with a profile of the operator's that allows
	// TLS 1.0 passes it, and fails gbt22239-l3.
	lax, err := tlscheck.LoadProfile(writeFile(t, "lax.yaml", "name: lax\nmin-version: \"1.0\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	data = check(t, weak, ca, lax)
	if r, _ := tlscheck.ParseReport(data); !r.Passed {
		t.Fatalf("the weak server fails the lax profile: %+v", r.Findings)
	}
	e, err = Parse("tls-weak.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if e.Meets || !strings.Contains(rules(e), "error:old-version") || strings.Contains(rules(e), "note:") {
		t.Errorf("weak server: meets %v, findings %q", e.Meets, rules(e))
	}

	// Its verdict edited to "passed", its findings removed: the same.
	var doc map[string]any
	json.Unmarshal(data, &doc)
	doc["passed"], doc["findings"], doc["profile"] = true, []any{}, "gbt22239-l3"
	edited, _ := json.Marshal(doc)
	if e, err := Parse("edited.json", edited); err != nil || e.Meets {
		t.Errorf("an edited verdict: meets %v, err %v", e.Meets, err)
	}

	// An endpoint that answers nothing: evidence that fails, saying so.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	e, err = Parse("tls-closed.json", check(t, closed, ca, tlscheck.Profiles[TLSProfile]))
	if err != nil || e.Meets || rules(e) != "error:unreachable" || !strings.HasPrefix(e.Summary.EN, "no TLS handshake worked") {
		t.Errorf("closed port: %+v, %v", e, err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sampleDoc is a valid document, made by hand (what a probe of a TLS
// 1.2-only server would print).
const sampleDoc = `{"schema":"hegui.dev/tlscheck/v1","target":"10.0.0.5:443","serverName":"api.example.cn","time":"2026-12-01T08:00:00Z",
"versions":[{"name":"TLS 1.3","accepted":false},{"name":"TLS 1.2","accepted":true,"suites":["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]},{"name":"TLS 1.1","accepted":false},{"name":"TLS 1.0","accepted":false}],
"negotiatedVersion":"TLS 1.2","negotiatedSuite":"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256","negotiatedGroup":"X25519",
"chain":[{"subject":"CN=api.example.cn","issuer":"CN=Root","serial":"1","notBefore":"2026-01-01T00:00:00Z","notAfter":"2027-06-01T00:00:00Z","daysLeft":182,"keyAlgorithm":"ECDSA","keyBits":256,"curve":"P-256","signatureAlgorithm":"ECDSA-SHA256","isCA":false,"sha256":"00"}],
"chainVerified":true,"ocspStapled":false,"clientCertificate":"not requested","reachable":true,"unprobed":[],"profile":"gbt22239-l3","findings":[],"passed":true}`

func TestSampleDocument(t *testing.T) {
	e, err := Parse("sample.json", []byte(sampleDoc))
	if err != nil {
		t.Fatal(err)
	}
	if !e.Meets || rules(e) != "" || e.Subject != "10.0.0.5:443 (server name api.example.cn)" ||
		e.Summary.EN != "accepts TLS 1.2, refuses TLS 1.3, TLS 1.1, TLS 1.0; negotiates TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 X25519; certificate ECDSA 256, ECDSA-SHA256, until 2027-06-01, chain verifies for api.example.cn; client certificate not requested" {
		t.Errorf("%+v", e)
	}
	// Days left are what the expiry and the check's time give, whatever
	// the document says.
	e, err = Parse("sample.json", []byte(strings.Replace(sampleDoc, `"daysLeft":182`, `"daysLeft":-5`, 1)))
	if err != nil || !e.Meets || rules(e) != "" {
		t.Errorf("daysLeft -5 with six months left: %v, %q", err, rules(e))
	}
	soon := strings.Replace(strings.Replace(sampleDoc, `"daysLeft":182`, `"daysLeft":9999`, 1), `"notAfter":"2027-06-01T00:00:00Z"`, `"notAfter":"2026-12-10T00:00:00Z"`, 1)
	if e, err = Parse("sample.json", []byte(soon)); err != nil || rules(e) != "warning:expiring" || !strings.Contains(e.Findings[0].Message, "expires in 8 days") {
		t.Errorf("daysLeft 9999 with 8 days left: %v, %+v", err, e.Findings)
	}
}

// TestRefused: what is not a tlscheck document, or not one this hegui can
// judge again, is refused with a reason; nothing panics.
func TestRefused(t *testing.T) {
	sub := func(old, new string) string {
		if !strings.Contains(sampleDoc, old) {
			t.Fatalf("the sample has no %q", old)
		}
		return strings.Replace(sampleDoc, old, new, 1)
	}
	versions := sampleDoc[strings.Index(sampleDoc, `"versions"`):strings.Index(sampleDoc, `"negotiatedVersion"`)]
	for name, tc := range map[string]struct{ data, want string }{
		"empty":                     {"", "not a JSON object"},
		"garbage":                   {"\x00\xff garbage", "not a JSON object"},
		"an array":                  {"[1,2]", "not a JSON object"},
		"a string":                  {`"tls"`, "not a JSON object"},
		"UTF-16":                    {"\xff\xfe{\x00", "the file is UTF-16"},
		"no schema":                 {`{"target":"a:1"}`, `no "schema"`},
		"a report.json":             {`{"schema":"hegui.dev/report/v2"}`, `schema "hegui.dev/report/v2": this hegui reads "hegui.dev/tlscheck/v1"`},
		"only a schema":             {`{"schema":"hegui.dev/tlscheck/v1"}`, "no result"},
		"unknown field":             {sub(`"passed":true`, `"passed":true,"extra":1`), `unknown object member name "extra"`},
		"a name in capitals":        {sub(`"reachable":true`, `"Reachable":true`), `unknown object member name "Reachable"`},
		"a name twice":              {sub(`"reachable":true`, `"reachable":false,"reachable":true`), `duplicate object member name "reachable"`},
		"trailing data":             {sampleDoc + " {}", "after top-level value"},
		"no target":                 {sub(`"target":"10.0.0.5:443"`, `"target":""`), "a target (HOST:PORT), a server name and a time are required"},
		"no port":                   {sub(`"target":"10.0.0.5:443"`, `"target":"10.0.0.5"`), "a target (HOST:PORT)"},
		"no server name":            {sub(`"serverName":"api.example.cn"`, `"serverName":""`), "a server name"},
		"no time":                   {sub(`"time":"2026-12-01T08:00:00Z"`, `"time":"0001-01-01T00:00:00Z"`), "and a time are required"},
		"a string as time":          {sub(`"time":"2026-12-01T08:00:00Z"`, `"time":"yesterday"`), "hegui tlscheck document"},
		"SSL 3.0":                   {sub(`"name":"TLS 1.1"`, `"name":"SSL 3.0"`), `protocol version "SSL 3.0"`},
		"a version twice":           {sub(`"name":"TLS 1.1"`, `"name":"TLS 1.2"`), "TLS 1.2 probed twice"},
		"no versions":               {strings.Replace(sampleDoc, versions, `"versions":[],`, 1), "0 protocol versions: a check probes 4"},
		"only TLS 1.3":              {strings.Replace(sampleDoc, versions, `"versions":[{"name":"TLS 1.3","accepted":true,"suites":["TLS_AES_128_GCM_SHA256"]}],`, 1), "1 protocol versions"},
		"refused with suites":       {sub(`{"name":"TLS 1.1","accepted":false}`, `{"name":"TLS 1.1","accepted":false,"suites":["TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"]}`), "TLS 1.1 is refused but lists suites"},
		"a 1.3 suite in 1.2":        {sub(`"suites":["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]`, `"suites":["TLS_AES_128_GCM_SHA256"]`), `TLS 1.2 lists "TLS_AES_128_GCM_SHA256"`},
		"an unknown suite":          {sub(`"suites":["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]`, `"suites":["TLS_ECC_SM4_CBC_SM3"]`), `"TLS_ECC_SM4_CBC_SM3", which is not a TLS 1.2 cipher suite`},
		"client cert mode":          {sub(`"clientCertificate":"not requested"`, `"clientCertificate":"maybe"`), `clientCertificate "maybe"`},
		"verified, no chain":        {sub(sampleDoc[strings.Index(sampleDoc, `"chain"`):strings.Index(sampleDoc, `"chainVerified"`)], ""), "the chain is said to verify, but there is none"},
		"unreachable, accepting":    {sub(`"reachable":true`, `"reachable":false,"error":"refused"`), "unreachable, but with accepted versions"},
		"reachable, accepting none": {sub(`"accepted":true,"suites":["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]`, `"accepted":false`), "reachable, but no protocol version is accepted"},
		"an SM2 key":                {sub(`"keyAlgorithm":"ECDSA"`, `"keyAlgorithm":"SM2"`), `key "SM2" of 256 bits`},
		"no expiry":                 {sub(`"notAfter":"2027-06-01T00:00:00Z"`, `"notAfter":"0001-01-01T00:00:00Z"`), "certificate 0: validity"},
	} {
		if _, err := Parse("x.json", []byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

// TestRead: files that cannot be evidence are refused before being read
// (a directory, a FIFO) or by size.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, "tls.json", sampleDoc)
	if e, err := Read(context.Background(), good); err != nil || e.File != "tls.json" {
		t.Fatalf("%+v %v", e, err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, []byte(`{"schema":"`+strings.Repeat("x", Limit)+`"}`), 0o644)
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.json"): "no such file",
		dir:                                "directory",
		fifo:                               "named pipe",
		big:                                "larger than",
		writeFile(t, "junk.json", "junk"):  "junk.json: not a hegui tlscheck --json document",
	} {
		done := make(chan error, 1)
		go func() { _, err := Read(context.Background(), path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: err = %v, want %q", filepath.Base(path), err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Read hangs", filepath.Base(path))
		}
	}
}

// FuzzParse: no input makes Parse panic, and what it accepts it judges
// with findings of the two levels it keeps.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleDoc))
	f.Add([]byte(`{"schema":"hegui.dev/tlscheck/v1","target":"a:1","time":"2026-01-01T00:00:00Z","reachable":false,"error":"refused","versions":[]}`))
	f.Add([]byte(`{"schema":"hegui.dev/tlscheck/v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse("fuzz.json", data)
		if err != nil {
			return
		}
		for _, x := range e.Findings {
			if x.Level != tlscheck.Error && x.Level != tlscheck.Warning {
				t.Fatalf("finding of level %q kept", x.Level)
			}
		}
		if e.Meets && strings.Contains(rules(e), "error:") {
			t.Fatal("meets with an error")
		}
	})
}
