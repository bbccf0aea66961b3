package modproxy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Auth says who may read from the proxy. Clients send a token as a bearer
// token ("Authorization: Bearer TOKEN", what a GOAUTH command prints) or as
// the password of HTTP basic authentication (what GOAUTH=netrc sends). The
// proxy keeps only the tokens' SHA-256.
type Auth struct {
	// Anonymous lets requests without credentials read, as "anonymous".
	// A request with wrong credentials is refused either way.
	Anonymous bool
	tokens    []tokenEntry
}

type tokenEntry struct {
	name string
	hash [sha256.Size]byte
}

// TokenPrefix starts every token hegui makes, so that secret scanners can
// find leaked ones.
const TokenPrefix = "hgp_"

var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// NewToken makes a client token: TokenPrefix and 32 random bytes.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenLine is the tokens-file line for a client: its name and the
// token's SHA-256.
func TokenLine(name, token string) (string, error) {
	if !tokenName.MatchString(name) {
		return "", fmt.Errorf("client name %q: use letters, digits, '.', '_', '@' and '-' (at most 64)", name)
	}
	sum := sha256.Sum256([]byte(token))
	return name + " sha256:" + hex.EncodeToString(sum[:]), nil
}

// ParseTokens reads a tokens file: one "NAME sha256:HEX" line per client;
// blank lines and lines starting with # are ignored.
func ParseTokens(data []byte) ([]string, *Auth, error) {
	a := &Auth{}
	var names []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || !strings.HasPrefix(f[1], "sha256:") || !tokenName.MatchString(f[0]) {
			return nil, nil, fmt.Errorf("line %d: want NAME sha256:HEX (made by hegui proxy token add)", n)
		}
		sum, err := hex.DecodeString(strings.TrimPrefix(f[1], "sha256:"))
		if err != nil || len(sum) != sha256.Size {
			return nil, nil, fmt.Errorf("line %d: %q is not a SHA-256", n, f[1])
		}
		if seen[f[0]] {
			return nil, nil, fmt.Errorf("line %d: client %s is named twice", n, f[0])
		}
		seen[f[0]] = true
		e := tokenEntry{name: f[0]}
		copy(e.hash[:], sum)
		a.tokens = append(a.tokens, e)
		names = append(names, f[0])
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	return names, a, nil
}

// errBadCredentials is a request whose token is not one of the proxy's.
var errBadCredentials = errors.New("the token is not one this proxy knows")

// identify returns the name of the client that sent r: "" without
// credentials.
func (a *Auth) identify(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", nil
	}
	var token string
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		token = strings.TrimSpace(t)
	} else if _, pass, ok := r.BasicAuth(); ok {
		token = pass
	} else {
		return "", errors.New("the Authorization header is neither a bearer token nor basic authentication")
	}
	sum := sha256.Sum256([]byte(token))
	name := ""
	for _, e := range a.tokens {
		// Compare every entry in constant time, so timing says nothing.
		if subtle.ConstantTimeCompare(sum[:], e.hash[:]) == 1 {
			name = e.name
		}
	}
	if name == "" {
		return "", errBadCredentials
	}
	return name, nil
}

// authenticate names the client of r, or answers 401 and reports false.
func (a *Auth) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if a == nil {
		return "anonymous", true
	}
	name, err := a.identify(r)
	if err == nil && name == "" && a.Anonymous {
		return "anonymous", true
	}
	if err == nil && name != "" {
		return name, true
	}
	msg := "authentication required: give your proxy token through GOAUTH (see docs/proxy.md)"
	if err != nil {
		msg = "authentication failed: " + err.Error()
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="hegui proxy"`)
	httpError(w, http.StatusUnauthorized, msg)
	return "", false
}
