package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/onboardbot/onboardbot/handlers/chat"
)

// The pacing tests run the client against the fake Slack with small real
// limits. They assert counts, order and lower bounds of time (which load
// only makes longer), never that something was fast.

// enforce makes the fake answer 429 with Retry-After 1 to the calls of
// method beyond perSecond (burst at once), per channel when perChannel, as
// Slack does.
func (f *fakeSlack) enforce(method string, perChannel bool, perSecond float64, burst int) {
	buckets := map[string]*rate.Limiter{}
	before := f.refuse
	f.refuse = func(c fakeCall) string {
		if before != nil {
			if ra := before(c); ra != "" {
				return ra
			}
		}
		if c.Method != method {
			return ""
		}
		k := ""
		if perChannel {
			k = c.Form.Get("channel")
		}
		if buckets[k] == nil {
			buckets[k] = rate.NewLimiter(rate.Limit(perSecond), burst)
		}
		if !buckets[k].AllowN(c.At, 1) {
			return "1"
		}
		return ""
	}
}

func (f *fakeSlack) refusals(method string) int {
	n := 0
	for _, c := range f.callsOf(method) {
		if c.Refused {
			n++
		}
	}
	return n
}

// pacedAPI is a test client whose method is paced at perSecond (burst),
// chat.postMessage per channel at channelPerSecond; the rest as fastRules.
func pacedAPI(t *testing.T, method string, perSecond float64, burst int, channelPerSecond float64) *testAPI {
	ta := newTestAPI(t)
	rules := fastRules()
	rules[method] = paceRule{60 * perSecond, burst}
	ta.pace = newPacer(rules, paceRule{60 * channelPerSecond, 1})
	return ta
}

// postInOrder posts "0".."n-1" into channel from n goroutines, each started
// once the one before has its place in the channel's queue, and returns
// their errors.
func postInOrder(ta *testAPI, channel string, n int) []error {
	entered := make(chan struct{})
	ta.pace.entered = func(string, string) { entered <- struct{}{} }
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = ta.Post(context.Background(), channel, chat.Message{Text: strconv.Itoa(i)}) })
		<-entered
	}
	wg.Wait()
	return errs
}

// delivered is the text of every chat.postMessage Slack accepted, in order.
func delivered(f *fakeSlack) []string {
	var out []string
	for _, c := range f.callsOf(methodPost) {
		if !c.Refused {
			out = append(out, c.Form.Get("text"))
		}
	}
	return out
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

func TestPostsIntoOneChannelArriveInOrder(t *testing.T) {
	t.Parallel()
	const n = 15
	ta := pacedAPI(t, methodPost, 1000, 100, 10) // 10/s into one channel
	ta.fake.enforce(methodPost, true, 20, 3)     // Slack's limit, above the client's
	start := time.Now()
	for i, err := range postInOrder(ta, "C1", n) {
		if err != nil {
			t.Errorf("post %d: %v", i, err)
		}
	}
	if got := delivered(ta.fake); !slices.Equal(got, numbered(n)) {
		t.Fatalf("delivered %q, want 0..%d in order", got, n-1)
	}
	refused := ta.fake.refusals(methodPost)
	t.Logf("%d posts into one channel: %d 429s drawn, %s", n, refused, time.Since(start).Round(time.Millisecond))
	if refused > 1 {
		t.Errorf("%d 429s drawn, want 0 (1 tolerated)", refused)
	}
	if d, least := time.Since(start), (n-1)*90*time.Millisecond; d < least {
		t.Errorf("%d posts took %s: not paced at 10/s (at least %s)", n, d, least)
	}
}

// A post refused with 429 holds the posts behind it until it is through:
// nobody calls into the channel within the Retry-After, nothing is dropped,
// nothing overtakes.
func TestRefusedPostKeepsItsPlace(t *testing.T) {
	t.Parallel()
	const n = 8
	ta := pacedAPI(t, methodPost, 1000, 100, 50)
	ta.fake.refuse = func(c fakeCall) string {
		if c.Method == methodPost && c.Form.Get("text") == "3" && !slices.ContainsFunc(ta.fake.calls, func(c fakeCall) bool { return c.Refused }) {
			return "1"
		}
		return ""
	}
	for i, err := range postInOrder(ta, "C1", n) {
		if err != nil {
			t.Errorf("post %d: %v", i, err)
		}
	}
	if got := delivered(ta.fake); !slices.Equal(got, numbered(n)) {
		t.Fatalf("delivered %q, want 0..%d in order", got, n-1)
	}
	calls := ta.fake.callsOf(methodPost)
	i := slices.IndexFunc(calls, func(c fakeCall) bool { return c.Refused })
	if i < 0 || calls[i+1].At.Sub(calls[i].At) < time.Second {
		t.Fatalf("the call after the 429 came %s after it, want ≥ Retry-After 1s", calls[i+1].At.Sub(calls[i].At))
	}
}

// A 429 for one caller makes every caller of the method wait out the
// Retry-After; then they go at the method's pace, not all at once. Other
// methods go on.
func TestRetryAfterIsSharedByTheMethod(t *testing.T) {
	t.Parallel()
	ta := pacedAPI(t, "views.publish", 10, 5, 1000)
	ta.fake.refuse = func(c fakeCall) string {
		if c.Method == "views.publish" && len(ta.fake.calls) == 0 {
			return "2"
		}
		return ""
	}
	ctx := context.Background()
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab}
	errs := make(chan error, 9)
	var wg sync.WaitGroup
	wg.Go(func() { errs <- ta.PublishHomeView(ctx, "U0", home) })
	waitUntil(t, "the 429's gate", func() bool { return !ta.pace.gate(ta.pace.keys("views.publish", "")).IsZero() })
	for i := range 8 {
		wg.Go(func() { errs <- ta.PublishHomeView(ctx, fmt.Sprint("U", i+1), home) })
	}
	launched := time.Now()
	if _, err := ta.OpenView(ctx, "1.2.trigger", slack.ModalViewRequest{Type: slack.VTModal}); err != nil {
		t.Errorf("views.open during views.publish's gate: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("PublishHomeView: %v", err)
		}
	}
	calls := ta.fake.callsOf("views.publish")
	if len(calls) != 10 || !calls[0].Refused || ta.fake.refusals("views.publish") != 1 {
		t.Fatalf("%d views.publish calls, %d refused; want the first refused, then 9 through", len(calls), ta.fake.refusals("views.publish"))
	}
	open := calls[0].At.Add(2 * time.Second)
	if opened := ta.fake.callsOf("views.open")[0].At; !opened.Before(open) {
		t.Errorf("views.open waited for views.publish's gate")
	}
	for k, c := range calls[1:] {
		if c.At.Before(open) {
			t.Fatalf("call %d came %s after the 429, inside Retry-After 2s", k+1, c.At.Sub(calls[0].At))
		}
		// After the gate, one token (less than two), then 10/s: the bucket
		// was emptied, its burst of 5 is not there.
		if least := open.Add(time.Duration(k-1) * 90 * time.Millisecond); launched.Before(open) && c.At.Before(least) {
			t.Errorf("call %d after the gate came %s after it, want ≥ %s (paced)", k, c.At.Sub(open), least.Sub(open))
		}
	}
}

// A storm of updates of three messages: each message gets few chat.updates,
// its content only ever newer, its final content last; none is lost.
func TestUpdateStormCoalesced(t *testing.T) {
	t.Parallel()
	const n = 200
	ta := pacedAPI(t, "chat.update", 10, 1, 1000)
	ta.fake.enforce("chat.update", false, 20, 3)
	ta.SlackAPI.clock = realClock{}
	ta.updateEvery = 100 * time.Millisecond
	messages := []string{"1.1", "2.2", "3.3"}
	start := time.Now()
	var wg sync.WaitGroup
	for _, ts := range messages {
		wg.Go(func() {
			for i := range n {
				if err := ta.Update(context.Background(), "C1", ts, chat.Message{Text: fmt.Sprintf("%s %03d", ts, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	storm := time.Since(start)
	sent := func(ts string) []string {
		var out []string
		for _, c := range ta.fake.callsOf("chat.update") {
			if c.Form.Get("ts") == ts && !c.Refused {
				out = append(out, c.Form.Get("text"))
			}
		}
		return out
	}
	for _, ts := range messages {
		final := fmt.Sprintf("%s %03d", ts, n-1)
		waitUntil(t, final, func() bool { got := sent(ts); return len(got) > 0 && got[len(got)-1] == final })
		got := sent(ts)
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("%s: %q, an older content after a newer", ts, got)
		}
		// One at once, then at most one per window the storm lasted.
		if most := min(n/10, 2+int(storm/ta.updateEvery)); len(got) > most {
			t.Errorf("%s: %d chat.updates for %d updates in %s, want ≤ %d", ts, len(got), n, storm, most)
		}
		t.Logf("%s: %d updates → %d chat.updates", ts, n, len(got))
	}
	if r := ta.fake.refusals("chat.update"); r > 1 {
		t.Errorf("%d 429s drawn", r)
	}
}

// While chat.update is held by a 429, Update does not hold its caller: the
// content waits, and the send that goes when the gate opens carries the
// newest content, including what came while it waited: one call.
func TestUpdateWaitingTakesNewest(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ta.pace.refused("chat.update", "", 2*time.Second) // Slack said wait
	update := func(from, to int) {
		for i := from; i <= to; i++ {
			if err := ta.Update(context.Background(), "C1", "1.1", chat.Message{Text: strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	update(0, 50)
	if got := updateTexts(ta.fake); len(got) != 0 {
		t.Fatalf("chat.updates %q while the gate was closed: an Update waited for it", got)
	}
	flushed := make(chan struct{})
	go func() { ta.clock.Advance(0); close(flushed) }() // the deferred send, which waits for the gate
	waitUntil(t, "the deferred send to wait", func() bool {
		ta.mu.Lock()
		defer ta.mu.Unlock()
		return ta.updates[msgKey{"C1", "1.1"}].busy == 1
	})
	update(51, 100)
	inTime := !ta.pace.gate(ta.pace.keys("chat.update", "")).IsZero()
	<-flushed
	ta.clock.Advance(time.Minute) // the timer of 51..100
	got := updateTexts(ta.fake)
	if len(got) == 0 || got[len(got)-1] != "100" || len(got) > 2 {
		t.Fatalf("chat.updates %q, want the newest, 100, in at most 2", got)
	}
	if inTime && len(got) != 1 {
		t.Errorf("chat.updates %q: the waiting send did not take the newest content", got)
	}
}

// An update refused with a Retry-After past its caller's deadline is
// deferred, not dropped.
func TestUpdatePastDeadlineDeferred(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ta.fake.limited["chat.update"] = 1 // Retry-After: 1
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := ta.Update(ctx, "C1", "1.1", chat.Message{Text: "final"}); err != nil {
		t.Fatalf("Update = %v, want the content kept for later", err)
	}
	ta.clock.Advance(updateEvery) // sends once the Retry-After has passed
	if got := updateTexts(ta.fake); !slices.Equal(got, []string{"final", "final"}) {
		t.Fatalf("chat.updates %q, want the refused one, then it again", got)
	}
}

// Click answers have their own bucket: a backlog of posts does not hold
// them back.
func TestClickAnswersNotBehindPosts(t *testing.T) {
	t.Parallel()
	const n = 30
	ta := pacedAPI(t, methodPost, 10, 1, 10) // 3 s of posts
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := ta.Post(context.Background(), fmt.Sprint("C", i%3), chat.Message{Text: strconv.Itoa(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	waitUntil(t, "the first post", func() bool { return len(ta.fake.callsOf(methodPost)) > 0 })
	for i := range 5 {
		if err := ta.Ephemeral(context.Background(), "C0", "U0ALICE", chat.Message{Text: fmt.Sprint("answer ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	posted := len(ta.fake.callsOf(methodPost))
	wg.Wait()
	t.Logf("5 click answers out while %d of %d posts were", posted, n)
	if posted >= n/2 {
		t.Errorf("the click answers went out after %d of %d posts: they queued behind them", posted, n)
	}
}

// The buckets stay under Slack's documented limits, each method its own.
func TestPaceRulesUnderSlacksTiers(t *testing.T) {
	t.Parallel()
	documented := map[string]float64{ // per minute, the documented minimum
		methodPost: 300, "chat.update": 50, "conversations.open": 50, "chat.postEphemeral": 100,
		"views.open": 100, "views.update": 100, "views.publish": 100, "usergroups.users.list": 20,
	}
	for method, floor := range documented {
		r, ok := paceRules[method]
		if !ok || r.perMinute > floor || r.perMinute < 0.8*floor || r.burst < 1 {
			t.Errorf("%s: %+v, want a bucket just under %g/min", method, r, floor)
		}
	}
	if channelRule.perMinute > 60 || channelRule.burst < 1 {
		t.Errorf("chat.postMessage per channel: %+v, want at most 1 a second", channelRule)
	}
	if _, ok := paceRules["auth.test"]; ok {
		t.Error("auth.test paced")
	}
	p := newPacer(paceRules, channelRule)
	if k := p.keys("chat.postEphemeral", "C1"); len(k) != 1 || k[0].method != "chat.postEphemeral" {
		t.Errorf("click answers fall under %v, want their own bucket only", k)
	}
}

// A 429 empties the bucket until the Retry-After: one token when the gate
// opens, whatever the burst (beyond maxDrain the bucket refills as usual).
func TestRefusedEmptiesTheBucket(t *testing.T) {
	t.Parallel()
	for _, ra := range []time.Duration{0, time.Second, 30 * time.Second, time.Hour} {
		p := newPacer(map[string]paceRule{"chat.update": {60, 5}}, channelRule)
		p.refused("chat.update", "", ra)
		until := p.gate(p.keys("chat.update", ""))
		if until.IsZero() {
			t.Fatalf("Retry-After %s: gate open", ra)
		}
		b := p.buckets[paceKey{"chat.update", ""}]
		if tok := b.lim.TokensAt(until); ra <= maxDrain && (tok < 1 || tok >= 2) {
			t.Errorf("Retry-After %s: %.2f tokens when the gate opens, want 1", ra, tok)
		}
	}
}

// Slack's workspace cap of chat.postMessage shows as 429s in two channels
// at once: then every channel waits; a 429 in one channel holds only it.
func TestWorkspaceGateOfPosts(t *testing.T) {
	t.Parallel()
	p := newPacer(paceRules, channelRule)
	closed := func(ch string) bool { return !p.gate(p.keys(methodPost, ch)).IsZero() }
	p.refused(methodPost, "C1", 5*time.Second)
	p.refused(methodPost, "C1", 5*time.Second)
	if !closed("C1") || closed("C3") {
		t.Fatalf("after 429s in C1: C1 closed %v, C3 closed %v; want only C1", closed("C1"), closed("C3"))
	}
	p.refused(methodPost, "C2", 5*time.Second)
	if !closed("C3") {
		t.Fatal("after 429s in C1 and C2, C3 may still post")
	}
	if closed := !p.gate(p.keys("chat.postEphemeral", "C3")).IsZero(); closed {
		t.Error("click answers held by chat.postMessage's gate")
	}
}

// A post whose caller gives up while queued leaves the queue, but the one
// behind it still waits for the post ahead.
func TestLeavingTheQueueKeepsOrder(t *testing.T) {
	t.Parallel()
	p := newPacer(paceRules, channelRule)
	first, err := p.turn(context.Background(), methodPost, "C1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error)
	go func() { _, err := p.turn(ctx, methodPost, "C1"); left <- err }()
	waitUntil(t, "the second in the queue", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.buckets[paceKey{methodPost, "C1"}].tail != nil
	})
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-left; err == nil {
		t.Fatal("a caller whose context ended got its turn")
	}
	third := make(chan struct{})
	go func() {
		done, err := p.turn(context.Background(), methodPost, "C1")
		if err == nil {
			done()
		}
		close(third)
	}()
	select {
	case <-third:
		t.Fatal("the third post overtook the first")
	case <-time.After(50 * time.Millisecond):
	}
	first()
	<-third
}

// A DM whose post gave up under the rate limit keeps its channel: the
// next DM does not open it again.
func TestDMKeepsItsChannelOverARateLimit(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ta.fake.limited[methodPost] = 1 // Retry-After: 1
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := ta.DM(ctx, "U0ALICE", chat.Message{Text: "first"}); !errors.Is(err, errGaveUp) {
		t.Fatalf("DM = %v, want it given up under the rate limit", err)
	}
	if err := ta.DM(context.Background(), "U0ALICE", chat.Message{Text: "second"}); err != nil {
		t.Fatal(err)
	}
	if n := len(ta.fake.callsOf("conversations.open")); n != 1 {
		t.Errorf("conversations.open called %d times, want 1", n)
	}
	if got := delivered(ta.fake); !slices.Equal(got, []string{"second"}) {
		t.Errorf("delivered %q", got)
	}
}
