package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

const (
	actionDigestSnooze  = "digest_snooze"
	actionDigestDismiss = "digest_dismiss"
	// A message holds at most 50 blocks and fails around 12-13k characters
	// (SLACK.md); one block and some characters stay free for "… and N more".
	digestMaxBlocks = 50
	digestMaxChars  = 11000
)

// audience is how a digest's header names its recipient: "#approvals",
// "<#C0123>" or "<@U0123>" (the console shows "@alice").
func (g *Digester) audience(d *Digest) string {
	if !d.Channel {
		return chat.Mention(d.Recipient)
	}
	if strings.HasPrefix(d.Recipient, "#") {
		return d.Recipient
	}
	return "<#" + d.Recipient + ">"
}

// render lays a digest out within one message's limits: a header, then
// per category a title and per item its line and buttons, cut with
// "… and N more". Dismiss is offered to admins (and in the channel, where
// the click is checked).
func (g *Digester) render(d *Digest, dismiss bool) chat.Message {
	title := "📋 digest for " + g.audience(d)
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
	last := category(-1)
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
func (g *Digester) buttons(it DigestItem, dismiss bool) []slack.BlockElement {
	var out []slack.BlockElement
	if it.Request != 0 {
		ref := request.FormatID(it.Request)
		out = append(out, slack.NewButtonBlockElement(actionOpenRequest, ref, chat.Plain("Open")))
		switch it.Cat {
		case catFailed:
			out = append(out, slack.NewButtonBlockElement(actionRetryRequest, ref, chat.Plain("Retry")))
		case catConsent:
			out = append(out, slack.NewButtonBlockElement(actionResendConsent, ref, chat.Plain("Resend consent email")))
		case catRejected:
			out = append(out, slack.NewButtonBlockElement(actionEditResubmit, ref, chat.Plain("Edit & resubmit")))
		}
	}
	if it.Draft != 0 {
		out = append(out, slack.NewButtonBlockElement(actionResumeDraft, store.FormatDraftID(it.Draft), chat.Plain("Resume")))
	}
	out = append(out, slack.NewButtonBlockElement(actionDigestSnooze, it.Key, chat.Plain("Snooze")))
	if dismiss {
		out = append(out, slack.NewButtonBlockElement(actionDigestDismiss, it.Key, chat.Plain("Dismiss")))
	}
	return out
}

// digestNow answers `/onboard-customer digest`: the caller's own digest
// now, by DM; admins also post the channel digest. It runs in the
// background (Webex may be asked whether customers have users) and claims
// nothing: the scheduled digest still comes.
func (h *Handler) digestNow(ctx context.Context, u caller, c Command) *Reply {
	if h.digest == nil {
		return refusal("⛔ digests are not available here")
	}
	if len(c.Words) > 1 || len(c.Args) > 0 {
		return refusal("⛔ usage: digest")
	}
	admin := h.isAdmin(u.id)
	h.queue.Go(ctx, "digest now", func(ctx context.Context) error {
		at := h.now()
		mine, err := h.digest.Build(ctx, at, u.id)
		if err != nil {
			ref := newRef()
			h.log.WithError(err).WithFields(map[string]any{"ref": ref, "user": u.id}).Error("build digest")
			return h.tell(ctx, u, fmt.Sprintf("⛔ could not build your digest right now (ref %s)", ref))
		}
		if d := mine.DMs[u.id]; d != nil && len(d.Items) > 0 {
			err = h.msg.DM(ctx, u.id, h.digest.render(d, admin))
		} else {
			err = h.tell(ctx, u, "📋 nothing is due for you right now.")
		}
		if err != nil || !admin {
			return err
		}
		all, err := h.digest.Build(ctx, at, "")
		if err != nil {
			return err
		}
		if len(all.Channel.Items) == 0 {
			return h.tell(ctx, u, "📋 nothing is due for "+h.digest.audience(all.Channel)+" either.")
		}
		_, err = h.msg.Post(ctx, all.Channel.Recipient, h.digest.render(all.Channel, true))
		return err
	})
	return nil
}

// tell answers u where the command came from (a DM without a channel).
func (h *Handler) tell(ctx context.Context, u caller, text string) error {
	if u.channel == "" {
		return h.msg.DM(ctx, u.id, chat.Message{Text: text})
	}
	return h.msg.Ephemeral(ctx, u.channel, u.id, chat.Message{Text: text})
}

// digestButton answers Snooze and Dismiss. Both are audited on the request
// (drafts have no audit trail; the log has them) before the marker is set,
// so nothing is hidden without a trace.
func (h *Handler) digestButton(ctx context.Context, u caller, action, key string) *Reply {
	if h.digest == nil {
		return refusal("⛔ digests are not available here")
	}
	cat, ref, ok := parseItemKey(key)
	if !ok {
		return refusal("⛔ this button is not valid any more")
	}
	title := cat
	for _, c := range categories {
		if c.key == cat {
			title = strings.ToLower(c.title)
		}
	}
	now := h.now()
	kind, ttl, until, action2 := "snooze", snoozeFor+time.Hour, now.Add(snoozeFor), "digest snoozed"
	note := fmt.Sprintf("%s: hidden from digests until %s UTC", title, until.UTC().Format("2006-01-02 15:04"))
	answer := fmt.Sprintf("💤 %s snoozed until %s UTC: the digest after that shows it again.", ref, until.UTC().Format("2006-01-02 15:04"))
	if action == actionDigestDismiss {
		if !h.isAdmin(u.id) {
			return refusal("⛔ only admins can dismiss digest items")
		}
		kind, ttl, until, action2 = "dismiss", dismissFor, now, "digest dismissed"
		note = title + ": left out of digests until it changes"
		answer = fmt.Sprintf("🔕 %s dismissed: digests leave it out until it changes.", ref)
	}
	if id, err := request.ParseID(ref); err == nil {
		if err := h.digest.store.AppendAudit(ctx, id, request.AuditEntry{At: now.UTC(), Actor: u.id, Action: action2, Note: note}); err != nil {
			return h.lookupFault(u, id, err)
		}
	} else {
		h.log.WithFields(map[string]any{"user": u.id, "item": key}).Info(action2)
	}
	if err := h.digest.store.MarkDigestItem(ctx, kind, key, until, ttl); err != nil {
		return h.systemFault(u, "mark digest item", err)
	}
	return &Reply{Text: answer}
}
