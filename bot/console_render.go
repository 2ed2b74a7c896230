package bot

import (
	"regexp"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/slack-go/slack"
)

var mentionRE = regexp.MustCompile(`<@([^>|]+)(\|[^>]*)?>`)

// renderBlocks turns Block Kit into terminal text.
func renderBlocks(m chat.Message) (string, []consoleButton) {
	if len(m.Blocks) == 0 {
		return decodeMrkdwn(m.Text), nil
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
	return b.String(), buttons
}

// decodeMrkdwn prints mrkdwn as a person reads it in Slack: mentions as
// @user, bold as plain text, and the entities the bot escapes values with
// (&amp; &lt; &gt;) decoded, so a value prints as it was typed.
func decodeMrkdwn(s string) string {
	s = boldRE.ReplaceAllString(mentionRE.ReplaceAllString(s, "@$1"), "$1")
	return entityDecoder.Replace(s)
}

var entityDecoder = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// boldRE matches mrkdwn bold (*text*), which a terminal shows as plain text.
var boldRE = regexp.MustCompile(`\*([^*\n]+)\*`)

// textOf is a text object as Slack shows it: plain_text literally, mrkdwn
// decoded.
func textOf(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.MarkdownType {
		return decodeMrkdwn(t.Text)
	}
	return t.Text
}
