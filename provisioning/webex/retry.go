package webex

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// gateMargin is added to every Retry-After deadline: Webex (and the
	// sandbox) measure from their own clock, and a call that lands a few
	// milliseconds early counts as an early retry.
	gateMargin = 25 * time.Millisecond
	// maxRetryAfterWait is the longest Retry-After a call waits out itself;
	// beyond it the error goes back to the caller (retryable, with
	// RetryAfter) so a worker can park the job instead of blocking.
	maxRetryAfterWait = 5 * time.Minute
	// minFallbackRetryAfter is the wait after a 429 without Retry-After.
	minFallbackRetryAfter = 2 * time.Second
)

// gate holds, per access token, the time before which no call may be made
// with it. It is shared by every goroutine using the Client.
type gate struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// hold moves tok's gate to t unless it is already later.
func (g *gate) hold(tok string, t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.After(g.until[tok]) {
		g.until[tok] = t
	}
}

// wait returns once tok's gate is open. It re-checks after sleeping because
// another goroutine may have pushed the gate further meanwhile.
func (g *gate) wait(ctx context.Context, tok string, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	for {
		g.mu.Lock()
		t, ok := g.until[tok]
		n := now()
		if ok && !n.Before(t) {
			delete(g.until, tok) // passed: keep the map small as tokens rotate
			ok = false
		}
		g.mu.Unlock()
		if !ok {
			return nil
		}
		d := t.Sub(n)
		if d > maxRetryAfterWait {
			return &APIError{Status: http.StatusTooManyRequests, Message: fmt.Sprintf("rate limited: Webex asked to wait %s", d.Round(time.Second)), Retryable: true, RetryAfter: d}
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// backoff is the full-jitter exponential delay before retry number attempt
// (1-based): uniform in [0, min(max, base·2^(attempt-1))].
func (cl *Client) backoff(attempt int) time.Duration {
	ceiling := cl.maxBackoff
	if attempt < 32 {
		if d := cl.baseBackoff << (attempt - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return rand.N(ceiling + 1)
}

// fallbackRetryAfter is the wait after a 429 that named none: a few seconds,
// or the backoff if longer, never above maxBackoff.
func fallbackRetryAfter(backoff, maxBackoff time.Duration) time.Duration {
	return min(max(backoff, minFallbackRetryAfter), maxBackoff)
}

// parseRetryAfter reads a Retry-After header: delta seconds (Webex's form) or
// an HTTP date. Zero when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 86400 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// retryableStatus lists the statuses Webex documents as transient.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusLocked,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transient reports whether a transport error is worth a retry: timeouts
// and broken or refused connections are; TLS and URL errors are not.
func transient(err error) bool {
	if err == nil || errors.Is(err, errBodyTooLarge) || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}

// sleepCtx waits d on a timer, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// gateKey names a token in the shared gate: a digest, so the store never
// holds a usable token.
func gateKey(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:8])
}

// pullSharedGate moves the local gate to a deadline another replica set.
// The shared gate is advisory: when it cannot be read, the local gate and
// Webex's own 429s still hold.
func (cl *Client) pullSharedGate(ctx context.Context, tok string) {
	if cl.shared == nil {
		return
	}
	t, err := cl.shared.Until(ctx, gateKey(tok))
	if err != nil {
		if cl.log != nil {
			cl.log.WithError(err).Debug("shared Retry-After gate unreadable")
		}
		return
	}
	if t.After(cl.now()) {
		cl.gate.hold(tok, t)
	}
}

func (cl *Client) pushSharedGate(ctx context.Context, tok string, t time.Time) {
	if cl.shared == nil {
		return
	}
	if err := cl.shared.HoldUntil(ctx, gateKey(tok), t); err != nil && cl.log != nil {
		cl.log.WithError(err).Warn("shared Retry-After gate not written; other replicas may call early")
	}
}
