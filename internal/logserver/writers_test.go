package logserver_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"hegui.dev/hegui/internal/logserver"
)

func tokenLine(name, token, actions string) string {
	sum := sha256.Sum256([]byte(token))
	return "token " + name + " sha256:" + hex.EncodeToString(sum[:]) + " " + actions
}

func TestParseWriters(t *testing.T) {
	data := "# writers\n\n" +
		tokenLine("ci", "hgl_ci-token", "delivery.*,key.*") + "\n" +
		"  " + tokenLine("ops", "hgl_ops-token", "*") + "  \n" +
		"cert payments payments.svc.example.cn user.*\n"
	w, err := logserver.ParseWriters([]byte(data))
	if err != nil {
		t.Fatalf("ParseWriters: %v", err)
	}
	want := []logserver.WriterInfo{
		{Name: "ci", Kind: "token", Actions: []string{"delivery.*", "key.*"}},
		{Name: "ops", Kind: "token", Actions: []string{"*"}},
		{Name: "payments", Kind: "cert", CN: "payments.svc.example.cn", Actions: []string{"user.*"}},
	}
	if got := w.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %+v, want %+v", got, want)
	}

	auth := []struct {
		name           string
		byCert         bool   // credential is a certificate CN, not a token
		credential     string // the token or the CN
		writer         string // "" when authentication must fail
		allowed, taboo []string
	}{
		{name: "ci token", credential: "hgl_ci-token", writer: "ci", allowed: []string{"delivery.publish", "key.rotate", "key.rotate.emergency"}, taboo: []string{"user.login", "delivery", "deliveryx.publish", "keys.rotate", "x.key.rotate"}},
		{name: "ops token", credential: "hgl_ops-token", writer: "ops", allowed: []string{"user.login", "x", "delivery.publish", "a.b.c"}},
		{name: "unknown token", credential: "hgl_other"},
		{name: "empty token", credential: ""},
		{name: "token hash given as token", credential: strings.Fields(tokenLine("ci", "hgl_ci-token", "*"))[2]},
		{name: "certificate", byCert: true, credential: "payments.svc.example.cn", writer: "payments", allowed: []string{"user.login"}, taboo: []string{"delivery.publish"}},
		{name: "unknown certificate", byCert: true, credential: "other.example.cn"},
		{name: "empty common name", byCert: true, credential: ""},
		{name: "token name as CN", byCert: true, credential: "ci"},
		{name: "CN as token", credential: "payments.svc.example.cn"},
	}
	for _, tt := range auth {
		t.Run(tt.name, func(t *testing.T) {
			authenticate := w.AuthenticateToken
			if tt.byCert {
				authenticate = w.AuthenticateCert
			}
			wr, err := authenticate(tt.credential)
			if tt.writer == "" {
				if !errors.Is(err, logserver.ErrUnauthenticated) {
					t.Fatalf("authenticated as %v, err %v", wr, err)
				}
				return
			}
			if err != nil || wr.Name != tt.writer {
				t.Fatalf("authenticated as %v, %v; want %s", wr, err, tt.writer)
			}
			for _, a := range tt.allowed {
				if err := wr.Authorize(a); err != nil {
					t.Errorf("Authorize(%q): %v", a, err)
				}
			}
			for _, a := range tt.taboo {
				if err := wr.Authorize(a); !errors.Is(err, logserver.ErrForbidden) {
					t.Errorf("Authorize(%q) = %v, want ErrForbidden", a, err)
				}
			}
		})
	}
}

func TestParseWritersRejects(t *testing.T) {
	good := tokenLine("ci", "t", "*")
	tests := []struct {
		name string
		data string
		want string
	}{
		{"too few fields", "token ci sha256:00\n", "line 1: want KIND NAME CREDENTIAL ACTIONS"},
		{"too many fields", good + " extra\n", "line 1: want"},
		{"bad name", "# c\n" + strings.Replace(good, " ci ", " -ci ", 1), "line 2: name"},
		{"name too long", strings.Replace(good, " ci ", " "+strings.Repeat("a", 65)+" ", 1), "name"},
		{"duplicate name", good + "\n" + good + "\n", `line 2: "ci" appears twice`},
		{"token and cert of one name", good + "\ncert ci cn.example *\n", "appears twice"},
		{"hash without prefix", "token ci " + strings.Repeat("ab", 32) + " *\n", "sha256:<64 hex digits>"},
		{"short hash", "token ci sha256:" + strings.Repeat("ab", 31) + " *\n", "sha256:<64 hex digits>"},
		{"hash not hex", "token ci sha256:" + strings.Repeat("zz", 32) + " *\n", "sha256:<64 hex digits>"},
		{"other kind", "password ci secret *\n", `kind "password"`},
		{"bad action pattern", strings.Replace(good, " *", " [a", 1), `action pattern "[a"`},
		{"empty action pattern", strings.Replace(good, " *", " delivery.*,", 1), `action pattern ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := logserver.ParseWriters([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseWriters = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestAddAndRemoveWriters(t *testing.T) {
	h := newHome(t)
	token, err := logserver.AddToken(h.Dir, "ci", []string{"delivery.*", "key.*"})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^hgl_[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Fatalf("token %q is not hgl_ and 256 bits of base64url", token)
	}
	if err := logserver.AddCert(h.Dir, "payments", "payments.svc.example.cn", []string{"user.*"}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(h.Dir, logserver.WritersFile)
	w, err := logserver.LoadWriters(file)
	if err != nil {
		t.Fatal(err)
	}
	wr, err := w.AuthenticateToken(token)
	if err != nil || wr.Name != "ci" || wr.Authorize("key.rotate") != nil || wr.Authorize("user.login") == nil {
		t.Fatalf("the new token: %v, %v", wr, err)
	}
	if _, err := w.AuthenticateCert("payments.svc.example.cn"); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []struct {
		name    string
		actions []string
	}{{"ci", nil}, {"-x", nil}, {"x", []string{"a,b"}}, {"x", []string{"a b"}}, {"x", []string{"["}}, {"x", []string{""}}} {
		if _, err := logserver.AddToken(h.Dir, bad.name, bad.actions); err == nil {
			t.Errorf("AddToken(%q, %q) succeeded", bad.name, bad.actions)
		}
	}
	if err := logserver.AddCert(h.Dir, "y", "a b", nil); err == nil {
		t.Error("AddCert accepted a CN with a space")
	}
	if _, err := logserver.AddToken(t.TempDir(), "z", nil); err == nil {
		t.Error("AddToken outside a log home succeeded")
	}

	if err := logserver.RemoveWriter(h.Dir, "ci"); err != nil {
		t.Fatal(err)
	}
	if err := logserver.RemoveWriter(h.Dir, "ci"); err == nil {
		t.Error("removing a removed writer succeeded")
	}
	w, err = logserver.LoadWriters(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AuthenticateToken(token); !errors.Is(err, logserver.ErrUnauthenticated) {
		t.Fatalf("revoked token still authenticates: %v", err)
	}
	if names := w.List(); len(names) != 1 || names[0].Name != "payments" {
		t.Fatalf("writers after revoking ci: %v", names)
	}
}

var writerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// FuzzParseWriters: no panics; what is accepted has unique, well-formed
// names, known kinds and valid action patterns, and no empty credential
// authenticates.
func FuzzParseWriters(f *testing.F) {
	f.Add([]byte("# writers\n" + tokenLine("ci", "t", "delivery.*,key.*") + "\ncert p cn.example *\n"))
	f.Add([]byte(tokenLine("a", "", "[") + "\n"))
	f.Add([]byte("cert a  b c\r\n\n\n#x\ntoken b sha256:" + strings.Repeat("0", 64) + " \\\n"))
	f.Add([]byte("token a sha256: *\n"))
	f.Add([]byte(strings.Repeat("x", 70000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := logserver.ParseWriters(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, n := range w.List() {
			name, kind, actions := n.Name, n.Kind, n.Actions
			if !writerName.MatchString(name) || seen[name] {
				t.Fatalf("accepted writer name %q", name)
			}
			seen[name] = true
			if kind != "token" && kind != "cert" {
				t.Fatalf("accepted kind %q", kind)
			}
			for _, a := range actions {
				if _, err := path.Match(a, "x"); a == "" || err != nil {
					t.Fatalf("accepted action pattern %q", a)
				}
			}
		}
		if _, err := w.AuthenticateToken(""); err == nil {
			t.Fatal("an empty token authenticates")
		}
		if _, err := w.AuthenticateCert(""); err == nil {
			t.Fatal("an empty CN authenticates")
		}
	})
}

// TestWritersHeaderNamesRealCommands: the comment a new writers file
// starts with names only the commands that manage writers (`hegui log
// writer add|list|revoke` in internal/cli/log.go).
func TestWritersHeaderNamesRealCommands(t *testing.T) {
	h := newHome(t)
	data, err := os.ReadFile(filepath.Join(h.Dir, logserver.WritersFile))
	if err != nil {
		t.Fatal(err)
	}
	commands := regexp.MustCompile("hegui [a-z]+ [a-z]+ [a-z]+").FindAllString(string(data), -1)
	if len(commands) == 0 {
		t.Fatalf("the writers file names no command:\n%s", data)
	}
	for _, c := range commands {
		switch c {
		case "hegui log writer add", "hegui log writer list", "hegui log writer revoke":
		default:
			t.Errorf("the writers file names %q, which is not a hegui command", c)
		}
	}
}

// TestWritersFileNotRegular: a named pipe in the writers file's place is
// refused at once, never waited on, by the commands and by the server's
// reload (which runs while it authenticates requests).
func TestWritersFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, logserver.WritersFile), 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	done := make(chan error, 3)
	go func() { _, err := logserver.LoadWriters(filepath.Join(dir, logserver.WritersFile)); done <- err }()
	go func() { done <- logserver.RemoveWriter(dir, "ci") }()
	go func() { _, err := logserver.AddToken(dir, "ci", nil); done <- err }()
	for range 3 {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "named pipe") {
				t.Errorf("writers file is a FIFO: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("reading a writers file that is a FIFO hangs")
		}
	}
}
