package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// digestHandler is a Handler with digests, on the fixture's store and clock.
func (f *digestFixture) digestHandler(t *testing.T) *Handler {
	t.Helper()
	msg := &digestSent{}
	h := New(Deps{Store: f.st, Messenger: msg, Settings: Settings{ApprovalChannel: "#approvals", Admins: []string{"bob"}},
		Log: quietLog(), Now: f.clk.Now})
	h.digest = f.digester(msg)
	t.Cleanup(h.Wait)
	return h
}

// shownAt builds every digest at occurrence at and finds request id's item.
func shownAt(t *testing.T, h *Handler, at time.Time, id int64) (digest.Item, bool) {
	t.Helper()
	d, err := h.digest.Build(context.Background(), at, "")
	if err != nil {
		t.Fatal(err)
	}
	return itemOf(d, id)
}

// Snooze hides an item from the next day's digest only when it was
// snoozed less than 23 hours before it; the snooze is in the audit trail.
func TestDigestSnooze(t *testing.T) {
	t.Parallel()
	next := occurrence.Add(24 * time.Hour)
	cases := []struct {
		name     string
		before   time.Duration // snoozed this long before the next digest
		hiddenTo bool
	}{
		{"an hour before", time.Hour, true},
		{"22h59m before", 22*time.Hour + 59*time.Minute, true},
		{"exactly 23h before", 23 * time.Hour, false},
		{"right after the previous digest", 24 * time.Hour, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newDigestFixture(t, digestSeeds)
			h := f.digestHandler(t)
			id := f.ids["failed"]
			it, ok := shownAt(t, h, occurrence, id)
			if !ok {
				t.Fatal("the failed request is not in today's digest")
			}
			f.clk.Set(next.Add(-tc.before))
			rep := h.digestButton(ctx, caller{id: "alice", channel: "C1"}, digest.ActionSnooze, it.Key)
			if rep == nil || !strings.HasPrefix(rep.Text, "💤 R-") {
				t.Fatalf("snooze answered %+v", rep)
			}
			if _, shown := shownAt(t, h, next, id); shown == tc.hiddenTo {
				t.Fatalf("snoozed %s before the next digest: shown=%v", tc.before, shown)
			}
			audit, err := f.st.Audit(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			last := audit[len(audit)-1]
			if last.Action != "digest snoozed" || last.Actor != "alice" || !strings.Contains(last.Note, "hidden from digests until") {
				t.Fatalf("audit ends with %+v", last)
			}
		})
	}
}

// Dismiss is for admins, audited, and lasts until the request changes.
func TestDigestDismiss(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newDigestFixture(t, digestSeeds)
	h := f.digestHandler(t)
	id := f.ids["failed"]
	it, _ := shownAt(t, h, occurrence, id)
	if rep := h.digestButton(ctx, caller{id: "alice"}, digest.ActionDismiss, it.Key); rep == nil || !strings.Contains(rep.Text, "only admins") {
		t.Fatalf("a non-admin dismissed: %+v", rep)
	}
	if rep := h.digestButton(ctx, caller{id: "bob"}, digest.ActionDismiss, it.Key); rep == nil || !strings.HasPrefix(rep.Text, "🔕 R-") {
		t.Fatalf("dismiss answered %+v", rep)
	}
	if rep := h.digestButton(ctx, caller{id: "bob"}, digest.ActionDismiss, "failed:R-1"); rep == nil || !strings.Contains(rep.Text, "not valid") {
		t.Fatalf("a malformed key was accepted: %+v", rep)
	}
	later := occurrence.Add(7 * 24 * time.Hour)
	if _, shown := shownAt(t, h, later, id); shown {
		t.Fatal("a dismissed item came back unchanged")
	}
	audit, _ := f.st.Audit(ctx, id)
	if last := audit[len(audit)-1]; last.Action != "digest dismissed" || last.Actor != "bob" {
		t.Fatalf("audit ends with %+v", last)
	}
	// Retried and failed again: a new failure, shown again.
	f.clk.Set(later.Add(-time.Hour))
	if _, err := f.st.Transition(ctx, id, request.Transition{From: []request.State{request.StateFailed}, Actor: "worker", Action: "failed"}); err != nil {
		t.Fatal(err)
	}
	if _, shown := shownAt(t, h, later, id); !shown {
		t.Fatal("a request that changed after its dismissal is not shown")
	}
}

// Past what one category reads, the channel digest counts the rest; a DM
// shows what was read.
func TestDigestCountsWhatItDoesNotRead(t *testing.T) {
	t.Parallel()
	var seeds []seed
	for i := range 5 {
		seeds = append(seeds,
			seed{name: fmt.Sprintf("failed %d", i), kind: request.KindCustomer, state: request.StateFailed, owner: "bob", ago: time.Hour},
			seed{name: fmt.Sprintf("rejected %d", i), kind: request.KindCustomer, state: request.StateRejected, owner: "dave", ago: time.Hour})
	}
	f := newDigestFixture(t, seeds)
	g := digest.New(digest.Deps{Store: f.st, Drafts: f.st.Drafts(7 * 24 * time.Hour), Messenger: &digestSent{},
		Settings: digestThresholds, Log: quietLog(), Fetch: 3})
	d, err := g.Build(context.Background(), occurrence, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Channel.Items) != 3 || d.Channel.More != 2 {
		t.Fatalf("channel: %d items, %d more; want 3 and 2", len(d.Channel.Items), d.Channel.More)
	}
	if dm := d.DMs["dave"]; dm == nil || len(dm.Items) != 3 || dm.More != 0 {
		t.Fatalf("dave's DM: %+v", dm)
	}
	if m := g.Render(d.Channel, true); !strings.Contains(m.Text, ": 5 due") {
		t.Fatalf("the channel digest says %q", m.Text)
	}
}
