package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// CustomerFinder looks customers up at Webex (adopt).
type CustomerFinder interface {
	FindCustomer(ctx context.Context, externalID, orgID string) (*request.CustomerState, error)
}

// adopt brings a customer created elsewhere (Partner Hub) under the bot, so
// that setup requests and digests cover it. Nothing is sent to Webex, so no
// approval is needed; the adoption is audited.
func (h *Handler) adopt(ctx context.Context, u caller, c Command) *Reply {
	if !h.isRequester(u.id) {
		return refusal("⛔ you are not allowed to submit requests")
	}
	if len(c.Words) != 2 || len(c.Args) > 0 {
		return refusal("⛔ usage: adopt EXTERNAL-ID|ORG-ID")
	}
	arg := c.Words[1]
	if id, err := h.store.ByExternalID(ctx, arg); err == nil {
		return refusal(fmt.Sprintf("⛔ %s is already under the bot (%s)", chat.Esc(arg), request.FormatID(id)))
	} else if !errors.Is(err, request.ErrNotFound) {
		return h.systemFault(u, "look up external id", err)
	}
	h.queue.Go(ctx, "adopt", func(ctx context.Context) error {
		msg := h.adoptCustomer(ctx, u, arg)
		if msg == "" {
			return nil
		}
		return h.msg.Ephemeral(ctx, u.channel, u.id, chat.Message{Text: msg})
	})
	return &Reply{Text: fmt.Sprintf("🔎 looking up %s at Webex…", chat.Esc(arg))}
}

// adoptCustomer finds the customer by external id, then by org id, and
// records it. It returns a refusal to show, or "" when adopted.
func (h *Handler) adoptCustomer(ctx context.Context, u caller, arg string) string {
	cs, err := h.finder.FindCustomer(ctx, arg, "")
	if err == nil && cs == nil {
		cs, err = h.finder.FindCustomer(ctx, "", arg)
	}
	if err != nil {
		ref := chat.NewRef()
		h.log.WithError(err).WithFields(logrus.Fields{"ref": ref, "user": u.id}).Warn("adopt lookup")
		return fmt.Sprintf("⛔ could not look up %s at Webex (ref %s); nothing was saved", chat.Esc(arg), ref)
	}
	if cs == nil {
		return chat.Esc(fmt.Sprintf("⛔ Webex knows no customer with external id or org id %q", arg))
	}
	if cs.ExternalID == "" {
		return fmt.Sprintf("⛔ customer %s has no external id at Webex; set one in Partner Hub first", chat.Esc(cs.ID))
	}
	raw, err := json.Marshal(cs)
	if err != nil {
		return "⛔ " + chat.Esc(err.Error())
	}
	r := &request.Request{
		Kind: request.KindAdopt, State: request.StateDone, Requester: u.id,
		Subject: cs.ExternalID, ExternalID: cs.ExternalID, Spec: raw, Hash: request.HashSpec(raw),
		Result: request.Result{CustomerID: cs.ID, OrgID: cs.OrgID, Status: cs.Status},
	}
	if err := h.store.Create(ctx, r); err != nil {
		var taken *request.ExternalIDTaken
		if errors.As(err, &taken) {
			return fmt.Sprintf("⛔ %s is already under the bot (%s)", chat.Esc(cs.ExternalID), request.FormatID(taken.Holder))
		}
		ref := chat.NewRef()
		h.log.WithError(err).WithFields(logrus.Fields{"ref": ref, "user": u.id}).Error("adopt: create request")
		return fmt.Sprintf("⛔ could not save — nothing was adopted (ref %s)", ref)
	}
	h.log.WithFields(logrus.Fields{"request": r.Ref(), "user": u.id, "state": r.State}).Info("customer adopted")
	h.expectOutcome(r.ID)
	h.Settled(ctx, r)
	return ""
}
