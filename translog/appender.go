package translog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Appender adds events to a log and returns the index each one got once it
// is durable.
type Appender interface {
	Append(ctx context.Context, e Event) (uint64, error)
}

// RejectedError means the log refused an event for what it is (it does not
// match the schema or is too large): sending it again will not help.
type RejectedError struct {
	Status  int
	Message string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("the log refused the event (%d): %s", e.Status, e.Message)
}

// UnavailableError means the log could not take the event now (overloaded,
// down or unreachable, or the credentials are not accepted); the event may
// be sent again later. RetryAfter is the server's hint, or zero.
type UnavailableError struct {
	Status     int // 0 when no HTTP answer arrived
	RetryAfter time.Duration
	Err        error
}

func (e *UnavailableError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("log unavailable: %v", e.Err)
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return fmt.Sprintf("the log refused the writer's credentials (%d): %v", e.Status, e.Err)
	}
	return fmt.Sprintf("log unavailable (%d): %v", e.Status, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// AddPath is the path of the write endpoint below a log's URL.
const AddPath = "add"

// MaxBatchEvents is the most events one batch (one NDJSON request) may
// carry; a server may take fewer, answering 413 (a RejectedError).
const MaxBatchEvents = 10000

// BatchResponse is the JSON body a log server answers a batch with.
type BatchResponse struct {
	// Indexes are the events' positions in the log, in the batch's order;
	// all are durable.
	Indexes []uint64 `json:"indexes"`
}

// AddResponse is the JSON body a log server answers an append with.
type AddResponse struct {
	// Index is the event's position in the log; it is durable.
	Index uint64 `json:"index"`
	// Checkpoint is a signed checkpoint that covers Index, present when the
	// request asked to wait for one (?wait=checkpoint).
	Checkpoint string `json:"checkpoint,omitempty"`
}

// HTTPAppender appends events to a hegui log server with POST URL/add.
type HTTPAppender struct {
	url    *url.URL
	token  string
	client *http.Client
}

// NewHTTPAppender returns an appender for the log at baseURL that presents
// token as a bearer token (empty for none, e.g. with mutual TLS configured
// on client). A nil client uses one with a 30-second timeout.
func NewHTTPAppender(baseURL, token string, client *http.Client) (*HTTPAppender, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("log URL %q is not an http or https URL", baseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &HTTPAppender{url: u.JoinPath(AddPath), token: token, client: client}, nil
}

// Append sends e and returns its durable index.
func (a *HTTPAppender) Append(ctx context.Context, e Event) (uint64, error) {
	r, err := a.add(ctx, e, false)
	return r.Index, err
}

// AppendAndWait sends e and waits until a signed checkpoint covers it,
// returning the index and that checkpoint.
func (a *HTTPAppender) AppendAndWait(ctx context.Context, e Event) (AddResponse, error) {
	return a.add(ctx, e, true)
}

func (a *HTTPAppender) add(ctx context.Context, e Event, wait bool) (AddResponse, error) {
	body, err := e.Canonical()
	if err != nil {
		return AddResponse{}, &RejectedError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	query := ""
	if wait {
		query = "wait=checkpoint"
	}
	var out AddResponse
	if err := a.post(ctx, "application/json", query, body, &out); err != nil {
		return AddResponse{}, err
	}
	if wait && out.Checkpoint == "" {
		return AddResponse{}, errors.New("log answered without the checkpoint that was asked for")
	}
	return out, nil
}

// AppendBatch sends events in one request (NDJSON) and returns their
// durable indexes, in order. A batch is not atomic on the server: on an
// error some events may have been appended (docs/audit-log.md says how to
// retry and recognise them). At most MaxBatchEvents events.
func (a *HTTPAppender) AppendBatch(ctx context.Context, events []Event) ([]uint64, error) {
	if len(events) == 0 {
		return nil, errors.New("an empty batch")
	}
	if len(events) > MaxBatchEvents {
		return nil, &RejectedError{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("%d events in one batch, at most %d", len(events), MaxBatchEvents)}
	}
	var body bytes.Buffer
	for i, e := range events {
		c, err := e.Canonical()
		if err != nil {
			return nil, &RejectedError{Status: http.StatusBadRequest, Message: fmt.Sprintf("event %d: %v", i+1, err)}
		}
		body.Write(c)
		body.WriteByte('\n')
	}
	var out BatchResponse
	if err := a.post(ctx, "application/x-ndjson", "", body.Bytes(), &out); err != nil {
		return nil, err
	}
	if len(out.Indexes) != len(events) {
		return nil, fmt.Errorf("log answered %d indexes for %d events", len(out.Indexes), len(events))
	}
	return out.Indexes, nil
}

// post sends body to the write endpoint and decodes a 200 answer into out;
// other answers become a RejectedError (the request will never be taken)
// or an UnavailableError (it may be, later).
func (a *HTTPAppender) post(ctx context.Context, contentType, query string, body []byte, out any) error {
	u := *a.url
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnavailableError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &UnavailableError{Status: resp.StatusCode, Err: err}
	}
	msg := strings.TrimSpace(string(data))
	switch {
	case resp.StatusCode == http.StatusOK:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("log answered with something that is not an add response: %w", err)
		}
		return nil
	case resp.StatusCode == http.StatusBadRequest, resp.StatusCode == http.StatusRequestEntityTooLarge,
		resp.StatusCode == http.StatusUnprocessableEntity, resp.StatusCode == http.StatusUnsupportedMediaType:
		return &RejectedError{Status: resp.StatusCode, Message: msg}
	default:
		var after time.Duration
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			after = time.Duration(s) * time.Second
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &UnavailableError{Status: resp.StatusCode, RetryAfter: after, Err: errors.New(msg)}
	}
}
