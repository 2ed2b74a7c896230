package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
)

const testToken = "xoxb-TESTTOKEN-9999"

// fakeSlack is a Slack Web API that records calls. slacktest lacks
// chat.update, views.* and conversations.open, which are what matter here.
type fakeSlack struct {
	srv *httptest.Server

	mu         sync.Mutex
	calls      []fakeCall
	limited    map[string]int // method → 429s still to answer
	retryAfter string         // Retry-After of those 429s, "1" unless set
	// refuse, when set, is asked about every call (f.mu held): a non-empty
	// Retry-After answers it 429, as Slack's rate limits would.
	refuse    func(c fakeCall) (retryAfter string)
	failWith  map[string]string
	nextTS    int
	openCount int
}

type fakeCall struct {
	Method  string
	Form    url.Values
	JSON    map[string]any
	At      time.Time // when it arrived
	Refused bool      // answered 429
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{limited: map[string]int{}, failWith: map[string]string{}, retryAfter: "1"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) url() string { return f.srv.URL + "/api/" }

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	call := fakeCall{Method: method, At: time.Now()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &call.JSON)
	} else {
		_ = r.ParseForm()
		call.Form = r.PostForm
	}
	f.mu.Lock()
	retryAfter := ""
	if f.limited[method] > 0 {
		f.limited[method]--
		retryAfter = f.retryAfter
	} else if f.refuse != nil {
		retryAfter = f.refuse(call)
	}
	call.Refused = retryAfter != ""
	f.calls = append(f.calls, call)
	if call.Refused {
		f.mu.Unlock()
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if e := f.failWith[method]; e != "" {
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, e)
		return
	}
	f.nextTS++
	ts := fmt.Sprintf("1700000000.%06d", f.nextTS)
	if method == "conversations.open" {
		f.openCount++
	}
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "chat.postMessage", "chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, call.Form.Get("channel"), ts)
	case "chat.postEphemeral":
		fmt.Fprintf(w, `{"ok":true,"message_ts":%q}`, ts)
	case "conversations.open":
		fmt.Fprintf(w, `{"ok":true,"channel":{"id":"D%s"}}`, strings.Trim(call.Form.Get("users"), "U"))
	case "auth.test":
		io.WriteString(w, `{"ok":true,"user_id":"U0BOT","team_id":"T1"}`)
	case "views.open", "views.update", "views.publish":
		io.WriteString(w, `{"ok":true,"view":{"id":"V0MODAL","hash":"h1"}}`)
	case "usergroups.users.list":
		io.WriteString(w, `{"ok":true,"users":["U0BOB","U0CAROL"]}`)
	default:
		io.WriteString(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

func (f *fakeSlack) callsOf(method string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// fakeClock runs timers synchronously when Advance passes their time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.done
		t.done = true
		return was
	}
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

type testAPI struct {
	*SlackAPI
	fake    *fakeSlack
	clock   *fakeClock
	metrics *Metrics
	logs    *syncBuffer
}

// fastRules are Slack's rules a hundred times faster: the tests of what the
// client sends are not slowed by pacing; the pacing tests set their own.
func fastRules() map[string]paceRule {
	fast := map[string]paceRule{}
	for m, r := range paceRules {
		fast[m] = paceRule{100 * r.perMinute, 100 * r.burst}
	}
	return fast
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	logs := &syncBuffer{}
	logger := logrus.New()
	logger.SetOutput(logs)
	logger.SetLevel(logrus.DebugLevel)
	ta := &testAPI{fake: newFakeSlack(t), clock: &fakeClock{now: time.Unix(1_700_000_000, 0)}, metrics: NewMetrics(), logs: logs}
	ta.SlackAPI = NewSlackAPI(testToken, ta.fake.url(), logrus.NewEntry(logger)).WithMetrics(ta.metrics)
	ta.SlackAPI.clock = ta.clock
	ta.SlackAPI.pace = newPacer(fastRules(), paceRule{100 * channelRule.perMinute, 100 * channelRule.burst})
	return ta
}

func TestMessages(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ctx := context.Background()
	msg := chat.Message{Text: "R-1 needs approval", Blocks: []slack.Block{slack.NewDividerBlock()}, Outcome: "✅ never sent"}

	ts, err := ta.Post(ctx, "C0APPROVALS", msg)
	if err != nil || ts == "" {
		t.Fatalf("Post = %q, %v", ts, err)
	}
	if err := ta.PostThread(ctx, "C0APPROVALS", ts, chat.Message{Text: "approved"}); err != nil {
		t.Fatal(err)
	}
	if err := ta.Ephemeral(ctx, "C0GENERAL", "U0ALICE", chat.Message{Text: "only you"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := ta.DM(ctx, "U0ALICE", chat.Message{Text: "your request"}); err != nil {
			t.Fatal(err)
		}
	}

	posts := ta.fake.callsOf("chat.postMessage")
	if len(posts) != 4 {
		t.Fatalf("%d chat.postMessage calls, want 4", len(posts))
	}
	first := posts[0].Form
	if first.Get("channel") != "C0APPROVALS" || first.Get("text") != "R-1 needs approval" || !strings.Contains(first.Get("blocks"), `"divider"`) {
		t.Errorf("post form = %v", first)
	}
	for _, p := range posts {
		if strings.Contains(p.Form.Encode(), "never+sent") {
			t.Error("Outcome reached Slack")
		}
	}
	if posts[1].Form.Get("thread_ts") != ts {
		t.Errorf("thread_ts = %q, want %q", posts[1].Form.Get("thread_ts"), ts)
	}
	if posts[2].Form.Get("channel") != "D0ALICE" || posts[3].Form.Get("channel") != "D0ALICE" {
		t.Errorf("DMs went to %q, %q", posts[2].Form.Get("channel"), posts[3].Form.Get("channel"))
	}
	if n := len(ta.fake.callsOf("conversations.open")); n != 1 {
		t.Errorf("conversations.open called %d times, want 1 (cached)", n)
	}
	eph := ta.fake.callsOf("chat.postEphemeral")
	if len(eph) != 1 || eph[0].Form.Get("user") != "U0ALICE" {
		t.Errorf("ephemeral calls = %+v", eph)
	}
	if got := testutil.ToFloat64(ta.metrics.slackCalls.WithLabelValues("chat.postMessage")); got != 4 {
		t.Errorf("slack_api_calls_total{chat.postMessage} = %v, want 4", got)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		limited    int
		retryAfter string
		timeout    time.Duration
		wantErr    bool
		wantCalls  func(n int) bool
	}{
		{"two 429s then ok", 2, "0", 0, false, func(n int) bool { return n == 3 }},
		{"no cap on the retries of 429s", 10, "0", 0, false, func(n int) bool { return n == 11 }},
		{"deadline before Retry-After", 1, "1", 500 * time.Millisecond, true, func(n int) bool { return n == 1 }},
		{"retried until the context ends", 1 << 20, "0", 300 * time.Millisecond, true, func(n int) bool { return n > 4 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ta := newTestAPI(t)
			ta.fake.limited["chat.postMessage"] = tt.limited
			ta.fake.retryAfter = tt.retryAfter
			ta.pace.minGate = 20 * time.Millisecond // Retry-After 0
			ctx, cancel := context.WithCancel(context.Background())
			if tt.timeout > 0 {
				ctx, cancel = context.WithTimeout(context.Background(), tt.timeout)
			}
			defer cancel()
			_, err := ta.Post(ctx, "C1", chat.Message{Text: "hi"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			var rl *slack.RateLimitedError
			if err != nil && (!errors.As(err, &rl) || !errors.Is(err, context.DeadlineExceeded)) {
				t.Errorf("err %v does not wrap *slack.RateLimitedError and the deadline", err)
			}
			n := len(ta.fake.callsOf("chat.postMessage"))
			if !tt.wantCalls(n) {
				t.Errorf("%d calls", n)
			}
			// The context may end during the last call, which then got no answer.
			if got := testutil.ToFloat64(ta.metrics.slackRateLimited.WithLabelValues("chat.postMessage")); int(got) != min(tt.limited, n) && (tt.timeout == 0 || int(got) != n-1) {
				t.Errorf("rate_limited_total = %v, want %d", got, min(tt.limited, n))
			}
		})
	}
}

func TestWaitIsContextAware(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleepCtx = %v, want context.Canceled", err)
	}
}

func updateTexts(f *fakeSlack) []string {
	var out []string
	for _, c := range f.callsOf("chat.update") {
		out = append(out, c.Form.Get("text"))
	}
	return out
}

func TestUpdateThrottle(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ctx := context.Background()
	for i := range 10 {
		if err := ta.Update(ctx, "C1", "1.1", chat.Message{Text: fmt.Sprintf("step %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if b := ta.fake.callsOf("chat.update")[0].Form.Get("blocks"); b != "[]" {
		t.Errorf("an update without blocks sent blocks=%q, want [] so old buttons go", b)
	}
	if got := updateTexts(ta.fake); !slices.Equal(got, []string{"step 0"}) {
		t.Fatalf("within the window: %q, want only the first", got)
	}
	// Another message has its own window.
	if err := ta.Update(ctx, "C1", "2.2", chat.Message{Text: "other"}); err != nil {
		t.Fatal(err)
	}
	ta.clock.Advance(time.Second)
	if n := len(ta.fake.callsOf("chat.update")); n != 2 {
		t.Fatalf("%d updates before the window opened, want 2", n)
	}
	ta.clock.Advance(time.Second)
	if got := updateTexts(ta.fake); !slices.Equal(got, []string{"step 0", "other", "step 9"}) {
		t.Fatalf("after the window: %q, want the newest content sent", got)
	}
	// Once the window has passed with nothing pending, an update goes at once.
	ta.clock.Advance(3 * time.Second)
	_ = ta.Update(ctx, "C1", "1.1", chat.Message{Text: "done"})
	if got := updateTexts(ta.fake); got[len(got)-1] != "done" || len(got) != 4 {
		t.Fatalf("final update: %q", got)
	}
}

func TestUpdateFlushOnShutdown(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ctx, cancel := context.WithCancel(context.Background())
	_ = ta.Update(ctx, "C1", "1.1", chat.Message{Text: "first"})
	_ = ta.Update(ctx, "C1", "1.1", chat.Message{Text: "last"})
	cancel() // the caller's request is over; its update must still go out
	ta.Flush(context.Background())
	if got := updateTexts(ta.fake); !slices.Equal(got, []string{"first", "last"}) {
		t.Fatalf("after Flush: %q", got)
	}
	ta.clock.Advance(time.Minute) // the stale timer must not send again
	if n := len(ta.fake.callsOf("chat.update")); n != 2 {
		t.Fatalf("%d updates, want 2", n)
	}
}

func TestUpdateConcurrent(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_ = ta.Update(context.Background(), "C1", "1.1", chat.Message{Text: fmt.Sprint(i)})
		})
	}
	wg.Wait()
	ta.clock.Advance(updateEvery)
	if n := len(ta.fake.callsOf("chat.update")); n != 2 {
		t.Fatalf("%d chat.update calls for 20 concurrent updates, want 2", n)
	}
}

func TestViewsAuthGroups(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ctx := context.Background()
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "New customer", false, false)}

	if err := ta.AuthTest(ctx); err != nil {
		t.Errorf("AuthTest: %v", err)
	}
	if id, err := ta.OpenView(ctx, "1.2.trigger", modal); err != nil || id != "V0MODAL" {
		t.Errorf("OpenView = %q, %v", id, err)
	}
	if err := ta.UpdateView(ctx, "V0MODAL", "h1", modal); err != nil {
		t.Errorf("UpdateView: %v", err)
	}
	if err := ta.PublishHomeView(ctx, "U0ALICE", slack.HomeTabViewRequest{Type: slack.VTHomeTab}); err != nil {
		t.Errorf("PublishHomeView: %v", err)
	}
	if users, err := ta.UserGroupMembers(ctx, "S0APPROVERS"); err != nil || !slices.Equal(users, []string{"U0BOB", "U0CAROL"}) {
		t.Errorf("UserGroupMembers = %v, %v", users, err)
	}
	if c := ta.fake.callsOf("views.open"); len(c) != 1 || c[0].JSON["trigger_id"] != "1.2.trigger" {
		t.Errorf("views.open calls = %+v", c)
	}
	if c := ta.fake.callsOf("views.update"); len(c) != 1 || c[0].JSON["view_id"] != "V0MODAL" || c[0].JSON["hash"] != "h1" {
		t.Errorf("views.update calls = %+v", c)
	}
	if c := ta.fake.callsOf("views.publish"); len(c) != 1 || c[0].JSON["user_id"] != "U0ALICE" {
		t.Errorf("views.publish calls = %+v", c)
	}

	ta.fake.failWith["views.update"] = "hash_conflict"
	if err := ta.UpdateView(ctx, "V0MODAL", "old", modal); !errors.Is(err, ErrViewHashConflict) {
		t.Errorf("UpdateView on a stale hash = %v, want ErrViewHashConflict", err)
	}
}

func TestErrorsAndLogsHideToken(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ctx := context.Background()
	ta.fake.failWith["auth.test"] = "invalid_auth"
	ta.fake.failWith["conversations.open"] = "user_not_found"
	ta.fake.failWith["chat.update"] = "message_not_found"
	var errs []error
	errs = append(errs, ta.AuthTest(ctx))
	errs = append(errs, ta.DM(ctx, "U0NOBODY", chat.Message{Text: "x"}))
	errs = append(errs, ta.Update(ctx, "C1", "1.1", chat.Message{Text: "x"}))
	dead := NewSlackAPI(testToken, "http://127.0.0.1:1/api/", nil)
	errs = append(errs, dead.AuthTest(ctx))
	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("call %d: token in error %q", i, err)
		}
	}
	if !strings.Contains(errs[0].Error(), "invalid_auth") {
		t.Errorf("AuthTest error %q does not say why", errs[0])
	}
	if strings.Contains(ta.logs.String(), testToken) {
		t.Error("token in the logs")
	}
}
