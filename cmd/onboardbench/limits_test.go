package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
)

// A channel's bucket lets its burst through, then refuses with a Retry-After
// of whole seconds; other channels have their own; the workspace-wide bucket
// refuses once enough channels post; a refused call costs no token.
func TestRateLimitsAdmit(t *testing.T) {
	t.Parallel()
	rl := newRateLimits([]slackLimit{
		{"chat.postMessage", true, 60, 2, "per channel"},
		{"chat.postMessage", false, 60, 3, "workspace"},
		{"chat.update", false, 50, 1, "Tier 3"},
	})
	now := time.Unix(1_700_000_000, 0)
	for i := range 2 {
		if w := rl.admit("chat.postMessage", "C1", now); w != 0 {
			t.Fatalf("post %d in C1: refused (%d s), want the burst of 2 through", i+1, w)
		}
	}
	if w := rl.admit("chat.postMessage", "C1", now); w != 1 {
		t.Fatalf("third post in C1: Retry-After %d, want 1", w)
	}
	if w := rl.admit("chat.postMessage", "C2", now); w != 0 {
		t.Fatalf("first post in C2: refused (%d s)", w)
	}
	// The workspace's 3 tokens are spent: C3's own bucket is full but the
	// call is refused, and C3's token is given back.
	if w := rl.admit("chat.postMessage", "C3", now); w != 1 {
		t.Fatalf("post in C3 over the workspace limit: Retry-After %d, want 1", w)
	}
	later := now.Add(time.Second)
	if w := rl.admit("chat.postMessage", "C3", later); w != 0 {
		t.Fatalf("post in C3 a second later: refused (%d s)", w)
	}
	if w := rl.admit("chat.update", "", now); w != 0 {
		t.Fatal("first chat.update refused")
	}
	if w := rl.admit("chat.update", "", now); w != 2 {
		t.Fatalf("second chat.update: Retry-After %d, want 2 (one every 1.2 s)", w)
	}
	if w := rl.admit("auth.test", "", now); w != 0 {
		t.Fatal("a method without a limit was refused")
	}
	rl.reset()
	if w := rl.admit("chat.update", "", now); w != 0 {
		t.Fatal("chat.update refused after reset")
	}
	var none *rateLimits
	if w := none.admit("chat.update", "", now); w != 0 {
		t.Fatal("no limits refused a call")
	}
}

// The fake Slack's 429 is what slack-go reads as *slack.RateLimitedError,
// the error the bot's client waits out; the calls and the 429s are counted.
func TestFakeSlackRateLimited(t *testing.T) {
	t.Parallel()
	f := newFakeSlack([]slackLimit{{"chat.postMessage", true, 60, 1, "per channel"}})
	srv := httptest.NewServer(f)
	defer srv.Close()
	api := slack.New("xoxb-test", slack.OptionAPIURL(srv.URL+"/"))
	ctx := context.Background()
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("one", false)); err != nil {
		t.Fatal(err)
	}
	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("two", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("second post: %v, want a RateLimitedError with Retry-After 1s", err)
	}
	if got := f.use().String(); got != "Slack 2 calls, 1 answered 429 (chat.postMessage 1 of 2)" {
		t.Fatalf("use: %s", got)
	}
	before := f.use()
	if _, _, err := api.PostMessageContext(ctx, "C2", slack.MsgOptionText("three", false)); err != nil {
		t.Fatal(err)
	}
	if got := f.use().since(before).String(); got != "Slack 1 calls, 0 answered 429" {
		t.Fatalf("since: %s", got)
	}
}

// The durable floor answers 200 once the request is in Redis: one number
// drawn, one hash with the form's fields, one index entry; deleteDurable
// leaves no key behind.
func TestDurableFloor(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	mr.Set("bot:keep", "1") // someone else's key
	keys := durableKeys{prefix: "bench-durable:{df}:"}
	srv := httptest.NewServer(durableFloorHandler(signingSecret, rdb, keys))
	defer srv.Close()
	ctx := context.Background()
	for i := range 3 {
		body := commandBody("UALICE", customerText("DF-T"))
		if err := post(ctx, srv.Client(), srv.URL, signingSecret, body, time.Now()); err != "" {
			t.Fatalf("request %d: %s", i, err)
		}
	}
	if err := post(ctx, srv.Client(), srv.URL, "wrong-secret", "text=x", time.Now()); err != "status 401" {
		t.Fatalf("badly signed request: %q, want status 401", err)
	}
	if n, _ := rdb.Get(ctx, keys.seq()).Int(); n != 3 {
		t.Fatalf("seq %d, want 3", n)
	}
	ids, err := rdb.ZRange(ctx, keys.byTime(), 0, -1).Result()
	if err != nil || len(ids) != 3 {
		t.Fatalf("index %v %v, want 3 ids", ids, err)
	}
	h, err := rdb.HGetAll(ctx, keys.request(ids[0])).Result()
	if err != nil || h["user_id"] != "UALICE" || !strings.Contains(h["text"], "external-id=DF-T") || h["received_at"] == "" {
		t.Fatalf("saved request %v %v", h, err)
	}
	n, err := deleteDurable(ctx, rdb, keys)
	if err != nil || n != 3 {
		t.Fatalf("deleted %d, %v; want 3", n, err)
	}
	if left := mr.Keys(); len(left) != 1 || left[0] != "bot:keep" {
		t.Fatalf("keys left: %v, want only bot:keep", left)
	}
}

func TestSlackLimitString(t *testing.T) {
	t.Parallel()
	got := slackLimits[0].String()
	want := "chat.postMessage per channel: 60/min (one every 1s), burst 5 — special tier: 1 message per second per channel, short bursts >1 allowed"
	if got != want {
		t.Fatalf("%s\nwant %s", got, want)
	}
}
