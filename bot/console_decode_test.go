package bot

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/slack-go/slack"
)

// TestConsolePrintsValuesDecoded: the bot escapes typed values in mrkdwn
// (&amp; &lt; &gt;); the console prints them as typed, and prints
// plain_text, which Slack shows literally, as it is.
func TestConsolePrintsValuesDecoded(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	c := &Console{Out: &out}
	m := chat.Message{Text: "fallback", Blocks: []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "A &amp; B literally", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Company* Müller &amp; Söhne &lt;!here&gt; · <@bob>", false, false), nil, nil),
	}}
	if _, err := c.Post(context.Background(), "#approvals", m); err != nil {
		t.Fatal(err)
	}
	c.printMessage("(only you)", "", chat.Message{Text: "⛔ &lt;@U1&gt; is not a customer"})
	got := out.String()
	for _, want := range []string{"A &amp; B literally", "Company Müller & Söhne <!here> · @bob", "⛔ <@U1> is not a customer"} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
}
