package digest

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

const (
	ActionSnooze  = "digest_snooze"
	ActionDismiss = "digest_dismiss"
	// A message holds at most 50 blocks and fails around 12-13k characters
	// (Slack's limits); one block and some characters stay free for "… and N more".
	digestMaxBlocks = 50
	digestMaxChars  = 11000
)

// Audience is how a digest's header names its recipient: "#approvals",
// "<#C0123>" or "<@U0123>" (the console shows "@alice").
func (g *Digester) Audience(d *Digest) string {
	if !d.Channel {
		return chat.Mention(d.Recipient)
	}
	if strings.HasPrefix(d.Recipient, "#") {
		return d.Recipient
	}
	return "<#" + d.Recipient + ">"
}

// Render lays a digest out within one message's limits: a header, then
// per Category a title and per item its line and buttons, cut with
// "… and N more". Dismiss is offered to admins (and in the channel, where
// the click is checked).
func (g *Digester) Render(d *Digest, dismiss bool) chat.Message {
	title := "📋 digest for " + g.Audience(d)
	total := len(d.Items) + d.More
	summary := fmt.Sprintf("%d due", total)
	if g.set.Sandbox {
		summary += " · SANDBOX"
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(chat.Md("*"+title+"*"), nil, nil),
		slack.NewContextBlock("", chat.Md(summary)),
	}
	chars := len(title) + len(summary)
	shown := 0
	last := Category(-1)
	for _, it := range d.Items {
		var add []slack.Block
		cost := 0
		if it.Cat != last {
			t := fmt.Sprintf("*%s*", categories[it.Cat].title)
			add = append(add, slack.NewSectionBlock(chat.Md(t), nil, nil))
			cost += len(t)
		}
		line := "• " + it.Line
		buttons := g.buttons(it, dismiss)
		add = append(add, slack.NewSectionBlock(chat.Md(line), nil, nil), slack.NewActionBlock("digest:"+it.Key, buttons...))
		cost += len(line) + len(it.Key)*(len(buttons)+1) + 20*len(buttons)
		if len(blocks)+len(add) > digestMaxBlocks-1 || chars+cost > digestMaxChars {
			break
		}
		blocks = append(blocks, add...)
		chars += cost
		shown++
		last = it.Cat
	}
	if rest := total - shown; rest > 0 {
		blocks = append(blocks, slack.NewContextBlock("", chat.Md(fmt.Sprintf("… and %d more", rest))))
	}
	return chat.Message{Text: fmt.Sprintf("%s: %d due", title, total), Blocks: blocks}
}

// buttons are an item's actions: Open, the one that moves it on (Retry,
// Resume, Resend consent email, Edit & resubmit), Snooze and Dismiss.
func (g *Digester) buttons(it Item, dismiss bool) []slack.BlockElement {
	var out []slack.BlockElement
	if it.Request != 0 {
		ref := request.FormatID(it.Request)
		out = append(out, slack.NewButtonBlockElement(chat.ActionOpenRequest, ref, chat.Plain("Open")))
		switch it.Cat {
		case Failed:
			out = append(out, slack.NewButtonBlockElement(chat.ActionRetryRequest, ref, chat.Plain("Retry")))
		case Consent:
			out = append(out, slack.NewButtonBlockElement(chat.ActionResendConsent, ref, chat.Plain("Resend consent email")))
		case Rejected:
			out = append(out, slack.NewButtonBlockElement(chat.ActionEditResubmit, ref, chat.Plain("Edit & resubmit")))
		}
	}
	if it.Draft != 0 {
		out = append(out, slack.NewButtonBlockElement(chat.ActionResumeDraft, store.FormatDraftID(it.Draft), chat.Plain("Resume")))
	}
	out = append(out, slack.NewButtonBlockElement(ActionSnooze, it.Key, chat.Plain("Snooze")))
	if dismiss {
		out = append(out, slack.NewButtonBlockElement(ActionDismiss, it.Key, chat.Plain("Dismiss")))
	}
	return out
}
