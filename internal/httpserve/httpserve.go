// Package httpserve runs the HTTP servers hegui runs (the audit log's
// today; the module proxy's next) the same way: one TCP listener that keeps
// at most MaxConnections client connections open, timeouts that keep slow
// and idle clients from holding them, TLS with optional client
// certificates, the server's URL handed over once it listens, and a
// graceful stop when the context ends. Servers bring their handler and
// their own body limits; docs/audit-log.md explains each limit here.
package httpserve

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"
)

// Defaults of Options.
const (
	// DefaultMaxConnections is how many client connections a server keeps
	// open at once unless told otherwise; more wait in the kernel's listen
	// backlog until one closes.
	DefaultMaxConnections = 1024
	// DefaultReadHeaderTimeout bounds reading a request's headers, and the
	// TLS handshake before them.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included.
	DefaultReadTimeout = 60 * time.Second
	// DefaultIdleTimeout closes a kept-alive connection that sends no new
	// request.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxHeaderBytes bounds a request's headers; a bearer token
	// needs far less.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultShutdownTimeout is how long a stopping server waits for the
	// requests in progress.
	DefaultShutdownTimeout = 30 * time.Second
)

// Options say what to serve and how. Zero values take the defaults.
type Options struct {
	// Addr is where to listen ("127.0.0.1:8080", ":0").
	Addr    string
	Handler http.Handler
	// TLSCert and TLSKey are PEM files; both or neither. ClientCAs, with
	// TLS, verifies the client certificates that are presented; the
	// handler decides which requests need one.
	TLSCert, TLSKey string
	ClientCAs       *x509.CertPool
	MaxConnections  int
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout are http.Server's.
	// WriteTimeout runs, as in net/http, from the end of the request's
	// headers: it covers reading the body and answering; zero means
	// ReadTimeout plus a minute.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
	ShutdownTimeout                                           time.Duration
	// ErrorLog receives the server's connection errors; nil means log's
	// standard logger.
	ErrorLog *log.Logger
	// Listening, if set, is called with the server's URL once it listens
	// (with the port chosen for ":0"); an error stops the server.
	Listening func(url string) error
}

func (o *Options) defaults() {
	o.MaxConnections = cmp.Or(o.MaxConnections, DefaultMaxConnections)
	o.ReadHeaderTimeout = cmp.Or(o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	o.ReadTimeout = cmp.Or(o.ReadTimeout, DefaultReadTimeout)
	o.WriteTimeout = cmp.Or(o.WriteTimeout, o.ReadTimeout+time.Minute)
	o.IdleTimeout = cmp.Or(o.IdleTimeout, DefaultIdleTimeout)
	o.MaxHeaderBytes = cmp.Or(o.MaxHeaderBytes, DefaultMaxHeaderBytes)
	o.ShutdownTimeout = cmp.Or(o.ShutdownTimeout, DefaultShutdownTimeout)
}

// Server returns the http.Server Run uses, for tests that serve on a
// listener of their own.
func Server(opts Options) *http.Server {
	opts.defaults()
	return &http.Server{
		Handler:           opts.Handler,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		WriteTimeout:      opts.WriteTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          opts.ErrorLog,
	}
}

// Run serves until ctx ends or the server fails, then stops accepting,
// waits up to ShutdownTimeout for the requests in progress, and returns.
// A server stopped by ctx returns nil.
func Run(ctx context.Context, opts Options) error {
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return errors.New("a TLS certificate and its key go together")
	}
	if opts.ClientCAs != nil && opts.TLSCert == "" {
		return errors.New("client certificates need TLS")
	}
	if opts.MaxConnections < 0 {
		return fmt.Errorf("MaxConnections is %d: want at least 1, or 0 for the default", opts.MaxConnections)
	}
	opts.defaults()
	hs := Server(opts)
	scheme := "http"
	if opts.TLSCert != "" {
		scheme = "https"
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if opts.ClientCAs != nil {
			hs.TLSConfig.ClientCAs = opts.ClientCAs
			hs.TLSConfig.ClientAuth = tls.VerifyClientCertIfGiven
		}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	ln = LimitListener(ln, opts.MaxConnections)
	if opts.Listening != nil {
		if err := opts.Listening(fmt.Sprintf("%s://%s", scheme, ln.Addr())); err != nil {
			ln.Close()
			return err
		}
	}
	errc := make(chan error, 1)
	go func() {
		if opts.TLSCert != "" {
			errc <- hs.ServeTLS(ln, opts.TLSCert, opts.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), opts.ShutdownTimeout)
	defer cancel()
	hs.Shutdown(shutCtx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}
