package release

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// funcCheck is a Check made of a function.
type funcCheck func(ctx context.Context) error

func (f funcCheck) Check(ctx context.Context) error { return f(ctx) }
func (funcCheck) String() string                    { return "test check" }

func TestWaitHealthy(t *testing.T) {
	timing := healthTiming{Timeout: 400 * time.Millisecond, Interval: 10 * time.Millisecond, HealthyFor: 50 * time.Millisecond}

	// An answer that never comes, after a 503: the 503 is what is reported,
	// not the attempt the deadline cut short.
	var n atomic.Int32
	res := waitHealthy(context.Background(), []Check{funcCheck(func(ctx context.Context) error {
		if n.Add(1) == 1 {
			return errors.New("503 Service Unavailable")
		}
		<-ctx.Done()
		return ctx.Err()
	})}, timing)
	if res.Healthy || res.Err == nil || !strings.Contains(res.Err.Error(), "503") {
		t.Fatalf("%+v", res)
	}

	// Passing, then failing once, then passing: healthy-for starts again.
	n.Store(0)
	res = waitHealthy(context.Background(), []Check{funcCheck(func(context.Context) error {
		if n.Add(1) == 3 {
			return errors.New("flap")
		}
		return nil
	})}, timing)
	if !res.Healthy || res.Attempts < 4 {
		t.Fatalf("%+v", res)
	}

	// Always passing but the time is too short for healthy-for.
	res = waitHealthy(context.Background(), []Check{funcCheck(func(context.Context) error { return nil })},
		healthTiming{Timeout: 30 * time.Millisecond, Interval: 10 * time.Millisecond, HealthyFor: 25 * time.Millisecond})
	if res.FirstPass == 0 {
		t.Fatalf("%+v", res)
	}
}
