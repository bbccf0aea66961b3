// Command svc is the service the release tests install, switch and roll
// back: an HTTP server and a gRPC health server whose version and health
// are set at build time (-ldflags -X main.version=v2 -X main.healthy=false).
// On SIGHUP it re-executes the binary its path names (ROOT/current/bin/svc:
// the new release after a switch), handing its listening sockets to the new
// image, so that it keeps answering across a switch.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

var (
	version = "dev"
	healthy = "true"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "svc:", err)
		os.Exit(1)
	}
}

// listen opens addr, or takes over the socket a previous image left in the
// descriptor named by env.
func listen(env, addr string) (net.Listener, error) {
	if fd := os.Getenv(env); fd != "" {
		n, err := strconv.Atoi(fd)
		if err != nil {
			return nil, err
		}
		return net.FileListener(os.NewFile(uintptr(n), env))
	}
	return net.Listen("tcp", addr)
}

// inherit duplicates l's socket into a descriptor the next image keeps.
// The caller keeps the returned file until the exec: when it is collected,
// its finalizer closes the descriptor.
func inherit(l net.Listener, env string) (string, *os.File, error) {
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		return "", nil, err
	}
	fd := int(f.Fd())
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0); e != 0 {
		return "", nil, e
	}
	return env + "=" + strconv.Itoa(fd), f, nil
}

func run() error {
	ok := healthy == "true"
	if pf := os.Getenv("SVC_PIDFILE"); pf != "" {
		tmp := pf + ".tmp"
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, pf); err != nil {
			return err
		}
	}
	var servers []func(context.Context)
	var inherits []func() (string, *os.File, error)

	if addr := os.Getenv("SVC_HTTP"); addr != "" {
		l, err := listen("SVC_HTTP_FD", addr)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
			if !ok {
				http.Error(w, "unhealthy "+version, http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ok", version)
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, version) })
		// Not http.Server.Shutdown before the exec: a request read after
		// Shutdown began is answered by closing its connection (net/http's
		// conn.serve), and its client sees EOF. Closing the listener stops
		// new accepts (the socket lives on in the inherited descriptor, and
		// the next image accepts what queues there); the connections
		// already accepted are served to their end.
		var conns sync.WaitGroup
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				conns.Done()
			}
		}}
		served := make(chan struct{})
		go func() { srv.Serve(l); close(served) }()
		servers = append(servers, func(ctx context.Context) {
			l.Close()
			// Serve has returned once its last Accept failed: every
			// connection it accepted has been counted (StateNew runs before
			// the next Accept). Waiting before that could miss one accepted
			// in the meantime, which the exec would then reset.
			<-served
			done := make(chan struct{})
			go func() { conns.Wait(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
			}
		})
		inherits = append(inherits, func() (string, *os.File, error) { return inherit(l, "SVC_HTTP_FD") })
	}
	if addr := os.Getenv("SVC_GRPC"); addr != "" {
		l, err := listen("SVC_GRPC_FD", addr)
		if err != nil {
			return err
		}
		srv := grpc.NewServer()
		hs := health.NewServer()
		status := healthpb.HealthCheckResponse_SERVING
		if !ok {
			status = healthpb.HealthCheckResponse_NOT_SERVING
		}
		hs.SetServingStatus("", status)
		hs.SetServingStatus("svc", status)
		healthpb.RegisterHealthServer(srv, hs)
		go srv.Serve(l)
		servers = append(servers, func(context.Context) { srv.GracefulStop() })
		inherits = append(inherits, func() (string, *os.File, error) { return inherit(l, "SVC_GRPC_FD") })
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	for sig := range sigs {
		if sig != syscall.SIGHUP {
			return nil
		}
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SVC_HTTP_FD=") && !strings.HasPrefix(kv, "SVC_GRPC_FD=") {
				env = append(env, kv)
			}
		}
		var files []*os.File
		for _, in := range inherits {
			kv, f, err := in()
			if err != nil {
				return err
			}
			env, files = append(env, kv), append(files, f)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for _, stop := range servers {
			stop(ctx)
		}
		cancel()
		// The new image: whatever the path we were started by names now.
		err := syscall.Exec(os.Args[0], os.Args, env)
		runtime.KeepAlive(files)
		return err
	}
	return nil
}
