// Package webex is onboardbot's wire-level client for the Webex APIs it
// provisions with: Wholesale customers and subscribers, locations, calling
// locations, PSTN connections and phone numbers, plus the OAuth refresh of
// access tokens. It owns the wire structs (JSON names as Cisco's specs write
// them), one method per operation, and the transport policy every call
// shares: retries with backoff and jitter, the per-token Retry-After gate,
// one token refresh after a 401, bounded bodies and Webex error parsing.
// It imports nothing of onboardbot; translating to domain types is the
// caller's business.
package webex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/sirupsen/logrus"
)

// DefaultBaseURL is Webex's public API root.
const DefaultBaseURL = "https://webexapis.com/v1"

const (
	defaultTimeout     = 30 * time.Second
	defaultMaxAttempts = 10
	defaultBaseBackoff = 500 * time.Millisecond
	defaultMaxBackoff  = 30 * time.Second
	// maxResponseBody bounds what we read of a successful response; the
	// largest legitimate page (2000 numbers) is far below it.
	maxResponseBody = 4 << 20
	// maxErrorBody bounds what we read of an error response: the message is
	// all we need, and a proxy's HTML page can be large.
	maxErrorBody = 64 << 10
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	BaseURL    string       // default https://webexapis.com/v1
	HTTPClient *http.Client // default: timeout 30s
	Tokens     TokenSource  // where access tokens come from (static or OAuth)
	// SubPartnerOrgID is sent as onBehalfOfSubPartnerOrgId on every
	// wholesale customer and subscriber call.
	SubPartnerOrgID string
	// MaxAttempts bounds the attempts of one call for retryable errors;
	// values below 10 become 10 so that a burst of transient faults does not
	// fail a commit that a short wait would have saved.
	MaxAttempts int
	BaseBackoff time.Duration // default 500ms; full jitter
	MaxBackoff  time.Duration // default 30s
	// Sleep waits d or until ctx is done. Test seam; default uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock of the Retry-After gate. Test seam; default time.Now.
	Now    func() time.Time
	Logger *logrus.Entry // optional; logs trackingIds, never tokens
	// Observe, when set, is told about every HTTP exchange: the route (one
	// of Operations), the status (0 when no response came) and the error.
	Observe func(route string, status int, err error)
	// SharedGate, when set, shares Retry-After waits with every other
	// process using the same token (replicas), so none of them calls early.
	SharedGate SharedGate
	// Rate, when above 0, paces this Client's requests to Rate per second
	// (WEBEX_RATE): Webex publishes no limit, so by default the bot learns
	// it from 429s and their Retry-After; a partner who knows the limit of
	// its token sets it (divided by the replicas) and spends no calls on
	// refusals. The Retry-After gate still applies.
	Rate float64
}

// SharedGate keeps Retry-After deadlines where every replica sees them,
// keyed by a digest of the token (never the token itself).
type SharedGate interface {
	HoldUntil(ctx context.Context, key string, t time.Time) error
	Until(ctx context.Context, key string) (time.Time, error)
}

// TokenSource supplies access tokens.
type TokenSource interface {
	// Token returns the current access token.
	Token(ctx context.Context) (string, error)
	// Refresh is called after a 401 with the token that was refused. It
	// returns a new token, or the current one when someone else already
	// refreshed (stale differs from the current token).
	Refresh(ctx context.Context, stale string) (string, error)
}

// Client calls the Webex APIs. It is safe for concurrent use; all goroutines
// using one Client share its Retry-After gate.
type Client struct {
	base        *url.URL
	hc          *http.Client
	tokens      TokenSource
	subPartner  string
	maxAttempts int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	sleep       func(context.Context, time.Duration) error
	now         func() time.Time
	log         *logrus.Entry
	observe     func(route string, status int, err error)
	shared      SharedGate
	gate        gate
	pace        *rate.Limiter // nil: no pacing
}

// New builds a Client from cfg. An unparsable BaseURL surfaces on the first
// call rather than here, so wiring code stays simple.
func New(cfg Config) *Client {
	c := &Client{
		hc:          cfg.HTTPClient,
		tokens:      cfg.Tokens,
		subPartner:  cfg.SubPartnerOrgID,
		maxAttempts: max(cfg.MaxAttempts, defaultMaxAttempts),
		baseBackoff: cfg.BaseBackoff,
		maxBackoff:  cfg.MaxBackoff,
		sleep:       cfg.Sleep,
		now:         cfg.Now,
		log:         cfg.Logger,
		observe:     cfg.Observe,
		shared:      cfg.SharedGate,
	}
	if cfg.Rate > 0 {
		// A burst of a tenth of a second's calls: smooth, as Webex's own
		// limit is unknown in shape.
		c.pace = rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(cfg.Rate/10)))
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err == nil && u.Scheme != "" && u.Host != "" {
		c.base = u
	}
	if c.hc == nil {
		// Webex is one host, and the default transport keeps only two
		// idle connections per host: with WORKER_CONCURRENCY above that,
		// most calls of a batch would open (and TLS-handshake) a new one.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		c.hc = &http.Client{Timeout: defaultTimeout, Transport: tr}
	}
	if c.tokens == nil {
		c.tokens = StaticToken("")
	}
	if c.baseBackoff <= 0 {
		c.baseBackoff = defaultBaseBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = defaultMaxBackoff
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		c.log = logrus.NewEntry(l)
	}
	c.gate.until = map[string]time.Time{}
	return c
}

// call describes one operation invocation.
type call struct {
	op         string   // "create customer": the start of every error text
	route      string   // "METHOD /path/{template}", one of Operations
	params     []string // values for the template's {placeholders}, in order
	query      url.Values
	subPartner bool // add onBehalfOfSubPartnerOrgId
	body       any  // JSON request body; nil for none
}

// response is a successful answer, body already read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do runs c with retries and returns the successful response.
func (cl *Client) do(ctx context.Context, c call) (*response, error) {
	method, target, err := cl.target(c)
	if err != nil {
		return nil, &APIError{Op: c.op, Message: err.Error()}
	}
	var payload []byte
	if c.body != nil {
		if payload, err = json.Marshal(c.body); err != nil {
			return nil, &APIError{Op: c.op, Message: "encode request: " + err.Error()}
		}
	}
	tok, err := cl.tokens.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: access token: %w", c.op, err)
	}
	refreshed := false
	sent := 0 // HTTP exchanges made, reported as Attempts
	for attempt := 1; ; attempt++ {
		if err := cl.awaitGate(ctx, c.op, tok, sent); err != nil {
			return nil, err
		}
		if cl.pace != nil {
			if err := cl.pace.Wait(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", c.op, err)
			}
		}
		sent++
		resp, err := cl.send(ctx, method, target, tok, payload)
		if cl.observe != nil {
			st := 0
			if resp != nil {
				st = resp.status
			}
			cl.observe(c.route, st, err)
		}
		if err != nil {
			if err := cl.transportRetry(ctx, c.op, tok, err, sent, attempt); err != nil {
				return nil, err
			}
			continue
		}
		if resp.status >= 200 && resp.status < 300 {
			cl.log.WithFields(logrus.Fields{"op": c.op, "status": resp.status, "trackingId": trackingIDFromHeader(resp.header)}).Debug("webex call")
			return resp, nil
		}
		apiErr := parseError(c.op, resp.status, resp.header, resp.body)
		apiErr.redact(tok)
		apiErr.Attempts = sent
		if resp.status == http.StatusUnauthorized && !refreshed {
			// One refresh, one more try: a second 401 means the credential
			// itself is bad, and hammering the token endpoint will not help.
			refreshed = true
			if tok, err = cl.refresh(ctx, tok, apiErr); err != nil {
				return nil, err
			}
			attempt-- // not a retry of a transient fault: keep the budget
			continue
		}
		if err := cl.statusRetry(ctx, tok, apiErr, attempt); err != nil {
			return nil, err
		}
	}
}

// awaitGate waits out the Retry-After gate of tok before a request.
func (cl *Client) awaitGate(ctx context.Context, op, tok string, sent int) error {
	cl.pullSharedGate(ctx, tok)
	err := cl.gate.wait(ctx, tok, cl.now, cl.sleep)
	if err == nil {
		return nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		apiErr.Op, apiErr.Attempts = op, sent
		return apiErr
	}
	return fmt.Errorf("%s: %w", op, err)
}

// transportRetry decides after a request that got no answer: nil means try
// again (after a backoff), an error ends the call.
func (cl *Client) transportRetry(ctx context.Context, op, tok string, cause error, sent, attempt int) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	apiErr := &APIError{Op: op, Message: redact(cause.Error(), tok), Retryable: transient(cause), Attempts: sent, err: cause}
	if !apiErr.Retryable || attempt >= cl.maxAttempts {
		return apiErr
	}
	cl.logRetry(apiErr)
	if err := cl.sleep(ctx, cl.backoff(attempt)); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// refresh replaces tok after a 401. When the refresh fails the caller still
// gets the 401, so IsRetryable and the status stay meaningful; a token
// endpoint that is down for a moment makes it worth retrying later.
func (cl *Client) refresh(ctx context.Context, tok string, apiErr *APIError) (string, error) {
	newTok, rerr := cl.tokens.Refresh(ctx, tok)
	if rerr != nil {
		apiErr.Message += "; token refresh failed: " + redact(rerr.Error(), tok)
		apiErr.Retryable = IsRetryable(rerr)
		apiErr.err = rerr
		return "", apiErr
	}
	return newTok, nil
}

// statusRetry decides after an error answer: nil means try again (after the
// wait it took), an error ends the call.
func (cl *Client) statusRetry(ctx context.Context, tok string, apiErr *APIError, attempt int) error {
	if !apiErr.Retryable || attempt >= cl.maxAttempts {
		cl.log.WithFields(logrus.Fields{"op": apiErr.Op, "status": apiErr.Status, "trackingId": apiErr.TrackingID, "attempts": apiErr.Attempts}).Info("webex call failed")
		return apiErr
	}
	wait := cl.backoff(attempt)
	if apiErr.RetryAfter > 0 || apiErr.Status == http.StatusTooManyRequests {
		// A Retry-After binds every call made with this token, not only
		// this one: the gate makes the other goroutines wait as well.
		ra := apiErr.RetryAfter
		if ra <= 0 {
			ra = fallbackRetryAfter(wait, cl.maxBackoff)
			apiErr.RetryAfter = ra
		}
		if ra > maxRetryAfterWait {
			return apiErr // the caller reschedules rather than block a worker
		}
		cl.gate.hold(tok, cl.now().Add(ra+gateMargin))
		cl.pushSharedGate(ctx, tok, cl.now().Add(ra+gateMargin))
		wait = 0
	}
	cl.logRetry(apiErr)
	if wait > 0 {
		if err := cl.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", apiErr.Op, err)
		}
	}
	return nil
}

func (cl *Client) logRetry(e *APIError) {
	cl.log.WithFields(logrus.Fields{
		"op": e.Op, "status": e.Status, "trackingId": e.TrackingID, "attempt": e.Attempts, "retry_after": e.RetryAfter,
	}).Warn("webex call will be retried")
}

// target resolves the method and absolute URL of c.
func (cl *Client) target(c call) (string, string, error) {
	if cl.base == nil {
		return "", "", errors.New("invalid Webex base URL")
	}
	method, tmpl, ok := strings.Cut(c.route, " ")
	if !ok {
		return "", "", fmt.Errorf("bad route %q", c.route)
	}
	path, err := expand(tmpl, c.params)
	if err != nil {
		return "", "", err
	}
	q := url.Values{}
	for k, vs := range c.query {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	if c.subPartner && cl.subPartner != "" {
		q.Set("onBehalfOfSubPartnerOrgId", cl.subPartner)
	}
	u := *cl.base
	u.Path = strings.TrimRight(cl.base.Path, "/") + path
	u.RawPath = strings.TrimRight(cl.base.EscapedPath(), "/") + escapedPath(tmpl, c.params)
	u.RawQuery = q.Encode()
	return method, u.String(), nil
}

// expand fills {placeholders} of tmpl with params, refusing empty values so a
// missing id never turns "GET /customers/{id}" into the list operation.
func expand(tmpl string, params []string) (string, error) {
	var b strings.Builder
	i := 0
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			b.WriteString(tmpl)
			break
		}
		end := strings.IndexByte(tmpl[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("bad path template %q", tmpl)
		}
		name := tmpl[open+1 : open+end]
		if i >= len(params) || params[i] == "" {
			return "", fmt.Errorf("missing %s", name)
		}
		b.WriteString(tmpl[:open])
		b.WriteString(params[i])
		tmpl = tmpl[open+end+1:]
		i++
	}
	return b.String(), nil
}

// escapedPath is expand with each parameter path-escaped (ids are base64 and
// may hold '/' in the standard alphabet).
func escapedPath(tmpl string, params []string) string {
	esc := make([]string, len(params))
	for i, p := range params {
		esc[i] = url.PathEscape(p)
	}
	s, _ := expand(tmpl, esc)
	return s
}

// send makes one HTTP exchange and reads the (bounded) body.
func (cl *Client) send(ctx context.Context, method, target, tok string, payload []byte) (*response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cl.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := int64(maxResponseBody)
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		if resp.StatusCode < 300 {
			return nil, errBodyTooLarge
		}
		data = data[:limit] // an error text cut short is still an error
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

var errBodyTooLarge = fmt.Errorf("response body larger than %d bytes", maxResponseBody)

// decode unmarshals a successful response into out; an empty body leaves
// out untouched.
func decode(op string, r *response, out any) error {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		return &APIError{Op: op, Status: r.status, Message: "malformed response: " + err.Error(), TrackingID: trackingIDFromHeader(r.header)}
	}
	return nil
}

// fetch runs c and decodes its answer into a new T.
func fetch[T any](ctx context.Context, cl *Client, c call) (*T, *response, error) {
	resp, err := cl.do(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	out := new(T)
	if err := decode(c.op, resp, out); err != nil {
		return nil, nil, err
	}
	return out, resp, nil
}

// redact removes tok from s: Webex never echoes tokens, but an error text is
// shown in Slack, so we do not rely on it.
func redact(s, tok string) string {
	if len(tok) < 4 {
		return s
	}
	return strings.ReplaceAll(s, tok, "[redacted]")
}
