package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// digestHandler is a Handler with digests, on the fixture's store and clock.
func (f *digestFixture) digestHandler(t *testing.T) *Handler {
	t.Helper()
	msg := &digestSent{}
	h := New(Deps{Store: f.st, Messenger: msg, Settings: Settings{ApprovalChannel: "#approvals", Admins: []string{"bob"}},
		Log: quietLog(), Now: f.clk.Now})
	h.EnableDigest(f.digester(msg))
	t.Cleanup(h.Wait)
	return h
}

// shownAt builds every digest at occurrence at and finds request id's item.
func shownAt(t *testing.T, h *Handler, at time.Time, id int64) (DigestItem, bool) {
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
			rep := h.digestButton(ctx, caller{id: "alice", channel: "C1"}, actionDigestSnooze, it.Key)
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
	if rep := h.digestButton(ctx, caller{id: "alice"}, actionDigestDismiss, it.Key); rep == nil || !strings.Contains(rep.Text, "only admins") {
		t.Fatalf("a non-admin dismissed: %+v", rep)
	}
	if rep := h.digestButton(ctx, caller{id: "bob"}, actionDigestDismiss, it.Key); rep == nil || !strings.HasPrefix(rep.Text, "🔕 R-") {
		t.Fatalf("dismiss answered %+v", rep)
	}
	if rep := h.digestButton(ctx, caller{id: "bob"}, actionDigestDismiss, "failed:R-1"); rep == nil || !strings.Contains(rep.Text, "not valid") {
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

// Rendered digests stay inside one message's limits and count what they
// leave out; every item has its buttons.
func TestDigestRenderLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 270)
	cases := []struct {
		name    string
		items   int
		more    int
		line    string
		dismiss bool
	}{
		{"one item", 1, 0, "R-1 MS-001: failed", true},
		{"twenty, a title each", 20, 0, "R-1 MS-001: failed", false},
		{"many short", 200, 0, "R-1 MS-001: failed", true},
		{"long lines", 60, 0, "R-1 " + long, true},
		{"unread beyond the fetch", 10, 5000, "R-1 MS-001: failed", true},
	}
	g := NewDigester(DigestDeps{Settings: digestThresholds, Log: quietLog()})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &Digest{Recipient: "U1", More: tc.more}
			for i := range tc.items {
				c := []category{catFailed, catConsent, catDraft, catRejected}[i%4]
				it := DigestItem{Key: itemKey(c, fmt.Sprintf("R-%d", i+1), occurrence), Cat: c, Request: int64(i + 1), Line: tc.line}
				if c == catDraft {
					it.Request, it.Draft = 0, int64(i+1)
				}
				d.Items = append(d.Items, it)
			}
			m := g.render(d, tc.dismiss)
			raw, _ := json.Marshal(m.Blocks)
			if len(m.Blocks) > 50 || len(raw) > 16000 || textChars(m.Blocks) > 12000 {
				t.Fatalf("%d blocks, %d chars of text, %d of JSON", len(m.Blocks), textChars(m.Blocks), len(raw))
			}
			shown := 0
			for _, b := range m.Blocks {
				a, ok := b.(*slack.ActionBlock)
				if !ok {
					continue
				}
				shown++
				labels := buttonLabels(a)
				if !strings.Contains(labels, "Snooze") || strings.Contains(labels, "Dismiss") != tc.dismiss {
					t.Fatalf("buttons %s (dismiss %v)", labels, tc.dismiss)
				}
			}
			rest := tc.items + tc.more - shown
			moreRE := regexp.MustCompile(`… and (\d+) more`)
			got := moreRE.FindStringSubmatch(string(raw))
			switch {
			case rest == 0 && got != nil:
				t.Fatalf("says %q with nothing left out", got[0])
			case rest > 0 && (got == nil || got[1] != strconv.Itoa(rest)):
				t.Fatalf("left out %d, says %v", rest, got)
			}
			if !strings.HasPrefix(m.Text, "📋 digest for <@U1>") {
				t.Fatalf("text %q", m.Text)
			}
		})
	}
}

func textChars(blocks []slack.Block) int {
	n := 0
	for _, b := range blocks {
		switch v := b.(type) {
		case *slack.SectionBlock:
			n += len(v.Text.Text)
		case *slack.ContextBlock:
			for _, e := range v.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					n += len(t.Text)
				}
			}
		case *slack.ActionBlock:
			for _, e := range v.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					n += len(btn.Text.Text) + len(btn.Value) + len(btn.ActionID)
				}
			}
		}
	}
	return n
}

func buttonLabels(a *slack.ActionBlock) string {
	var out []string
	for _, e := range a.Elements.ElementSet {
		if btn, ok := e.(*slack.ButtonBlockElement); ok {
			out = append(out, btn.Text.Text)
		}
	}
	return strings.Join(out, ",")
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
	g := f.digester(&digestSent{})
	g.fetch = 3
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
	if m := g.render(d.Channel, true); !strings.Contains(m.Text, ": 5 due") {
		t.Fatalf("the channel digest says %q", m.Text)
	}
}
