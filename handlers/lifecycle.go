package handlers

import (
	"context"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning"
)

// retry runs a failed request again: the worker skips what already
// succeeded (rows, a created customer) and repeats the rest.
func (h *Handler) retry(ctx context.Context, u caller, c Command) *Reply {
	id, rep := h.requestArg(c, "retry ID")
	if rep != nil {
		return rep
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	if u.id != r.Requester && !h.isApprover(u.id) && !h.isAdmin(u.id) {
		return refusal(fmt.Sprintf("⛔ %s: only its requester, approvers and admins can retry it", r.Ref()))
	}
	undo := h.expectOutcome(id)
	again, err := h.store.Transition(ctx, id, provisioning.Transition{
		From: []provisioning.State{provisioning.StateFailed, provisioning.StateDone}, To: provisioning.StateApproved,
		Actor: u.id, Action: "retry",
		// The job goes on the stream with the index updates; a failed
		// enqueue is reported by the store and made up by the requeue loop.
		Current: r, Enqueue: true,
		Mutate: func(x *provisioning.Request) error {
			// A done batch with failed rows (⚠️) may be retried: its
			// finished rows are kept and only the failed ones run again.
			if x.State == provisioning.StateDone && x.Result.Status != provisioning.ResultPartial {
				return ruleRefusal("it is done; nothing to retry")
			}
			x.Result.Message, x.Result.TrackingID, x.Result.Failures = "", "", nil
			return nil
		},
	})
	if err != nil {
		undo()
		return h.transitionRefusal(u, id, "retry", err)
	}
	h.background(ctx, "update summary", func(ctx context.Context) error { return h.refreshSummary(ctx, again) })
	return &Reply{Text: fmt.Sprintf("🔁 %s queued again.", again.Ref())}
}

// cancel withdraws a request that has not started committing.
func (h *Handler) cancel(ctx context.Context, u caller, c Command) *Reply {
	id, rep := h.requestArg(c, "cancel ID")
	if rep != nil {
		return rep
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	if u.id != r.Requester && !h.isAdmin(u.id) {
		return refusal(fmt.Sprintf("⛔ %s: only its requester or an admin can cancel it", r.Ref()))
	}
	cancelled, err := h.store.Transition(ctx, id, provisioning.Transition{
		From:  []provisioning.State{provisioning.StateDraft, provisioning.StatePendingApproval, provisioning.StateApproved, provisioning.StateWaiting},
		To:    provisioning.StateCancelled,
		Actor: u.id, Action: "cancelled",
	})
	if err != nil {
		return h.transitionRefusal(u, id, "cancel", err)
	}
	h.expectOutcome(id)
	h.Settled(ctx, cancelled)
	return &Reply{Text: fmt.Sprintf("%s cancelled.", cancelled.Ref())}
}
