package mask

import (
	"bytes"
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

// Handler wraps next.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	ct := mw.Header().Get("Content-Type")
	if ct == "" {
		return // not known: passed through, as http.DetectContentType would guess
	}
	mt, _, _ := mime.ParseMediaType(ct)
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

func (mw *maskingWriter) WriteHeader(code int) {
	mw.decide()
	mw.ResponseWriter.WriteHeader(code)
}

func (mw *maskingWriter) Write(p []byte) (int, error) {
	mw.decide()
	if mw.body == nil {
		return mw.ResponseWriter.Write(p)
	}
	mw.written += len(p)
	return mw.body.Write(p)
}

// Flush sends what is masked so far: a body passed through, or the text
// lines complete; a JSON body is sent as the masker writes it.
func (mw *maskingWriter) Flush() {
	if mw.done != nil {
		return // the JSON masker owns the writer
	}
	if mw.lines != nil {
		mw.lines.flushLines()
	}
	if f, ok := mw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// finish ends the body: what is buffered is masked and written.
func (mw *maskingWriter) finish() {
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

// flushLines is for Flush: complete lines are already written.
func (l *lineMasker) flushLines() {}

func (l *lineMasker) Close() error { return l.flush() }
