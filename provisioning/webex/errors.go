package webex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ErrorDetail is one entry of a Webex error list (the spec's Error schema):
// in error bodies, and in a customer's or subscriber's asynchronous errors.
type ErrorDetail struct {
	ErrorCode   int    `json:"errorCode,omitempty"`
	Description string `json:"description,omitempty"`
}

// UnmarshalJSON accepts errorCode as a number or a numeric string and
// ignores anything it cannot read: an odd error entry must not hide the
// status and message that came with it.
func (d *ErrorDetail) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	*d = ErrorDetail{ErrorCode: lenientInt(raw["errorCode"]), Description: clean(lenientString(raw["description"]), maxMessageRunes)}
	return nil
}

// APIError is a failed Webex call: an error answer, or no usable answer at
// all (Status 0, after retries where they made sense).
type APIError struct {
	Op         string // what we were doing: "create customer"
	Status     int    // HTTP status; 0 when no response arrived
	Message    string // Webex's message, or the status text
	Errors     []ErrorDetail
	TrackingID string // Webex's trackingId: quote it to Cisco support
	// RetryAfter is the wait Webex asked for (429, 423, 503), or the
	// fallback used when a 429 named none.
	RetryAfter time.Duration
	// Retryable says the same call may succeed later: 429, 423, 5xx,
	// timeouts and connection failures.
	Retryable bool
	// Attempts is how many requests were sent. For a create that failed
	// after more than one, an earlier attempt may have created the object:
	// look it up before creating again.
	Attempts int
	err      error // transport cause, if any
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Status != 0 {
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteByte(' ')
	}
	b.WriteString(e.Message)
	if e.TrackingID != "" {
		b.WriteString(" (trackingId ")
		b.WriteString(e.TrackingID)
		b.WriteByte(')')
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// redact removes tok from every text Webex gave us.
func (e *APIError) redact(tok string) {
	e.Message = redact(e.Message, tok)
	e.TrackingID = redact(e.TrackingID, tok)
	for i := range e.Errors {
		e.Errors[i].Description = redact(e.Errors[i].Description, tok)
	}
}

// Unwrap exposes the transport error behind a Status 0 APIError.
func (e *APIError) Unwrap() error { return e.err }

// IsRetryable reports whether err is worth trying again later.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's own deadline, not Webex's fault
	}
	return transient(err)
}

// IsNotFound reports whether Webex answered 404.
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound
}

const (
	maxMessageRunes    = 500
	maxTrackingIDRunes = 200
)

// parseError builds the APIError of a non-2xx answer. Webex error bodies are
// {message, errors:[{description, errorCode}], trackingId}; proxies answer
// HTML or nothing. Whatever arrives, the result has the status and a message.
func parseError(op string, status int, header http.Header, body []byte) *APIError {
	e := &APIError{Op: op, Status: status, Retryable: retryableStatus(status)}
	if header != nil {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
		e.TrackingID = clean(header.Get("TrackingID"), maxTrackingIDRunes)
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(body), &raw) == nil {
		e.Message = clean(lenientString(raw["message"]), maxMessageRunes)
		var list []json.RawMessage
		if json.Unmarshal(raw["errors"], &list) == nil {
			for _, item := range list {
				var d ErrorDetail
				_ = d.UnmarshalJSON(item)
				if d != (ErrorDetail{}) {
					e.Errors = append(e.Errors, d)
				}
			}
		}
		for _, k := range []string{"trackingId", "trackingID", "trackingid"} {
			if id := clean(lenientString(raw[k]), maxTrackingIDRunes); id != "" {
				e.TrackingID = id
				break
			}
		}
	}
	if e.Message == "" {
		for _, d := range e.Errors {
			if d.Description != "" {
				e.Message = d.Description
				break
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "HTTP " + strconv.Itoa(status)
		}
	}
	return e
}

// trackingIDFromHeader reads the TrackingID header (any case).
func trackingIDFromHeader(h http.Header) string {
	if h == nil {
		return ""
	}
	return clean(h.Get("TrackingID"), maxTrackingIDRunes)
}

// lenientString reads a JSON string; anything else is "".
func lenientString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// lenientInt reads a JSON integer or numeric string; anything else is 0.
func lenientInt(raw json.RawMessage) int {
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		if f >= -1e9 && f <= 1e9 {
			return int(f)
		}
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(lenientString(raw))); err == nil {
		return n
	}
	return 0
}

// clean makes outside text safe to show in Slack and logs: valid UTF-8, no
// control characters, whitespace collapsed, at most limit runes.
func clean(s string, limit int) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	n := 0
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if n >= limit {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
