// Package sm4http encrypts HTTP request and response bodies with SM4-GCM,
// for services whose important data must be confidential and intact in
// transit with national algorithms (等保 8.1.4.7/8.1.4.8, 密评's 应用和数据
// 安全), on top of whatever TLS there is.
//
// The content key is either pre-shared, named by a key ID, or chosen by the
// client for each request and wrapped with the server's SM2 public key (SM2
// encryption, GB/T 32918.4, C1C3C2 in the ASN.1 form OpenSSL's `pkeyutl
// -encrypt` writes and reads). A header carries the version, the key ID or
// the wrapped key, a timestamp and a nonce; every chunk of a request
// authenticates it with the method and URI, every chunk of a response the
// request's header and its own, so that nothing moves between endpoints,
// requests or directions. The server refuses a timestamp outside its
// window or a nonce it has seen (a replay). Bodies are split into chunks of 64 KiB,
// each sealed with its index and whether it is the last, so a body is
// streamed, and one cut short, reordered or changed is refused.
//
// The package imports the standard library and gmsm only.
package sm4http

import (
	"bufio"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm4"
)

// Header is the HTTP header that carries a body's parameters:
//
//	Hegui-SM4: v=1; kid=KEYID; ts=UNIXSECONDS; n=NONCE
//	Hegui-SM4: v=1; wk=WRAPPEDKEY; ts=UNIXSECONDS; n=NONCE
//
// NONCE and WRAPPEDKEY are unpadded base64url.
const Header = "Hegui-SM4"

// ChunkSize is how much plaintext each sealed chunk holds.
const ChunkSize = 64 << 10

// KeySize is an SM4 key's size.
const KeySize = sm4.BlockSize

const nonceSize = 12

// params are a body's header parameters.
type params struct {
	kid     string
	wrapped []byte
	ts      int64
	nonce   []byte
}

func (p params) String() string {
	var b strings.Builder
	b.WriteString("v=1; ")
	if p.wrapped != nil {
		b.WriteString("wk=" + base64.RawURLEncoding.EncodeToString(p.wrapped))
	} else {
		b.WriteString("kid=" + p.kid)
	}
	b.WriteString("; ts=" + strconv.FormatInt(p.ts, 10))
	b.WriteString("; n=" + base64.RawURLEncoding.EncodeToString(p.nonce))
	return b.String()
}

// maxHeader bounds the header's length (a wrapped key is about 150 bytes).
const maxHeader = 1024

func parseParams(s string) (params, error) {
	var p params
	if len(s) > maxHeader {
		return p, errors.New("the " + Header + " header is too long")
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return p, fmt.Errorf("the %s header is malformed", Header)
		}
		seen[k] = true
		var err error
		switch k {
		case "v":
			if v != "1" {
				return p, fmt.Errorf("the %s header has version %q; this side speaks 1", Header, v)
			}
		case "kid":
			if !validKeyID(v) {
				return p, errors.New("a bad key ID")
			}
			p.kid = v
		case "wk":
			if p.wrapped, err = base64.RawURLEncoding.DecodeString(v); err != nil || len(p.wrapped) == 0 {
				return p, errors.New("a bad wrapped key")
			}
		case "ts":
			if p.ts, err = strconv.ParseInt(v, 10, 64); err != nil {
				return p, errors.New("a bad timestamp")
			}
		case "n":
			if p.nonce, err = base64.RawURLEncoding.DecodeString(v); err != nil || len(p.nonce) != nonceSize {
				return p, errors.New("a bad nonce")
			}
		default:
			return p, fmt.Errorf("the %s header has an unknown parameter %q", Header, k)
		}
	}
	if !seen["v"] || !seen["ts"] || !seen["n"] || seen["kid"] == seen["wk"] {
		return p, fmt.Errorf("the %s header lacks v, ts, n, or one of kid and wk", Header)
	}
	return p, nil
}

// validKeyID reports whether id can be a key ID: 1 to 128 letters, digits,
// dots, hyphens and underscores.
func validKeyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p params) time() time.Time { return time.Unix(p.ts, 0) }

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sm4http: an SM4 key is %d bytes, not %d", KeySize, len(key))
	}
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// chunkNonce is the base nonce with the chunk's index in its last 8 bytes.
func chunkNonce(base []byte, index uint64) []byte {
	n := make([]byte, nonceSize)
	copy(n, base)
	binary.BigEndian.PutUint64(n[4:], binary.BigEndian.Uint64(base[4:])^index)
	return n
}

// requestBinding is what every chunk of a request body authenticates
// besides itself: that it is a request, its method and URI (a body cannot
// be moved to another endpoint), and its header.
func requestBinding(method, uri, header string) string {
	return "req\x00" + method + " " + uri + "\x00" + header
}

// responseBinding is what every chunk of a response body authenticates:
// that it is a response (it cannot be sent back as a request), the header
// of the request it answers (it cannot answer another) and its own header.
func responseBinding(requestHeader, header string) string {
	return "resp\x00" + requestHeader + "\x00" + header
}

// chunkAAD authenticates the binding, the chunk's index and whether it is
// the last with each chunk.
func chunkAAD(bind string, index uint64, last bool) []byte {
	aad := make([]byte, 0, len(bind)+9)
	aad = append(aad, bind...)
	aad = binary.BigEndian.AppendUint64(aad, index)
	if last {
		return append(aad, 1)
	}
	return append(aad, 0)
}

// sealer writes a body as sealed chunks: a 4-byte length, then the
// ciphertext and tag of up to ChunkSize bytes. Close seals the last chunk
// (perhaps empty).
type sealer struct {
	w      io.Writer
	aead   cipher.AEAD
	bind   string
	nonce  []byte
	index  uint64
	buf    []byte
	out    []byte
	closed bool
}

func newSealer(w io.Writer, aead cipher.AEAD, bind string, nonce []byte) *sealer {
	return &sealer{w: w, aead: aead, bind: bind, nonce: nonce}
}

func (s *sealer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(ChunkSize-len(s.buf), len(p))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		if len(s.buf) == ChunkSize && len(p) > 0 {
			if err := s.seal(false); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (s *sealer) seal(last bool) error {
	s.out = binary.BigEndian.AppendUint32(s.out[:0], uint32(len(s.buf)+s.aead.Overhead()))
	s.out = s.aead.Seal(s.out, chunkNonce(s.nonce, s.index), s.buf, chunkAAD(s.bind, s.index, last))
	s.index++
	s.buf = s.buf[:0]
	_, err := s.w.Write(s.out)
	return err
}

// Close seals what is left as the last chunk.
func (s *sealer) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.seal(true)
}

// ErrTampered is the error for a body that does not open: changed, cut
// short, reordered, or sealed with another key.
var ErrTampered = errors.New("sm4http: the body does not decrypt (changed, cut short, or another key)")

// opener reads a body of sealed chunks and returns the plaintext of each
// once it is authenticated; the end of the body must come right after the
// chunk sealed as the last.
type opener struct {
	r     *bufio.Reader
	aead  cipher.AEAD
	bind  string
	nonce []byte
	index uint64
	plain []byte
	dst   []byte // what plain points into
	done  bool
	err   error
}

func newOpener(r io.Reader, aead cipher.AEAD, bind string, nonce []byte) *opener {
	return &opener{r: bufio.NewReaderSize(r, 4<<10), aead: aead, bind: bind, nonce: nonce}
}

func (o *opener) Read(p []byte) (int, error) {
	for len(o.plain) == 0 {
		if o.err != nil {
			return 0, o.err
		}
		if o.done {
			// Nothing may follow the last chunk.
			if _, err := o.r.ReadByte(); err != io.EOF {
				o.err = ErrTampered
				continue
			}
			o.err = io.EOF
			continue
		}
		o.err = o.next()
	}
	n := copy(p, o.plain)
	o.plain = o.plain[n:]
	return n, nil
}

// next opens the next chunk, as the last if authenticating it as one holds.
func (o *opener) next() error {
	var lenBuf [4]byte
	if _, err := io.ReadFull(o.r, lenBuf[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return ErrTampered // cut short before the last chunk
		}
		return err
	}
	n := binary.BigEndian.Uint32(lenBuf[:])
	if n < uint32(o.aead.Overhead()) || n > ChunkSize+uint32(o.aead.Overhead()) {
		return ErrTampered
	}
	sealed := make([]byte, n)
	if _, err := io.ReadFull(o.r, sealed); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return ErrTampered
		}
		return err
	}
	// Open into a buffer of its own: a failed Open may overwrite its
	// destination, and the chunk is tried twice (not last, then last).
	nonce := chunkNonce(o.nonce, o.index)
	if plain, err := o.aead.Open(o.dst[:0], nonce, sealed, chunkAAD(o.bind, o.index, false)); err == nil {
		o.dst = plain
		o.plain, o.index = plain, o.index+1
		return nil
	}
	plain, err := o.aead.Open(o.dst[:0], nonce, sealed, chunkAAD(o.bind, o.index, true))
	if err != nil {
		return ErrTampered
	}
	o.plain, o.index, o.done = plain, o.index+1, true
	return nil
}
