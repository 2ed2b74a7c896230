package main

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Slack's Web API limits, as the fake Slack enforces them. Slack's rate
// limit guide ("Rate limits", docs.slack.dev/apis/web-api/rate-limits)
// evaluates most methods per method, per app, per workspace, in tiers: Tier 3
// "50+ per minute" ("sporadic bursts are welcome"), Tier 4 "100+ per minute"
// ("generous burst behavior"). chat.postMessage has a special tier; its
// reference says it "will generally allow an app to post 1 message per second
// to a specific channel", with "limits governing your app's relationship with
// the entire workspace above that, limiting posting to several hundred
// messages per minute", and the guide's "Posting messages" row: "1 per
// second; short bursts >1 allowed". Over a limit Slack answers HTTP 429 with
// a Retry-After header, the seconds to wait before calling again.
//
// The figures are the documented minimums ("50+" is taken as 50), so the
// bench errs on Slack's strict side. The bursts are the bench's choice, as
// Slack gives none: 5 messages for a channel ("short bursts >1"), a tenth of
// a minute's quota for a workspace-wide limit, a fifth for Tier 4's
// "generous" bursts. The workspace-wide cap of chat.postMessage is not
// published beyond "several hundred messages per minute": 300 is taken.
//
// chat.postEphemeral (Tier 4 at Slack) is not limited here: the click
// scenarios (c) and (e) count the click answers that go through it and wait
// for them. auth.test (special tier, hundreds per minute) is not limited
// either: each bot calls it at start.
type slackLimit struct {
	method     string
	perChannel bool // one bucket per channel; else one per workspace
	perMinute  float64
	burst      int
	rule       string // Slack's documented rule
}

var slackLimits = []slackLimit{
	{"chat.postMessage", true, 60, 5, "special tier: 1 message per second per channel, short bursts >1 allowed"},
	{"chat.postMessage", false, 300, 30, `special tier: a workspace-wide limit of "several hundred messages per minute"`},
	{"chat.update", false, 50, 5, "Tier 3: 50+ per minute per workspace, sporadic bursts"},
	{"conversations.open", false, 50, 5, "Tier 3: 50+ per minute per workspace, sporadic bursts"},
	{"views.open", false, 100, 20, "Tier 4: 100+ per minute per workspace, generous bursts"},
	{"views.update", false, 100, 20, "Tier 4: 100+ per minute per workspace, generous bursts"},
	{"views.publish", false, 100, 20, "Tier 4: 100+ per minute per workspace, generous bursts"},
}

func (l slackLimit) String() string {
	scope := "per workspace"
	if l.perChannel {
		scope = "per channel"
	}
	return fmt.Sprintf("%s %s: %g/min (one every %s), burst %d — %s", l.method, scope, l.perMinute,
		time.Duration(float64(time.Minute)/l.perMinute).Round(time.Millisecond), l.burst, l.rule)
}

// rateLimits holds one token bucket per limit and, for per-channel limits,
// per channel. The fake has one workspace (team T1) and one app (one bot
// token shared by every replica, as in production).
type rateLimits struct {
	limits []slackLimit
	mu     sync.Mutex
	bucket map[bucketKey]*rate.Limiter
}

type bucketKey struct {
	limit   int // index into limits
	channel string
}

func newRateLimits(limits []slackLimit) *rateLimits {
	return &rateLimits{limits: limits, bucket: map[bucketKey]*rate.Limiter{}}
}

// reset refills every bucket: each scenario starts with Slack's quota
// unused, whatever the scenario before it left behind.
func (rl *rateLimits) reset() {
	if rl == nil {
		return
	}
	rl.mu.Lock()
	rl.bucket = map[bucketKey]*rate.Limiter{}
	rl.mu.Unlock()
}

// admit takes a token from every bucket method's call on channel falls
// under. It returns 0 when the call may pass; else the Retry-After Slack
// would give, in whole seconds (at least 1), and no bucket is charged.
func (rl *rateLimits) admit(method, channel string, now time.Time) (retryAfter int) {
	if rl == nil {
		return 0
	}
	var taken []*rate.Reservation
	var wait time.Duration
	rl.mu.Lock()
	for i, l := range rl.limits {
		if l.method != method {
			continue
		}
		k := bucketKey{limit: i}
		if l.perChannel {
			k.channel = channel
		}
		b := rl.bucket[k]
		if b == nil {
			b = rate.NewLimiter(rate.Limit(l.perMinute/60), l.burst)
			rl.bucket[k] = b
		}
		r := b.ReserveN(now, 1)
		if !r.OK() {
			wait = max(wait, time.Minute)
			continue
		}
		taken = append(taken, r)
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		// Refused: give the tokens back, so a refused call costs nothing.
		for _, r := range taken {
			r.CancelAt(now)
		}
	}
	rl.mu.Unlock()
	if wait <= 0 {
		return 0
	}
	return max(1, int(math.Ceil(wait.Seconds())))
}

// refuse answers a call over a limit the way Slack does: 429, Retry-After
// in seconds, {"ok":false,"error":"ratelimited"}.
func refuse(w http.ResponseWriter, retryAfter int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
}

// slackUse is what the fake Slack saw: calls (refused ones included) and
// calls answered 429, per method.
type slackUse struct{ calls, limited map[string]int64 }

// since is the calls and 429s after before.
func (u slackUse) since(before slackUse) slackUse {
	d := slackUse{calls: map[string]int64{}, limited: map[string]int64{}}
	for m, n := range u.calls {
		if n -= before.calls[m]; n > 0 {
			d.calls[m] = n
		}
	}
	for m, n := range u.limited {
		if n -= before.limited[m]; n > 0 {
			d.limited[m] = n
		}
	}
	return d
}

// add is the sum of u and v (runs of one setup).
func (u slackUse) add(v slackUse) slackUse {
	s := slackUse{calls: maps.Clone(u.calls), limited: maps.Clone(u.limited)}
	if s.calls == nil {
		s.calls, s.limited = map[string]int64{}, map[string]int64{}
	}
	for m, n := range v.calls {
		s.calls[m] += n
	}
	for m, n := range v.limited {
		s.limited[m] += n
	}
	return s
}

func (u slackUse) totals() (calls, limited int64) {
	for _, n := range u.calls {
		calls += n
	}
	for _, n := range u.limited {
		limited += n
	}
	return calls, limited
}

// String is the figure of a row: "Slack 812 calls, 790 answered 429
// (chat.postMessage 700 of 710, chat.update 90 of 102)".
func (u slackUse) String() string {
	calls, limited := u.totals()
	s := fmt.Sprintf("Slack %d calls, %d answered 429", calls, limited)
	if limited == 0 {
		return s
	}
	var parts []string
	for _, m := range slices.Sorted(maps.Keys(u.limited)) {
		parts = append(parts, fmt.Sprintf("%s %d of %d", m, u.limited[m], u.calls[m]))
	}
	return s + " (" + strings.Join(parts, ", ") + ")"
}
