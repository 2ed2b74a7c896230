package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/sirupsen/logrus"
)

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
			ref := chat.NewRef()
			h.log.WithError(err).WithFields(logrus.Fields{"ref": ref, "user": u.id}).Error("build digest")
			return h.tell(ctx, u, fmt.Sprintf("⛔ could not build your digest right now (ref %s)", ref))
		}
		if d := mine.DMs[u.id]; d != nil && len(d.Items) > 0 {
			err = h.msg.DM(ctx, u.id, h.digest.Render(d, admin))
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
			return h.tell(ctx, u, "📋 nothing is due for "+h.digest.Audience(all.Channel)+" either.")
		}
		_, err = h.msg.Post(ctx, all.Channel.Recipient, h.digest.Render(all.Channel, true))
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

// digestButton answers Snooze and Dismiss; only admins dismiss.
func (h *Handler) digestButton(ctx context.Context, u caller, action, key string) *Reply {
	if h.digest == nil {
		return refusal("⛔ digests are not available here")
	}
	dismiss := action == digest.ActionDismiss
	if dismiss && !h.isAdmin(u.id) {
		return refusal("⛔ only admins can dismiss digest items")
	}
	answer, err := h.digest.Hide(ctx, u.id, key, dismiss, h.now())
	var audit *digest.AuditError
	switch {
	case errors.Is(err, digest.ErrStaleKey):
		return refusal("⛔ this button is not valid any more")
	case errors.As(err, &audit):
		return h.lookupFault(u, audit.ID, audit.Err)
	case err != nil:
		return h.systemFault(u, "hide digest item", err)
	}
	return &Reply{Text: answer}
}
