package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// rejectCallbackID marks the Reject reason modal's view_submission.
const rejectCallbackID = "reject_reason"

// rejectWithReason answers the Reject button: an approver gets a modal
// asking why (the reason reaches the requester's DM). Without modals, for
// non-approvers and for requests that moved on, the click is answered as
// before: a refusal or what already happened.
func (h *Handler) rejectWithReason(ctx context.Context, u caller, trigger, value string) *Reply {
	id, err := request.ParseID(value)
	if err != nil || h.views == nil || !h.isApprover(u.id) {
		return h.rejectButton(ctx, u, value)
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	if r.State != request.StatePendingApproval {
		return h.rejectButton(ctx, u, value)
	}
	// The trigger is valid for 3 s, once: open the modal now, not later.
	if _, err := h.views.OpenView(ctx, trigger, rejectView(r, u.channel)); err != nil {
		h.log.WithError(err).WithField("request", r.Ref()).Warn("open reject form")
		return refusal(fmt.Sprintf("⛔ %s: the reason form did not open; use `/onboard-customer reject %s reason=\"…\"`", r.Ref(), r.Ref()))
	}
	return nil
}

func rejectView(r *request.Request, channel string) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(chat.Plain("why, for the requester"), actionValue)
	input.Multiline = true
	input.MaxLength = 2000
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: rejectCallbackID,
		Title:  chat.Plain(chat.Truncate("Reject "+r.Ref(), 24)),
		Submit: chat.Plain("Reject"), Close: chat.Plain("Cancel"),
		// Only the request and where to answer: the state lives in Redis.
		PrivateMetadata: r.Ref() + "|" + channel,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(chat.Md(chat.TruncateMd(fmt.Sprintf("*%s* %s — requested by %s", r.Ref(), chat.Esc(r.Subject), chat.Mention(r.Requester)), chat.MaxSectionText)), nil, nil),
			slack.NewInputBlock("reason", chat.Plain("Reason"), nil, input),
		}},
	}
}

// rejectSubmission rejects with the reason typed into the modal. An empty
// reason is an inline error; every other answer arrives as a message and
// the modal closes.
func (h *Handler) rejectSubmission(ctx context.Context, cb *slack.InteractionCallback) *Reply {
	ref, channel, _ := strings.Cut(cb.View.PrivateMetadata, "|")
	id, err := request.ParseID(ref)
	if err != nil {
		return nil
	}
	var reason string
	if cb.View.State != nil {
		reason = strings.TrimSpace(cb.View.State.Values["reason"][actionValue].Value)
	}
	if reason == "" {
		return &Reply{View: slack.NewErrorsViewSubmissionResponse(map[string]string{"reason": "Say why, so the requester can fix it."})}
	}
	u := caller{id: cb.User.ID, channel: channel}
	h.answer(ctx, u, h.reject(ctx, u, id, reason))
	return nil
}
