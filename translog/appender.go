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
	u := *a.url
	if wait {
		u.RawQuery = "wait=checkpoint"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return AddResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return AddResponse{}, ctx.Err()
		}
		return AddResponse{}, &UnavailableError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return AddResponse{}, &UnavailableError{Status: resp.StatusCode, Err: err}
	}
	msg := strings.TrimSpace(string(data))
	switch {
	case resp.StatusCode == http.StatusOK:
		var out AddResponse
		if err := json.Unmarshal(data, &out); err != nil {
			return AddResponse{}, fmt.Errorf("log answered with something that is not an add response: %w", err)
		}
		if wait && out.Checkpoint == "" {
			return AddResponse{}, errors.New("log answered without the checkpoint that was asked for")
		}
		return out, nil
	case resp.StatusCode == http.StatusBadRequest, resp.StatusCode == http.StatusRequestEntityTooLarge,
		resp.StatusCode == http.StatusUnprocessableEntity, resp.StatusCode == http.StatusUnsupportedMediaType:
		return AddResponse{}, &RejectedError{Status: resp.StatusCode, Message: msg}
	default:
		var after time.Duration
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			after = time.Duration(s) * time.Second
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return AddResponse{}, &UnavailableError{Status: resp.StatusCode, RetryAfter: after, Err: errors.New(msg)}
	}
}
