//go:build cgo

package pkcs11key

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/miekg/pkcs11"
)

// A PKCS#11 module is the process's, not a caller's: C_Initialize works once
// per process (again it fails with CKR_CRYPTOKI_ALREADY_INITIALIZED), and
// C_Finalize ends every session the process has on every token of the
// module. Login state is the process's too: all of an application's sessions
// with a token share one login, C_Login on a second session fails with
// CKR_USER_ALREADY_LOGGED_IN, and C_Logout logs out every session.
//
// So a Key or a Wrapper does not own its module. It opens a session through
// modules, which loads and initialises each module once and finalises it
// when the last session on it closes, and which keeps count of the sessions
// on each token. This is global state because what it tracks is global.
//
// One mutex covers opening and closing sessions, the login included, so an
// Open waits for another Open or a Close; signing, wrapping and unwrapping do
// not take it.
var modules = struct {
	sync.Mutex
	byPath map[string]*module
}{byPath: make(map[string]*module)}

// module is a loaded and initialised PKCS#11 module.
type module struct {
	path string // with symbolic links resolved: one library, one entry
	ctx  *pkcs11.Ctx
	// finalize is whether C_Initialize was ours. A module another part of
	// the process initialised is not finalised here.
	finalize bool
	sessions int             // open sessions, on every token
	tokens   map[uint]*login // tokens with open sessions, by slot
}

// login is the process's login to one token.
type login struct {
	sessions int
	// pin is the SHA-256 of the PIN that logged in, if one of these
	// sessions logged in (pinKnown): a later session, for which the token
	// does not check the PIN, must give the same one.
	pin      [sha256.Size]byte
	pinKnown bool
}

// session is a logged-in session on a token, for one Key or Wrapper.
type session struct {
	ctx    *pkcs11.Ctx
	handle pkcs11.SessionHandle
	slot   uint
	mod    *module
}

// openSession loads and initialises the module unless the process has it
// already, finds the token the URI names, opens a session on it (flags adds
// to CKF_SERIAL_SESSION) and logs in as the user.
func openSession(u *URI, cfg Config, flags uint) (_ *session, err error) {
	path, err := u.module(cfg)
	if err != nil {
		return nil, err
	}
	pin, err := u.pin(cfg)
	if err != nil {
		return nil, err
	}
	modules.Lock()
	defer modules.Unlock()
	m, err := loadModule(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			m.release()
		}
	}()
	slot, err := findSlot(m.ctx, u)
	if err != nil {
		return nil, err
	}
	h, err := m.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|flags)
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	if err := m.login(slot, h, pin); err != nil {
		m.ctx.CloseSession(h)
		return nil, err
	}
	return &session{ctx: m.ctx, handle: h, slot: slot, mod: m}, nil
}

// module returns the module path from the URI, else from cfg.
func (u *URI) module(cfg Config) (string, error) {
	path := u.ModulePath
	if path == "" {
		path = cfg.ModulePath
	}
	if path == "" {
		return "", errors.New("no PKCS#11 module: add module-path=/path/to/module.so to the URI or set HEGUI_PKCS11_MODULE")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("PKCS#11 module: %w", err)
	}
	return path, nil
}

// loadModule returns the process's module at path, loading and initialising
// it if need be, and counts one more session on it. modules must be locked.
func loadModule(path string) (*module, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		resolved = path
	}
	if m := modules.byPath[resolved]; m != nil {
		m.sessions++
		return m, nil
	}
	// The same library by another name (a hard link, a copy the loader
	// maps once): one module, or the second would skip the PIN check and
	// the first finalise it under the second.
	if fi, err := os.Stat(resolved); err == nil {
		for _, m := range modules.byPath {
			if other, err := os.Stat(m.path); err == nil && os.SameFile(fi, other) {
				m.sessions++
				return m, nil
			}
		}
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("cannot load PKCS#11 module %s", path)
	}
	m := &module{path: resolved, ctx: ctx, finalize: true, sessions: 1, tokens: make(map[uint]*login)}
	if err := ctx.Initialize(); err != nil {
		if !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			ctx.Destroy()
			return nil, fmt.Errorf("initialise PKCS#11 module %s: %w", path, err)
		}
		m.finalize = false
	}
	modules.byPath[resolved] = m
	return m, nil
}

// login logs the session in to the token in slot, unless the process is
// logged in to it already, and counts the session on the token. modules must
// be locked.
func (m *module) login(slot uint, h pkcs11.SessionHandle, pin string) error {
	t := m.tokens[slot]
	if t == nil {
		t = new(login)
	}
	sum := sha256.Sum256([]byte(pin))
	err := m.ctx.Login(h, pkcs11.CKU_USER, pin)
	switch {
	case err == nil:
		t.pin, t.pinKnown = sum, true
	case isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN):
		if !t.pinKnown {
			// Logged in by something else in this process: the token does
			// not check this PIN, and hegui cannot.
			return errors.New("log in to token: the token is logged in already by other code in this process, so the PIN cannot be checked; open hegui's keys before other PKCS#11 users of this module")
		}
		if subtle.ConstantTimeCompare(t.pin[:], sum[:]) != 1 {
			return errors.New("log in to token: wrong PIN (this process is logged in to the token already, with another PIN)")
		}
	case isCode(err, pkcs11.CKR_PIN_INCORRECT):
		return errors.New("log in to token: wrong PIN")
	default:
		return fmt.Errorf("log in to token: %w", err)
	}
	t.sessions++
	m.tokens[slot] = t
	return nil
}

// close closes the session, and finalises and unloads the module if it was
// the process's last session on it.
//
// It does not call C_Logout, which would log out the process's other
// sessions on the token, a Key's and a Wrapper's alike. The process stays
// logged in while it has a session on the token: closing the last one
// returns the token to public sessions (C_CloseSession in the PKCS#11 base
// specification; module_test.go checks SoftHSM2 does), as does C_Finalize.
func (s *session) close() error {
	modules.Lock()
	defer modules.Unlock()
	m := s.mod
	err := m.ctx.CloseSession(s.handle)
	if err != nil {
		err = fmt.Errorf("close PKCS#11 session: %w", err)
	}
	if t := m.tokens[s.slot]; t != nil {
		if t.sessions--; t.sessions == 0 {
			delete(m.tokens, s.slot)
		}
	}
	return errors.Join(err, m.release())
}

// release counts one session fewer on the module, and finalises and unloads
// it after the last. modules must be locked.
func (m *module) release() error {
	if m.sessions--; m.sessions > 0 {
		return nil
	}
	delete(modules.byPath, m.path)
	var err error
	if m.finalize {
		if err = m.ctx.Finalize(); err != nil {
			err = fmt.Errorf("finalise PKCS#11 module %s: %w", m.path, err)
		}
	}
	m.ctx.Destroy()
	return err
}
