package translog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// queued is an event in the buffer with its canonical encoding, the line
// written to the spool.
type queued struct {
	event Event
	line  []byte
}

// outbox is the state shared by a Handler and the handlers derived from
// it: the queue to the sender, the counters, and where problems go.
type outbox struct {
	log  Appender
	opts HandlerOptions
	now  func() time.Time

	queue chan queued
	// mu orders Close after the Handle calls that saw the handler open, so
	// the queue is closed only when nothing can send on it.
	mu        sync.RWMutex
	closed    bool
	handling  sync.WaitGroup
	closeOnce sync.Once
	stopSend  context.CancelFunc // stops the sender when Close gives up
	done      chan struct{}      // closed when the sender has stopped
	closeErr  error              // set by the sender before done is closed

	sent, spooled, dropped, rejected atomic.Uint64
}

func (d *outbox) report(err error) {
	if d.opts.ErrorHandler != nil {
		d.opts.ErrorHandler(err)
		return
	}
	fmt.Fprintln(os.Stderr, err)
}

func (d *outbox) enqueue(ctx context.Context, q queued) error {
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		d.dropped.Add(1)
		err := &EventError{Event: q.event, Err: ErrHandlerClosed}
		d.report(err)
		return err
	}
	d.handling.Add(1)
	d.mu.RUnlock()
	defer d.handling.Done()

	select {
	case d.queue <- q:
		return nil
	default:
	}
	if d.opts.Backpressure == Drop {
		d.dropped.Add(1)
		return fmt.Errorf("%w: the buffer is full", ErrDropped)
	}
	select {
	case d.queue <- q:
		return nil
	case <-ctx.Done():
		d.dropped.Add(1)
		return fmt.Errorf("%w while waiting for room in the buffer: %w", ErrDropped, ctx.Err())
	}
}

// maxBatch is how many events the sender takes from the queue at once, and
// so the most it writes to the spool with one fsync.
const maxBatch = 64

// sender is the state of the goroutine that delivers events. Only that
// goroutine touches it.
type sender struct {
	d     *outbox
	spool *spool // nil without SpoolPath
	// held are events taken from the queue and neither sent nor spooled,
	// oldest first; they come after everything in the spool.
	held      []queued
	queueOpen bool
	// finalAttempt is set once the queue is closed and the last replay
	// attempt has been made.
	finalAttempt bool

	wait         time.Duration // the next wait after a failure
	retry        *time.Timer
	retryC       <-chan time.Time // non-nil while a retry is scheduled
	spoolFailing bool             // the last spool write failed
}

func (s *sender) run(ctx context.Context) {
	defer close(s.d.done)
	if s.backlog() {
		s.replay(ctx)
	}
	for {
		s.flushHeld(ctx)
		if ctx.Err() != nil {
			s.stop(s.abandon())
			return
		}
		if !s.queueOpen && !s.finalAttempt {
			// Close: everything taken is spooled or sent; one more
			// try to empty the spool before stopping.
			s.finalAttempt = true
			if s.backlog() {
				s.replay(ctx)
			}
			continue
		}
		if !s.queueOpen && len(s.held) == 0 {
			s.stop(0)
			return
		}
		var queue <-chan queued
		if s.queueOpen && len(s.held) < maxBatch {
			queue = s.d.queue
		}
		select {
		case q, ok := <-queue:
			if !ok {
				s.queueOpen = false
				continue
			}
			s.held = append(s.held, q)
			s.take(maxBatch)
		case <-s.retryC:
			s.retryC = nil
			if s.backlog() {
				s.replay(ctx)
			}
		case <-ctx.Done():
		}
	}
}

// take moves up to n waiting events from the queue to held without
// blocking.
func (s *sender) take(n int) {
	for ; n > 0 && s.queueOpen && len(s.held) < maxBatch; n-- {
		select {
		case q, ok := <-s.d.queue:
			if !ok {
				s.queueOpen = false
				return
			}
			s.held = append(s.held, q)
		default:
			return
		}
	}
}

func (s *sender) backlog() bool { return s.spool != nil && s.spool.backlog() }

// flushHeld sends the held events, or spools them while the spool has a
// backlog, which must be replayed first to keep the order.
func (s *sender) flushHeld(ctx context.Context) {
	for len(s.held) > 0 && ctx.Err() == nil {
		if s.retryC != nil && (s.spool == nil || s.spoolFailing) {
			return // waiting out a failure
		}
		if s.backlog() {
			s.spoolHeld()
			return
		}
		if done, err := s.send(ctx, s.held[0].event); !done {
			// Unavailable, or an error this handler can not classify:
			// keep the event.
			if ctx.Err() == nil && (s.spool == nil || s.spoolHeld()) {
				s.scheduleRetry(err)
			}
			return
		}
		s.held[0] = queued{}
		s.held = s.held[1:]
	}
}

// send appends one event and reports whether it is done with: sent, or
// refused for good (counted and reported). Otherwise the event must be
// kept and err says why.
func (s *sender) send(ctx context.Context, e Event) (done bool, err error) {
	_, err = s.d.log.Append(ctx, e)
	var rejected *RejectedError
	switch {
	case err == nil:
		s.d.sent.Add(1)
		s.wait = s.d.opts.RetryInterval
		return true, nil
	case errors.As(err, &rejected):
		s.d.rejected.Add(1)
		s.d.report(&EventError{Event: e, Err: err})
		return true, nil
	}
	return false, err
}

// spoolHeld appends the held events to the spool and reports whether that
// worked. On failure they stay held and a retry is scheduled.
func (s *sender) spoolHeld() bool {
	if len(s.held) == 0 {
		return true
	}
	if err := s.spool.append(s.held); err != nil {
		s.spoolFailing = true
		s.d.report(err)
		s.scheduleRetry(nil)
		return false
	}
	s.spoolFailing = false
	s.d.spooled.Add(uint64(len(s.held)))
	clear(s.held)
	s.held = s.held[:0]
	return true
}

func (s *sender) scheduleRetry(err error) {
	wait := s.wait
	var u *UnavailableError
	if errors.As(err, &u) && u.RetryAfter > wait {
		wait = min(u.RetryAfter, s.d.opts.MaxRetryInterval)
	}
	s.wait = min(2*s.wait, s.d.opts.MaxRetryInterval)
	s.retry.Reset(wait)
	s.retryC = s.retry.C
}

// replay sends the spool from where the last replay stopped, in order. New
// events that arrive meanwhile are appended to the spool, so the buffer
// does not fill while a long backlog drains. It stops at the first event
// the log can not take now and schedules a retry; once the spool is empty
// it truncates it.
func (s *sender) replay(ctx context.Context) {
	sp := s.spool
	s.retry.Stop()
	s.retryC = nil
	r := bufio.NewReaderSize(&fileReader{f: sp.f, pos: sp.offset}, 64<<10)
	for sp.offset < sp.size {
		line, err := r.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			s.d.report(fmt.Errorf("translog: spool %q: ends at byte %d, %d bytes short of what was written; was it changed by something else?", sp.path, sp.offset, sp.size-sp.offset))
			sp.size = sp.offset
			break
		}
		if err != nil && err != io.EOF {
			s.d.report(fmt.Errorf("translog: spool %q: read at byte %d: %w", sp.path, sp.offset, err))
			s.scheduleRetry(nil)
			return
		}
		if !bytes.HasSuffix(line, []byte("\n")) {
			s.d.dropped.Add(1)
			s.d.report(fmt.Errorf("translog: spool %q: the %d bytes at byte %d are an incomplete line; skipped", sp.path, len(line), sp.offset))
			sp.offset += int64(len(line))
			continue
		}
		e, err := ParseEvent(line[:len(line)-1])
		if err != nil {
			s.d.dropped.Add(1)
			s.d.report(fmt.Errorf("translog: spool %q: the line at byte %d is not an audit event; skipped: %w", sp.path, sp.offset, err))
			sp.offset += int64(len(line))
			continue
		}
		if done, err := s.send(ctx, e); !done {
			if ctx.Err() == nil {
				s.scheduleRetry(err)
			}
			return
		}
		sp.offset += int64(len(line))
		// Spool what arrived meanwhile, at most what is waiting now so
		// the replay keeps going under a steady stream of events.
		for n := len(s.d.queue); n > 0 && !s.spoolFailing; n -= maxBatch {
			s.take(min(n, maxBatch))
			if !s.spoolHeld() {
				break
			}
		}
	}
	if err := sp.empty(); err != nil {
		s.d.report(err)
	}
}

// abandon gives up sending once Close's context has ended: it spools what
// it can and counts the rest as dropped, returning how many that was. It
// keeps taking events until the queue is closed, so Handle calls still
// waiting for room finish.
func (s *sender) abandon() int {
	for q := range s.d.queue {
		s.held = append(s.held, q)
		if s.spool != nil && len(s.held) >= maxBatch {
			s.spoolHeld()
		}
	}
	if s.spool != nil {
		s.spoolHeld()
	}
	lost := len(s.held)
	s.d.dropped.Add(uint64(lost))
	s.held = nil
	return lost
}

// stop releases the spool and records Close's result.
func (s *sender) stop(lost int) {
	s.retry.Stop()
	var errs []error
	if lost > 0 {
		errs = append(errs, fmt.Errorf("translog: Close gave up with %d audit events neither sent nor spooled", lost))
	}
	if s.spool != nil {
		if err := s.spool.close(); err != nil {
			s.d.report(err)
			errs = append(errs, err)
		}
	}
	s.d.closeErr = errors.Join(errs...)
}
