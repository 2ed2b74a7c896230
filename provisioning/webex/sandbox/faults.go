package sandbox

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// earlyTolerance forgives clock and scheduling jitter at the deadline's end: a retry this
// close to the deadline the sandbox gave is not early.
const earlyTolerance = 50 * time.Millisecond

// inFlightWindow is how long after a Retry-After was given a call may still arrive that
// the client sent before it could have read that answer: a client running several calls at
// once has others past its gate, on their way. The window covers the answer's way back,
// the client's handling of it and the other call's way here, on a machine as loaded as a
// race-detector test run on two cores, where 50 ms proved too short. A client that ignores
// Retry-After still lands in the rest of the wait (at least 700 ms of a 1 s one).
const inFlightWindow = 250 * time.Millisecond

// countEarlyRetry counts a call made with a token before the Retry-After deadline this
// sandbox gave that token (by a 429 or a 503), less earlyTolerance. A call that arrived
// before that Retry-After was given, or within inFlightWindow after it, is not an early
// retry.
func (s *Sandbox) countEarlyRetry(c *call) {
	deadline, ok := s.retryAfter[c.token]
	if !ok {
		return
	}
	if issued, ok := s.retryAfter[issuedKey(c.token)]; ok && c.arrived.Before(issued.Add(inFlightWindow)) {
		return
	}
	if c.arrived.Before(deadline.Add(-earlyTolerance)) {
		s.stats.EarlyRetries++
		s.stats.EarlyRetriesByToken[tokenLabel(c.token)]++
		return
	}
	delete(s.retryAfter, c.token)
	delete(s.retryAfter, issuedKey(c.token))
}

// issuedKey is where retryAfter keeps when the token's current Retry-After wait began. A
// NUL cannot occur in a token (HTTP header values exclude it), so the keys never collide.
func issuedKey(tok string) string { return "\x00issued:" + tok }

// tokenLabel keeps a token usable as a stats key without printing all of it.
func tokenLabel(tok string) string {
	if len(tok) <= 8 {
		return tok
	}
	return tok[:4] + "…" + tok[len(tok)-4:]
}

// rateLimit is a token bucket of capacity Rate (burst = rate, at least 1) refilled at Rate
// per second (golang.org/x/time/rate, on the sandbox's clock). Over the limit it answers
// 429 with Retry-After in whole seconds, rounded up, and remembers that deadline for the
// token.
func (s *Sandbox) rateLimit(c *call) *response {
	rps := s.opts.Rate
	if rps <= 0 {
		return nil
	}
	if s.limiter == nil {
		s.limiter = rate.NewLimiter(rate.Limit(rps), max(1, int(rps))) // starts full
	}
	if s.limiter.AllowN(c.now, 1) {
		return nil
	}
	wait := max(1, int(math.Ceil((1-s.limiter.TokensAt(c.now))/rps)))
	s.stats.RateLimited++
	resp := c.fail(http.StatusTooManyRequests, "Too many requests have been sent in a given amount of time.")
	s.setRetryAfter(c, resp, wait)
	return resp
}

func (s *Sandbox) setRetryAfter(c *call, resp *response, seconds int) {
	resp.header.Set("Retry-After", strconv.Itoa(seconds))
	deadline := c.now.Add(time.Duration(seconds) * time.Second)
	prev, ok := s.retryAfter[c.token]
	if !ok || !prev.After(c.now) {
		// A new wait, not an extension of one still running: calls that
		// arrive from now on should have waited.
		s.retryAfter[issuedKey(c.token)] = c.now
	}
	if !ok || deadline.After(prev) {
		s.retryAfter[c.token] = deadline
	}
}

type faultKind int

const (
	faultNone faultKind = iota
	fault5xx
	faultTimeout
)

// fault draws one number per call from the seeded generator (under s.mu), so a given seed
// and call sequence always injects the same faults.
func (s *Sandbox) fault() faultKind {
	if s.opts.P5xx <= 0 && s.opts.PTimeout <= 0 {
		return faultNone
	}
	x := s.rng.Float64()
	switch {
	case x < s.opts.P5xx:
		return fault5xx
	case x < s.opts.P5xx+s.opts.PTimeout:
		return faultTimeout
	}
	return faultNone
}

// unavailable is an injected 503, with Retry-After so that the client's patience is
// measured too. The call has no effect.
func (s *Sandbox) unavailable(c *call) *response {
	resp := c.failCode(http.StatusServiceUnavailable, 2560,
		"Service unavailable: calling services are in maintenance, retry later.")
	s.setRetryAfter(c, resp, 1)
	return resp
}
