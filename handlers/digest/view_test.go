package digest_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/slack-go/slack"
)

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
	g := digest.New(digest.Deps{Settings: digest.Settings{Channel: "#approvals"}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &digest.Digest{Recipient: "U1", More: tc.more}
			for i := range tc.items {
				c := []digest.Category{digest.Failed, digest.Consent, digest.Draft, digest.Rejected}[i%4]
				it := digest.Item{Key: digest.ItemKey(c, fmt.Sprintf("R-%d", i+1), time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)), Cat: c, Request: int64(i + 1), Line: tc.line}
				if c == digest.Draft {
					it.Request, it.Draft = 0, int64(i+1)
				}
				d.Items = append(d.Items, it)
			}
			m := g.Render(d, tc.dismiss)
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
