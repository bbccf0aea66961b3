package logserver

import (
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits of the HTTP server that `hegui log serve` runs (HTTPServer and
// LimitListener). docs/audit-log.md explains each.
const (
	// DefaultMaxConnections is how many client connections a server keeps
	// open at once unless told otherwise; more wait in the kernel's listen
	// backlog until one closes.
	DefaultMaxConnections = 1024
	// readHeaderTimeout bounds reading a request's headers, and the TLS
	// handshake before them.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request, body included: the
	// largest NDJSON body must arrive at about 0.5 MiB/s.
	readTimeout = 60 * time.Second
	// answerTimeout is how long a request may take, once read, to be
	// appended and answered, besides waiting for a checkpoint.
	answerTimeout = 60 * time.Second
	// idleTimeout closes a kept-alive connection that sends no new request.
	idleTimeout = 60 * time.Second
	// maxHeaderBytes bounds a request's headers; a bearer token needs far
	// less.
	maxHeaderBytes = 16 << 10
)

// HTTPServer returns an http.Server for Handler with timeouts that keep
// slow and idle clients from holding connections: headers within 10 s,
// the whole request within 60 s, the answer within a further minute plus
// two checkpoint intervals (so that ?wait=checkpoint can be answered), and
// idle connections closed after 60 s. errorLog may be nil.
func (s *Server) HTTPServer(errorLog *log.Logger) *http.Server {
	checkpoints := 2 * time.Duration(s.home.Config.CheckpointInterval)
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		// Go's write deadline runs from the end of the request's headers,
		// so it covers reading the body as well as answering.
		WriteTimeout:   readTimeout + answerTimeout + checkpoints,
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       errorLog,
	}
}

// LimitListener returns a listener that keeps at most n of the
// connections it accepted open at once. Accept waits while n are open, so
// further clients wait in the kernel's listen backlog instead of each
// costing the server a goroutine and its buffers.
func LimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close closes the listener and ends an Accept waiting for a free slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its listener's slot back when it is closed, once.
type limitConn struct {
	net.Conn
	release   func()
	closeOnce sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(c.release)
	return err
}

// CloseWrite shuts down the sending side of a TCP connection, as net/http
// does before closing one whose request it did not read to the end: the
// client reads the answer before the connection is reset.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
