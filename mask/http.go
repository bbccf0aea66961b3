package mask

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Rule says how responses are masked on a route.
type Rule struct {
	// Off passes responses through unmasked.
	Off bool
	// JSON says how application/json (and +json) bodies are masked.
	JSON JSONOptions
	// Redactor masks text/* bodies; nil means the default scanner and
	// masks.
	Redactor *Redactor
}

// Middleware masks HTTP response bodies as they are written: JSON with
// MaskJSON, text line by line with a Redactor; other content types pass
// through. The rule for a request is Routes' entry for the pattern the
// request was routed by (http.ServeMux sets Request.Pattern, "GET
// /users/{id}"), else for the longest path prefix ("/api/"), else Default.
type Middleware struct {
	Default Rule
	Routes  map[string]Rule
	// ErrorLog, if set, is told when a body could not be masked (a
	// handler that says JSON and writes something else): the rest of that
	// body is dropped, never sent unmasked.
	ErrorLog func(r *http.Request, err error)
}

// Handler wraps next. Where a rule masks, the request goes on without
// Range, If-Range and Accept-Encoding, so that the handler writes whole,
// uncompressed bodies: a range cut through a number would hide it from the
// scanner, and compressed bytes cannot be searched.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.rule(r).Off {
			r = r.Clone(r.Context())
			r.Header.Del("Range")
			r.Header.Del("If-Range")
			r.Header.Del("Accept-Encoding")
		}
		mw := &maskingWriter{ResponseWriter: w, m: m, r: r}
		defer mw.finish()
		next.ServeHTTP(mw, r)
	})
}

// rule picks the rule for r.
func (m *Middleware) rule(r *http.Request) Rule {
	if rule, ok := m.Routes[r.Pattern]; ok && r.Pattern != "" {
		return rule
	}
	best, found := "", false
	for prefix := range m.Routes {
		if strings.HasPrefix(prefix, "/") && strings.HasPrefix(r.URL.Path, prefix) && len(prefix) > len(best) {
			best, found = prefix, true
		}
	}
	if found {
		return m.Routes[best]
	}
	return m.Default
}

// maskingWriter masks what a handler writes; it decides how at the first
// WriteHeader or Write, from the Content-Type.
type maskingWriter struct {
	http.ResponseWriter
	m       *Middleware
	r       *http.Request
	decided bool
	body    io.WriteCloser // where the handler's bytes go, if masked
	done    chan error     // the JSON masker's end
	lines   *lineMasker
	written int
	status  int    // the status the handler set
	started bool   // the header is sent
	sniff   []byte // the body's first bytes, held to tell its type
}

func (mw *maskingWriter) decide() {
	if mw.decided {
		return
	}
	mw.decided = true
	rule := mw.m.rule(mw.r)
	if rule.Off {
		return
	}
	mt, _, _ := mime.ParseMediaType(mw.Header().Get("Content-Type"))
	maskable := mt == "application/json" || strings.HasSuffix(mt, "+json") || strings.HasPrefix(mt, "text/")
	if enc := mw.Header().Get("Content-Encoding"); maskable && enc != "" && enc != "identity" {
		// Compressed anyway: it cannot be searched, so it is not sent.
		mw.Header().Del("Content-Length")
		mw.body = failClosed{fmt.Errorf("mask: a %s body with Content-Encoding %s cannot be masked; it was not sent", mt, enc)}
		return
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		mw.Header().Del("Content-Length")
		pr, pw := io.Pipe()
		mw.body, mw.done = pw, make(chan error, 1)
		out := mw.ResponseWriter
		go func() {
			err := MaskJSON(out, pr, rule.JSON)
			pr.CloseWithError(err)
			mw.done <- err
		}()
	case strings.HasPrefix(mt, "text/"):
		mw.Header().Del("Content-Length")
		r := rule.Redactor
		if r == nil {
			r = &Redactor{}
		}
		mw.lines = &lineMasker{w: mw.ResponseWriter, r: r}
		mw.body = mw.lines
	}
}

// failClosed takes a body that cannot be masked and sends none of it.
type failClosed struct{ err error }

func (f failClosed) Write(p []byte) (int, error) { return len(p), nil }
func (f failClosed) Close() error                { return f.err }

// sniffSize is how much of a body without a Content-Type is held to tell
// its type, as net/http would (http.DetectContentType reads 512 bytes).
const sniffSize = 512

// typed makes sure the response has a Content-Type before deciding: one
// the handler did not set is sniffed from the first bytes, as net/http
// would send it, so a text body written with fmt.Fprintf is masked too.
// It reports whether the header can be written now.
func (mw *maskingWriter) typed(final bool) bool {
	if mw.decided || mw.Header().Get("Content-Type") != "" {
		return true
	}
	if len(mw.sniff) < sniffSize && !final {
		return false
	}
	mw.Header().Set("Content-Type", http.DetectContentType(mw.sniff))
	return true
}

func (mw *maskingWriter) WriteHeader(code int) {
	if mw.status != 0 {
		return
	}
	mw.status = code
	if mw.typed(!bodyAllowedStatus(code)) {
		mw.start()
	}
}

// start decides how the body is masked and sends the header and what was
// held for sniffing.
func (mw *maskingWriter) start() {
	if mw.started {
		return
	}
	mw.started = true
	mw.decide()
	if mw.status == 0 {
		mw.status = http.StatusOK
	}
	mw.ResponseWriter.WriteHeader(mw.status)
	if len(mw.sniff) > 0 {
		held := mw.sniff
		mw.sniff = nil
		mw.write(held)
	}
}

func (mw *maskingWriter) Write(p []byte) (int, error) {
	if mw.status == 0 {
		mw.status = http.StatusOK
	}
	if !mw.started {
		if mw.typed(false) {
			mw.start()
		} else {
			mw.sniff = append(mw.sniff, p...)
			if mw.typed(false) {
				mw.start()
			}
			return len(p), nil
		}
	}
	return mw.write(p)
}

func (mw *maskingWriter) write(p []byte) (int, error) {
	if mw.body == nil {
		return mw.ResponseWriter.Write(p)
	}
	mw.written += len(p)
	return mw.body.Write(p)
}

func bodyAllowedStatus(code int) bool {
	return !(code >= 100 && code < 200 || code == http.StatusNoContent || code == http.StatusNotModified)
}

// Flush sends what is masked so far: a body passed through, or the text
// lines complete (each is written as it ends); a JSON body is sent as the
// masker writes it.
func (mw *maskingWriter) Flush() {
	if !mw.started {
		mw.typed(true)
		mw.start()
	}
	if mw.done != nil {
		return // the JSON masker owns the writer
	}
	if f, ok := mw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// finish ends the body: what is buffered is masked and written.
func (mw *maskingWriter) finish() {
	if !mw.started {
		if mw.status == 0 && len(mw.sniff) == 0 {
			return // the handler wrote nothing: net/http sends its 200
		}
		mw.typed(true)
		mw.start()
	}
	if mw.body == nil {
		return
	}
	err := mw.body.Close()
	if mw.done != nil {
		err = <-mw.done
		if mw.written == 0 {
			err = nil // no body at all (a 204, a HEAD)
		}
	}
	if err != nil && mw.m.ErrorLog != nil {
		mw.m.ErrorLog(mw.r, err)
	}
}

// lineMasker masks text a line at a time (a value never spans lines); a
// line longer than maxLine is masked in pieces.
type lineMasker struct {
	w   io.Writer
	r   *Redactor
	buf []byte
}

const maxLine = 1 << 20

func (l *lineMasker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.buf = append(l.buf, p...)
			if len(l.buf) >= maxLine {
				if err := l.flush(); err != nil {
					return 0, err
				}
			}
			break
		}
		l.buf = append(l.buf, p[:i+1]...)
		p = p[i+1:]
		if err := l.flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (l *lineMasker) flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	out, _, err := l.r.Redact(string(l.buf))
	l.buf = l.buf[:0]
	if err != nil {
		return err
	}
	_, err = io.WriteString(l.w, out)
	return err
}

func (l *lineMasker) Close() error { return l.flush() }
