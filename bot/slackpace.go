package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacing of the Slack Web API calls, before they are made.
//
// Slack limits calls per method, per app, per workspace, in tiers ("Rate
// limits", docs.slack.dev/apis/web-api/rate-limits): Tier 2 "20+ per
// minute", Tier 3 "50+ per minute" with sporadic bursts, Tier 4 "100+ per
// minute" with generous bursts. chat.postMessage has a tier of its own: "1
// message per second to a specific channel", short bursts allowed, and a
// workspace-wide limit of "several hundred messages per minute". Over a
// limit Slack answers 429 with Retry-After, the seconds to wait.
//
// The client keeps one token bucket per method (and per channel for
// chat.postMessage, on top of its workspace bucket) set a tenth under the
// documented minimum, so a call waits its turn instead of drawing a 429.
// Click answers (chat.postEphemeral) have a bucket of their own: in this
// client they never wait behind bulk posts (the queue whose workers make
// the calls is the handlers'). The buckets are per process: each replica
// paces itself, so N replicas together may ask N times a tier, and the 429s
// that follow are what the shared gate below is for.
//
// A 429 closes a gate for its method (for chat.postMessage: its channel)
// until the Retry-After has passed, shared by every caller: nobody calls
// inside the window, and the bucket is emptied until then, so the callers
// that waited do not all go at once when it opens.

// paceRule is one token bucket: perMinute calls, burst at once.
type paceRule struct {
	perMinute float64
	burst     int
}

// paceRules are the workspace-wide buckets by method, 0.9× Slack's documented
// minimum. A method not listed (auth.test, special tier; file downloads,
// not a Web API method) is not paced; its 429s still close its gate.
var paceRules = map[string]paceRule{
	// Special tier: "several hundred messages per minute" per workspace,
	// 300 taken as the floor.
	methodPost: {270, 20},
	// Tier 3.
	"chat.update":        {45, 3},
	"conversations.open": {45, 3},
	// Tier 4.
	"chat.postEphemeral": {90, 15},
	"views.open":         {90, 15},
	"views.update":       {90, 15},
	"views.publish":      {90, 15},
	// Tier 2.
	"usergroups.users.list": {18, 3},
}

// channelRule paces chat.postMessage into one channel (a thread is in its
// channel): 1 per second documented, 0.9 taken, a short burst of 3.
var channelRule = paceRule{54, 3}

// methodPost is the method whose calls into one channel go one at a time,
// in the order they were made, so a later message never overtakes an
// earlier one in a channel or thread.
const methodPost = "chat.postMessage"

const (
	// maxDrain bounds how far ahead a 429 empties a bucket; the gate alone
	// holds callers back beyond it.
	maxDrain = 10 * time.Minute
	// minRetryAfter stands in for a Retry-After of 0 ("retry now"): the
	// emptied bucket paces the retries, and a method without a bucket does
	// not spin.
	minRetryAfter = 100 * time.Millisecond
	// pruneBuckets is the number of buckets above which idle channel
	// buckets (as good as new ones) are dropped.
	pruneBuckets = 256
)

// errPastDeadline: the call's turn comes after its context's deadline, so
// it fails now rather than at the deadline.
var errPastDeadline = fmt.Errorf("turn comes after the deadline: %w", context.DeadlineExceeded)

// errGaveUp marks a call that never went: its context ended (or would
// have) while it waited for its turn or a 429's Retry-After.
var errGaveUp = errors.New("gave up waiting for its turn under the rate limit")

type paceKey struct{ method, channel string }

// bucket is the pacing of one method, or of chat.postMessage in one channel.
// Its fields are guarded by pacer.mu.
type bucket struct {
	lim   *rate.Limiter // nil: not paced, only the gate
	until time.Time     // the shared Retry-After: nobody calls before
	// tail is closed when the last caller queued for its turn is done
	// (methodPost per channel); nil when nobody is queued.
	tail chan struct{}
	// refusedIn and refusedUntil: chat.postMessage's workspace bucket
	// remembers the last channel refused, to tell its cap from a channel's.
	refusedIn    string
	refusedUntil time.Time
}

// pacer holds every bucket of one SlackAPI.
type pacer struct {
	rules   map[string]paceRule
	channel paceRule
	minGate time.Duration // stands in for a Retry-After of 0
	// entered, when set (tests), is called once a caller has its place in a
	// channel's queue.
	entered func(method, channel string)

	mu      sync.Mutex
	buckets map[paceKey]*bucket
	pruneAt int
}

func newPacer(rules map[string]paceRule, channel paceRule) *pacer {
	return &pacer{rules: rules, channel: channel, minGate: minRetryAfter, buckets: map[paceKey]*bucket{}}
}

// bucketOf returns k's bucket, made on first use. Caller holds p.mu.
func (p *pacer) bucketOf(k paceKey, now time.Time) *bucket {
	if b := p.buckets[k]; b != nil {
		return b
	}
	if len(p.buckets) > max(pruneBuckets, p.pruneAt) {
		p.prune(now)
		p.pruneAt = 2 * len(p.buckets)
	}
	rule, ok := p.rules[k.method]
	if k.channel != "" {
		rule, ok = p.channel, true
	}
	b := &bucket{}
	if ok {
		b.lim = rate.NewLimiter(rate.Limit(rule.perMinute/60), rule.burst)
	}
	p.buckets[k] = b
	return b
}

// prune drops the channel buckets nobody waits on whose gate is open and
// whose tokens are all back: a new one would be the same. Caller holds p.mu.
func (p *pacer) prune(now time.Time) {
	for k, b := range p.buckets {
		if k.channel != "" && b.tail == nil && !b.until.After(now) &&
			(b.lim == nil || b.lim.TokensAt(now) >= float64(b.lim.Burst())) {
			delete(p.buckets, k)
		}
	}
}

// keys are the buckets a call of method into channel falls under.
func (p *pacer) keys(method, channel string) []paceKey {
	if method == methodPost && channel != "" {
		return []paceKey{{method, channel}, {method, ""}}
	}
	return []paceKey{{method, ""}}
}

// turn queues the caller behind the earlier calls of chat.postMessage into
// channel and returns when they are done; the caller calls done when its
// own call is. Other methods have no queue. A caller whose ctx ends while
// queued leaves, but the one behind it still waits for those ahead.
func (p *pacer) turn(ctx context.Context, method, channel string) (done func(), err error) {
	if method != methodPost || channel == "" {
		return func() {}, nil
	}
	p.mu.Lock()
	b := p.bucketOf(paceKey{method, channel}, time.Now())
	prev, mine := b.tail, make(chan struct{})
	b.tail = mine
	p.mu.Unlock()
	if p.entered != nil {
		p.entered(method, channel)
	}
	finish := func() {
		p.mu.Lock()
		if b.tail == mine {
			b.tail = nil
		}
		p.mu.Unlock()
		close(mine)
	}
	if prev == nil {
		return finish, nil
	}
	select {
	case <-prev:
		return finish, nil
	case <-ctx.Done():
		go func() { <-prev; finish() }()
		return nil, ctx.Err()
	}
}

// admit waits until a call of method into channel may go: every gate it
// falls under open, a token taken from every bucket, one after the other
// (the channel's, then the workspace's, which is then charged when the call
// goes). It fails at once when a wait would outlast ctx's deadline.
func (p *pacer) admit(ctx context.Context, method, channel string) error {
	keys := p.keys(method, channel)
	for {
		for _, k := range keys {
			if err := p.waitGates(ctx, keys); err != nil {
				return err
			}
			if err := p.take(ctx, k); err != nil {
				return err
			}
		}
		// A 429 may have closed a gate while this caller slept: its token
		// was taken before the bucket was emptied, so it queues again.
		if p.gate(keys).IsZero() {
			return nil
		}
	}
}

// take waits for a token of k's bucket.
func (p *pacer) take(ctx context.Context, k paceKey) error {
	now := time.Now()
	p.mu.Lock()
	lim := p.bucketOf(k, now).lim
	p.mu.Unlock()
	if lim == nil {
		return nil
	}
	r := lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	err := errPastDeadline
	if dl, ok := ctx.Deadline(); !ok || !now.Add(delay).After(dl) {
		err = sleepCtx(ctx, delay)
	}
	if err != nil {
		r.Cancel()
	}
	return err
}

// free reports whether a call of method into channel would go now: every
// gate open, a token in every bucket.
func (p *pacer) free(method, channel string) bool {
	keys := p.keys(method, channel)
	if !p.gate(keys).IsZero() {
		return false
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		if b := p.bucketOf(k, now); b.lim != nil && b.lim.TokensAt(now) < 1 {
			return false
		}
	}
	return true
}

// gate is when the latest closed gate of keys opens; zero if all are open.
func (p *pacer) gate(keys []paceKey) time.Time {
	now := time.Now()
	var until time.Time
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		if b := p.bucketOf(k, now); b.until.After(now) && b.until.After(until) {
			until = b.until
		}
	}
	return until
}

func (p *pacer) waitGates(ctx context.Context, keys []paceKey) error {
	for {
		until := p.gate(keys)
		if until.IsZero() {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && until.After(dl) {
			return errPastDeadline
		}
		if err := sleepCtx(ctx, time.Until(until)); err != nil {
			return err
		}
	}
}

// refused records Slack's 429 for method (into channel): its gate closes
// for retryAfter. For chat.postMessage the channel's gate closes; when
// another channel was refused within its own window too, it is the
// workspace's cap, and the workspace gate closes as well.
func (p *pacer) refused(method, channel string, retryAfter time.Duration) {
	now := time.Now()
	until := now.Add(max(retryAfter, p.minGate))
	keys := p.keys(method, channel)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bucketOf(keys[0], now).close(now, until)
	if len(keys) == 1 {
		return
	}
	ws := p.bucketOf(keys[1], now)
	if ws.refusedIn != "" && ws.refusedIn != channel && ws.refusedUntil.After(now) {
		ws.close(now, until)
	}
	ws.refusedIn, ws.refusedUntil = channel, until
}

// close shuts b's gate until then and empties its bucket up to then: at
// then one token is there (less than two), the next follow at the bucket's
// pace.
func (b *bucket) close(now, until time.Time) {
	if !until.After(b.until) {
		return
	}
	b.until = until
	if b.lim == nil {
		return
	}
	refill := float64(b.lim.Limit()) * min(until.Sub(now), maxDrain).Seconds()
	take := int(math.Floor(b.lim.TokensAt(now) + refill - 1))
	for take > 0 {
		n := min(take, b.lim.Burst())
		b.lim.ReserveN(now, n)
		take -= n
	}
}
