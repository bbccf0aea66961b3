package release

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"hegui.dev/hegui/internal/human"
)

// A Check asks once whether the service is healthy: nil when it is, an
// error saying what it answered otherwise.
type Check interface {
	Check(ctx context.Context) error
	String() string
}

// attemptTimeout bounds one check, so that a service that accepts a
// connection and never answers is a failed attempt, not a hang.
const attemptTimeout = 2 * time.Second

// HTTPCheck is healthy when GET URL answers 2xx.
type HTTPCheck struct {
	URL    string
	Client *http.Client
}

func (c HTTPCheck) String() string { return "GET " + c.URL }

// Check implements Check.
func (c HTTPCheck) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "hegui-release")
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return errors.Unwrap(err) // the URL is in String
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		if b := strings.TrimSpace(string(body)); b != "" && isText(b) {
			return fmt.Errorf("%s: %s", resp.Status, human.OneLine(b))
		}
		return errors.New(resp.Status)
	}
	return nil
}

func isText(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' && r != '\r' })
}

// GRPCCheck is healthy when the gRPC health-checking protocol
// (grpc.health.v1.Health/Check) at Addr answers SERVING for Service.
type GRPCCheck struct {
	Addr    string
	Service string
	conn    *grpc.ClientConn
}

// NewGRPCCheck makes a check with one connection, kept for its attempts;
// Close releases it.
func NewGRPCCheck(addr, service string) (*GRPCCheck, error) {
	// A service being restarted refuses connections for a moment; the
	// default reconnect backoff (1s, growing) would add its wait to the
	// check's, so it is kept short.
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, MaxDelay: 500 * time.Millisecond},
			MinConnectTimeout: attemptTimeout,
		}))
	if err != nil {
		return nil, fmt.Errorf("health.grpc %s: %v", addr, err)
	}
	return &GRPCCheck{Addr: addr, Service: service, conn: conn}, nil
}

func (c *GRPCCheck) String() string {
	if c.Service == "" {
		return "gRPC health " + c.Addr
	}
	return "gRPC health " + c.Addr + " " + c.Service
}

// Check implements Check.
func (c *GRPCCheck) Check(ctx context.Context) error {
	resp, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: c.Service})
	if err != nil {
		return err
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("status %v", s)
	}
	return nil
}

// Close closes the connection.
func (c *GRPCCheck) Close() error { return c.conn.Close() }

// CommandCheck is healthy when a shell command exits 0.
type CommandCheck struct {
	Command string
	Env     []string
}

func (c CommandCheck) String() string { return "command " + human.OneLine(c.Command) }

// Check implements Check.
func (c CommandCheck) Check(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", c.Command)
	cmd.Env = append(os.Environ(), c.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if last := lastLine(out.String()); last != "" {
		return fmt.Errorf("%v: %s", err, last)
	}
	return err
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return human.OneLine(s)
}

// checks builds the checks the configuration asks for; close releases them.
func (h HealthConfig) checks(env []string) (checks []Check, close func(), err error) {
	close = func() {}
	if h.HTTP != "" {
		if !strings.HasPrefix(h.HTTP, "http://") && !strings.HasPrefix(h.HTTP, "https://") {
			return nil, close, fmt.Errorf("health.http: %q: give an http:// or https:// URL", h.HTTP)
		}
		checks = append(checks, HTTPCheck{URL: h.HTTP, Client: &http.Client{
			// A fresh connection each time: a kept-alive one could reach
			// the process being replaced.
			Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}})
	}
	if h.GRPC != "" {
		g, err := NewGRPCCheck(h.GRPC, h.GRPCService)
		if err != nil {
			return nil, close, err
		}
		checks = append(checks, g)
		close = func() { g.Close() }
	}
	if h.Command != "" {
		checks = append(checks, CommandCheck{Command: h.Command, Env: env})
	}
	return checks, close, nil
}

// HealthResult is how waiting for health went.
type HealthResult struct {
	// Healthy is set when every check kept passing for HealthyFor.
	Healthy bool `json:"healthy"`
	// FirstPass is how long after the wait began every check first passed
	// (zero when they never did).
	FirstPass time.Duration `json:"firstPassNs"`
	// Elapsed is how long the wait took.
	Elapsed  time.Duration `json:"elapsedNs"`
	Attempts int           `json:"attempts"`
	// Err is the last failure: which check, and what it answered; Error
	// is its text.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
	// passedAt is when every check first passed.
	passedAt time.Time
}

// waitHealthy checks every check each interval until all have passed for
// healthyFor without a failure (healthy), or timeout passes (not). A
// failure after a pass starts the healthy-for wait again.
func waitHealthy(ctx context.Context, checks []Check, t healthTiming) (res HealthResult) {
	start := time.Now()
	deadline := start.Add(t.Timeout)
	defer func() {
		if res.Err != nil {
			res.Error = res.Err.Error()
		}
	}()
	var passingSince time.Time
	for {
		res.Attempts++
		err := checkAll(ctx, checks, deadline)
		now := time.Now()
		if err == nil {
			if passingSince.IsZero() {
				passingSince = now
				if res.passedAt.IsZero() {
					res.FirstPass, res.passedAt = now.Sub(start), now
				}
			}
			if now.Sub(passingSince) >= t.HealthyFor {
				res.Healthy, res.Elapsed, res.Err = true, now.Sub(start), nil
				return res
			}
		} else {
			passingSince = time.Time{}
			// An attempt the overall deadline cut short says less than
			// the failure before it (a 503, say): keep that one.
			if !errors.Is(err, errOutOfTime) || res.Err == nil {
				res.Err = err
			}
		}
		if ctx.Err() != nil {
			res.Elapsed, res.Err = now.Sub(start), ctx.Err()
			return res
		}
		wait := t.Interval
		if !passingSince.IsZero() {
			wait = min(wait, t.HealthyFor-now.Sub(passingSince))
		}
		if now.Add(wait).After(deadline) {
			res.Elapsed = now.Sub(start)
			if err == nil {
				res.Err = fmt.Errorf("healthy for only %v of the %v asked before %v passed", now.Sub(passingSince).Round(time.Millisecond), t.HealthyFor, t.Timeout)
			}
			return res
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// errOutOfTime marks an attempt cut short by the overall deadline.
var errOutOfTime = errors.New("out of time")

// checkAll runs every check once; the first failure names its check.
func checkAll(ctx context.Context, checks []Check, deadline time.Time) error {
	for _, c := range checks {
		start := time.Now()
		attemptDeadline := minTime(deadline, start.Add(attemptTimeout))
		actx, cancel := context.WithDeadline(ctx, attemptDeadline)
		err := c.Check(actx)
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded)
		cancel()
		if err != nil {
			if timedOut && ctx.Err() == nil {
				if attemptDeadline.Equal(deadline) && deadline.Before(start.Add(attemptTimeout)) {
					return fmt.Errorf("%s: %w", c, errOutOfTime)
				}
				err = fmt.Errorf("no answer within %v", attemptTimeout)
			}
			return fmt.Errorf("%s: %v", c, human.OneLine(err.Error()))
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
