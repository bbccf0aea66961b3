// Package ctxio copies streams in large chunks while honouring cancellation,
// for the hashing and encryption loops that may run over files of many
// gigabytes.
package ctxio

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// BufferSize is the chunk size: large enough that system calls cost nothing
// next to SM3 or SM4, small enough to stay in a core's L2 cache.
const BufferSize = 256 << 10

// buffers recycles chunk buffers, so that signing a 20-byte message does not
// allocate and clear a quarter of a megabyte.
var buffers = sync.Pool{New: func() any { return new([BufferSize]byte) }}

// Copy copies r into w until EOF and returns the number of bytes copied. It
// checks ctx between chunks, so a cancelled context stops a long copy within
// one chunk.
func Copy(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := buffers.Get().(*[BufferSize]byte)
	defer buffers.Put(buf)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := r.Read(buf[:])
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, fmt.Errorf("write: %w", werr)
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read: %w", err)
		}
	}
}
