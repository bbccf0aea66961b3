// Package symmetric encrypts and decrypts streams with SM4 (GB/T 32907-2016).
//
// SM4-CBC with PKCS#7 padding is byte for byte what `openssl enc -sm4-cbc -K
// KEY -iv IV` writes: no header, no salt, the ciphertext alone. CBC gives
// confidentiality only; a party that can change the ciphertext can change
// the plaintext undetected, so pair it with a signature or a MAC. The
// streaming encrypter and decrypter hold one block of state, whatever the
// length of the stream.
package symmetric

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/padding"
	"github.com/emmansun/gmsm/sm4"
)

// KeySize and BlockSize of SM4, in bytes.
const (
	KeySize   = sm4.BlockSize
	BlockSize = sm4.BlockSize
)

// chunkSize is how much the encrypter and decrypter process per call to the
// block mode, amortising its per-call cost.
const chunkSize = 64 << 10

var pkcs7 = padding.NewPKCS7Padding(BlockSize)

// ErrBadPadding means a ciphertext did not end in valid PKCS#7 padding after
// decryption: a wrong key or IV, or a damaged or truncated ciphertext.
var ErrBadPadding = errors.New("bad padding after decryption: wrong key or IV, or a damaged or truncated ciphertext")

func newBlock(key, iv []byte) (cipher.Block, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("SM4 key is %d bytes, want %d", len(key), KeySize)
	}
	if len(iv) != BlockSize {
		return nil, fmt.Errorf("SM4-CBC IV is %d bytes, want %d", len(iv), BlockSize)
	}
	return sm4.NewCipher(key)
}

// cbcEncrypter buffers input to whole blocks and pads the last one on Close.
type cbcEncrypter struct {
	w       io.Writer
	mode    cipher.BlockMode
	pending []byte // fewer than chunkSize bytes not yet encrypted
	out     []byte
	closed  bool
}

// NewSM4CBCEncrypter returns a writer that encrypts what is written to it
// with SM4-CBC and writes the ciphertext to w. Close writes the final, padded
// block; it does not close w.
func NewSM4CBCEncrypter(w io.Writer, key, iv []byte) (io.WriteCloser, error) {
	block, err := newBlock(key, iv)
	if err != nil {
		return nil, err
	}
	return &cbcEncrypter{
		w:       w,
		mode:    cipher.NewCBCEncrypter(block, iv),
		pending: make([]byte, 0, chunkSize),
		out:     make([]byte, chunkSize+BlockSize),
	}, nil
}

func (e *cbcEncrypter) Write(p []byte) (int, error) {
	if e.closed {
		return 0, errors.New("write after close")
	}
	written := 0
	for len(p) > 0 {
		n := copy(e.pending[len(e.pending):cap(e.pending)], p)
		e.pending = e.pending[:len(e.pending)+n]
		p = p[n:]
		written += n
		if len(e.pending) == cap(e.pending) {
			if err := e.flush(e.pending); err != nil {
				return written, err
			}
			e.pending = e.pending[:0]
		}
	}
	return written, nil
}

func (e *cbcEncrypter) flush(plain []byte) error {
	out := e.out[:len(plain)]
	e.mode.CryptBlocks(out, plain)
	_, err := e.w.Write(out)
	return err
}

func (e *cbcEncrypter) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	return e.flush(pkcs7.Pad(e.pending))
}

// cbcDecrypter reads ciphertext and holds back the last block until it knows
// the stream has ended, so it can strip the padding.
type cbcDecrypter struct {
	r     io.Reader
	mode  cipher.BlockMode
	in    []byte // ciphertext read but not yet decrypted
	out   []byte // buffer for decrypted chunks
	plain []byte // decrypted bytes not yet returned, within out or in
	eof   bool
}

// NewSM4CBCDecrypter returns a reader of the plaintext of the SM4-CBC
// ciphertext r. A ciphertext whose length is not a multiple of the block
// size, or whose padding is wrong, ends in an error at the end of the stream.
func NewSM4CBCDecrypter(r io.Reader, key, iv []byte) (io.Reader, error) {
	block, err := newBlock(key, iv)
	if err != nil {
		return nil, err
	}
	return &cbcDecrypter{
		r:    r,
		mode: cipher.NewCBCDecrypter(block, iv),
		in:   make([]byte, 0, chunkSize+BlockSize),
		out:  make([]byte, chunkSize),
	}, nil
}

func (d *cbcDecrypter) Read(p []byte) (int, error) {
	for len(d.plain) == 0 {
		if d.eof {
			return 0, io.EOF
		}
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, d.plain)
	d.plain = d.plain[n:]
	return n, nil
}

// fill reads more ciphertext and decrypts every whole block but the last,
// which may hold padding; at EOF it decrypts and unpads the last block.
func (d *cbcDecrypter) fill() error {
	n, err := io.ReadFull(d.r, d.in[len(d.in):cap(d.in)])
	d.in = d.in[:len(d.in)+n]
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		d.eof = true
		if len(d.in) == 0 || len(d.in)%BlockSize != 0 {
			return fmt.Errorf("ciphertext ends with a partial block (%d bytes in the last block): truncated or not SM4-CBC", len(d.in)%BlockSize)
		}
		d.mode.CryptBlocks(d.in, d.in)
		plain, perr := pkcs7.Unpad(d.in)
		if perr != nil {
			return ErrBadPadding
		}
		d.plain, d.in = plain, d.in[:0]
		return nil
	case err != nil:
		return fmt.Errorf("read ciphertext: %w", err)
	}
	// The buffer is full: decrypt all but its last block, keep that one.
	ready := len(d.in) - BlockSize
	d.plain = d.out[:ready]
	d.mode.CryptBlocks(d.plain, d.in[:ready])
	d.in = append(d.in[:0], d.in[ready:]...)
	return nil
}
