package handlers

import (
	"context"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/slack-go/slack"
)

func TestResumeDraft(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, true)
	ctx := context.Background()
	cmd := func(user, text string) *Reply {
		return f.h.Command(ctx, slack.SlashCommand{UserID: user, ChannelID: "C1", TriggerID: "T-" + user, Text: text})
	}
	cmd("alice", "")
	if r := f.submit("alice", f.views.last(t), msAnswers); r == nil || r.View.ResponseAction != slack.RAUpdate {
		t.Fatalf("step 1: %+v", r)
	}
	cases := []struct {
		user, text string
		want       string // in the reply; "" = the form opens
		callback   string
	}{
		{"alice", "resume", "D-1 customer MS-001, step 2 of 6", ""},
		{"bob", "resume", "You have no drafts", ""},
		{"alice", "resume D-1", "", "form:customer:1"},
		{"dave", "resume D-1", "someone else's draft", ""},
		{"alice", "resume D-9", "no such draft", ""},
		{"alice", "resume R-1", "not a draft id", ""},
		{"alice", "resume D-1 x=1", "usage: resume", ""},
	}
	for _, c := range cases {
		f.views.mu.Lock()
		before := len(f.views.opened)
		f.views.mu.Unlock()
		r := cmd(c.user, c.text)
		if c.want != "" {
			if r == nil || !strings.Contains(r.Text, c.want) {
				t.Errorf("%s %q: %+v, want %q", c.user, c.text, r, c.want)
			}
			continue
		}
		if r != nil {
			t.Errorf("%s %q: %q, want the form", c.user, c.text, r.Text)
			continue
		}
		f.views.mu.Lock()
		opened := f.views.opened[before:]
		f.views.mu.Unlock()
		if len(opened) != 1 || opened[0].CallbackID != c.callback {
			t.Errorf("%s %q: opened %d views", c.user, c.text, len(opened))
		}
	}
	// The list's button reopens the form too.
	list := cmd("alice", "resume")
	if !strings.Contains(viewJSON(list.Blocks), `"action_id":"`+chat.ActionResumeDraft+`"`) {
		t.Fatalf("no resume button: %s", viewJSON(list.Blocks))
	}
	click(f.h, "alice", "C1", chat.ActionResumeDraft, "D-1")
	if v := f.views.last(t); v.CallbackID != "form:customer:1" || v.PrivateMetadata != "D-1" {
		t.Fatalf("button: %s %s", v.CallbackID, v.PrivateMetadata)
	}
}
