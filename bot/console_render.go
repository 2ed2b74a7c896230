package bot

import (
	"regexp"
	"strings"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers"
)

var mentionRE = regexp.MustCompile(`<@([^>|]+)(\|[^>]*)?>`)

// renderBlocks turns Block Kit into terminal text.
func renderBlocks(m handlers.Message) (string, []consoleButton) {
	if len(m.Blocks) == 0 {
		return boldRE.ReplaceAllString(mentionRE.ReplaceAllString(m.Text, "@$1"), "$1"), nil
	}
	var b strings.Builder
	var buttons []consoleButton
	for _, blk := range m.Blocks {
		switch v := blk.(type) {
		case *slack.HeaderBlock:
			b.WriteString(textOf(v.Text) + "\n")
		case *slack.SectionBlock:
			if v.Text != nil {
				b.WriteString(textOf(v.Text) + "\n")
			}
			for _, f := range v.Fields {
				label, value, _ := strings.Cut(textOf(f), "\n")
				b.WriteString("  " + strings.Trim(label, "*") + ": " + value + "\n")
			}
		case *slack.ContextBlock:
			var parts []string
			for _, e := range v.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					parts = append(parts, textOf(t))
				}
			}
			b.WriteString(strings.Join(parts, " ") + "\n")
		case *slack.ActionBlock:
			var labels []string
			for _, e := range v.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					labels = append(labels, "["+textOf(btn.Text)+"]")
					buttons = append(buttons, consoleButton{text: textOf(btn.Text), actionID: btn.ActionID, blockID: v.BlockID, value: btn.Value})
				}
			}
			b.WriteString(strings.Join(labels, " ") + "\n")
		case *slack.DividerBlock:
			b.WriteString("────\n")
		}
	}
	return boldRE.ReplaceAllString(mentionRE.ReplaceAllString(b.String(), "@$1"), "$1"), buttons
}

// boldRE matches mrkdwn bold (*text*), which a terminal shows as plain text.
var boldRE = regexp.MustCompile(`\*([^*\n]+)\*`)

func textOf(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	return t.Text
}
