package logserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/inputfile"
)

// Writers is the access list of a log: who may append, and which actions
// each writer may log. It is a text file, one writer per line:
//
//	token NAME sha256:HEX ACTIONS    a bearer token, kept as its SHA-256
//	cert  NAME CN ACTIONS            a TLS client certificate subject CN
//
// ACTIONS is a comma-separated list of patterns matched against the event's
// action with path.Match ("delivery.*", "key.*", "*"). Tokens are 256-bit
// random values, so a plain SHA-256 is enough to make a stolen writers file
// useless for appending.
type Writers struct {
	entries []writer
}

type writer struct {
	kind    string // "token" or "cert"
	name    string
	secret  []byte // token hash, or the CN
	actions []string
}

// TokenPrefix starts every token hegui issues, so a leaked one is easy to
// recognise in logs and by secret scanners.
const TokenPrefix = "hgl_"

const writersHeader = `# Writers of this hegui audit log: who may append, and which actions.
#   token NAME sha256:HEX ACTIONS   (add with: hegui log writer add DIR NAME --actions ACTIONS)
#   cert  NAME CN ACTIONS           (add with: hegui log writer add DIR NAME --cert CN; serve with --client-ca)
# ACTIONS: comma-separated patterns such as delivery.*,key.* or *.
# List with: hegui log writer list DIR; revoke with: hegui log writer revoke DIR NAME.
`

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// LoadWriters reads the writers file of a log home.
func LoadWriters(file string) (*Writers, error) {
	data, err := readWritersFile(file)
	if err != nil {
		return nil, err
	}
	return ParseWriters(data)
}

// maxWritersFile bounds a writers file: tens of thousands of writers.
const maxWritersFile = 4 << 20

// readWritersFile reads a writers file, which must be a regular file of
// at most 4 MiB: a named pipe or a device in its place is refused, never
// waited on (the server reads the file while it authenticates requests).
func readWritersFile(file string) ([]byte, error) {
	return inputfile.Read(context.Background(), file, maxWritersFile)
}

// ParseWriters parses a writers file, naming the line of the first error.
func ParseWriters(data []byte) (*Writers, error) {
	w := &Writers{}
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("writers line %d: want KIND NAME CREDENTIAL ACTIONS", n)
		}
		e := writer{kind: f[0], name: f[1]}
		if !namePattern.MatchString(e.name) {
			return nil, fmt.Errorf("writers line %d: name %q must be letters, digits, '.', '_' or '-'", n, e.name)
		}
		if names[e.name] {
			return nil, fmt.Errorf("writers line %d: %q appears twice", n, e.name)
		}
		names[e.name] = true
		switch e.kind {
		case "token":
			h, ok := strings.CutPrefix(f[2], "sha256:")
			raw, err := hex.DecodeString(h)
			if !ok || err != nil || len(raw) != sha256.Size {
				return nil, fmt.Errorf("writers line %d: token hash must be sha256:<64 hex digits>", n)
			}
			e.secret = raw
		case "cert":
			e.secret = []byte(f[2])
		default:
			return nil, fmt.Errorf("writers line %d: kind %q is not token or cert", n, e.kind)
		}
		for _, a := range strings.Split(f[3], ",") {
			if _, err := path.Match(a, "x"); err != nil || a == "" {
				return nil, fmt.Errorf("writers line %d: action pattern %q is not valid", n, a)
			}
			e.actions = append(e.actions, a)
		}
		w.entries = append(w.entries, e)
	}
	return w, sc.Err()
}

// Errors of Authenticate and Authorize; the server maps them to 401 and 403.
var (
	ErrUnauthenticated = errors.New("no valid credentials")
	ErrForbidden       = errors.New("not allowed")
)

// Writer is an authenticated writer.
type Writer struct {
	Name    string
	actions []string
}

// AuthenticateToken finds the writer holding token.
func (w *Writers) AuthenticateToken(token string) (*Writer, error) {
	if token == "" {
		return nil, ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(token))
	var found *writer
	for i := range w.entries {
		e := &w.entries[i]
		// Compare against every entry so the time taken does not depend on
		// which one matches.
		if e.kind == "token" && subtle.ConstantTimeCompare(e.secret, sum[:]) == 1 {
			found = e
		}
	}
	if found == nil {
		return nil, ErrUnauthenticated
	}
	return &Writer{Name: found.name, actions: found.actions}, nil
}

// AuthenticateCert finds the writer registered for a verified client
// certificate's subject common name.
func (w *Writers) AuthenticateCert(cn string) (*Writer, error) {
	for _, e := range w.entries {
		if e.kind == "cert" && string(e.secret) == cn && cn != "" {
			return &Writer{Name: e.name, actions: e.actions}, nil
		}
	}
	return nil, ErrUnauthenticated
}

// Authorize reports whether the writer may log action.
func (wr *Writer) Authorize(action string) error {
	for _, p := range wr.actions {
		if ok, _ := path.Match(p, action); ok {
			return nil
		}
	}
	return fmt.Errorf("%w: writer %q may not log action %q", ErrForbidden, wr.Name, action)
}

// AddToken issues a new token for name, records its hash in the writers file
// of the log home dir and returns the token, which is not stored anywhere.
func AddToken(dir, name string, actions []string) (string, error) {
	return addWriter(dir, name, actions, func() (string, string, error) {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return "", "", err
		}
		token := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
		sum := sha256.Sum256([]byte(token))
		return token, "token " + name + " sha256:" + hex.EncodeToString(sum[:]), nil
	})
}

// AddCert allows the TLS client certificate with subject CN cn to append.
func AddCert(dir, name, cn string, actions []string) error {
	if cn == "" || strings.ContainsAny(cn, " \t\n") {
		return fmt.Errorf("common name %q must be non-empty with no spaces", cn)
	}
	_, err := addWriter(dir, name, actions, func() (string, string, error) {
		return "", "cert " + name + " " + cn, nil
	})
	return err
}

// RemoveWriter revokes a writer by name.
func RemoveWriter(dir, name string) error {
	file := filepath.Join(dir, WritersFile)
	data, err := readWritersFile(file)
	if err != nil {
		return err
	}
	var out []string
	found := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && !strings.HasPrefix(f[0], "#") && f[1] == name {
			found = true
			continue
		}
		out = append(out, line)
	}
	if !found {
		return fmt.Errorf("no writer named %q", name)
	}
	return atomicfile.WriteFile(file, []byte(strings.Join(out, "")), 0o600)
}

// List lists the writers in the order of the file.
func (w *Writers) List() []WriterInfo {
	out := []WriterInfo{}
	for _, e := range w.entries {
		i := WriterInfo{Name: e.name, Kind: e.kind, Actions: slices.Clone(e.actions)}
		if e.kind == "cert" {
			i.CN = string(e.secret)
		}
		out = append(out, i)
	}
	return out
}

// WriterInfo describes a writer; a token's hash is never shown.
type WriterInfo struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`                    // "token" or "cert"
	CN      string   `json:"certificateCN,omitempty"` // the subject CN a "cert" writer presents
	Actions []string `json:"actions"`                 // the action patterns it may log
}

func addWriter(dir, name string, actions []string, line func() (string, string, error)) (string, error) {
	if !namePattern.MatchString(name) {
		return "", fmt.Errorf("writer name %q must be letters, digits, '.', '_' or '-'", name)
	}
	if len(actions) == 0 {
		actions = []string{"*"}
	}
	for _, a := range actions {
		if _, err := path.Match(a, "x"); err != nil || a == "" || strings.ContainsAny(a, " ,") {
			return "", fmt.Errorf("action pattern %q is not valid", a)
		}
	}
	file := filepath.Join(dir, WritersFile)
	data, err := readWritersFile(file)
	if err != nil {
		return "", fmt.Errorf("%w (is %s a log home?)", err, dir)
	}
	existing, err := ParseWriters(data)
	if err != nil {
		return "", err
	}
	for _, e := range existing.entries {
		if e.name == name {
			return "", fmt.Errorf("writer %q exists: revoke it first", name)
		}
	}
	secret, l, err := line()
	if err != nil {
		return "", err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, l+" "+strings.Join(actions, ",")+"\n"...)
	return secret, atomicfile.WriteFile(file, data, 0o600)
}
