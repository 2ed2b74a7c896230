package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
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
	if r.State == request.StatePendingApproval {
		return h.recheck(ctx, u, r)
	}
	if r.Kind == request.KindCustomer && r.State == request.StateFailed && r.Result.Status == request.CustomerError {
		// Webex gave up on it: nothing the bot sends makes it provision.
		return refusal(fmt.Sprintf("⛔ %s: Webex could not provision %s (status error); a retry cannot change that. Delete it (`/onboard-customer delete %s`) and submit it again, or ask Cisco support about it%s.",
			r.Ref(), chat.Esc(r.Subject), r.Ref(), chat.Esc(chat.TrackingSuffix(r.Result.TrackingID))))
	}
	undo := h.expectOutcome(id)
	again, err := h.store.Transition(ctx, id, request.Transition{
		From: []request.State{request.StateFailed, request.StateDone}, To: request.StateApproved,
		Actor: u.id, Action: request.ActionRetry,
		// The job goes on the stream with the index updates; a failed
		// enqueue is reported by the store and made up by the requeue loop.
		Current: r, Enqueue: true,
		Mutate: func(x *request.Request) error {
			// A done batch with failed rows (⚠️) may be retried: its
			// finished rows are kept and only the failed ones run again.
			if x.State == request.StateDone && x.Result.Status != request.ResultPartial {
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
	h.queue.Go(ctx, "update summary", func(ctx context.Context) error { return h.refreshSummary(ctx, again) })
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
	cancelled, err := h.store.Transition(ctx, id, request.Transition{
		From:  []request.State{request.StateDraft, request.StatePendingApproval, request.StateApproved, request.StateWaiting},
		To:    request.StateCancelled,
		Actor: u.id, Action: request.ActionCancelled,
	})
	if err != nil {
		return h.transitionRefusal(u, id, "cancel", err)
	}
	h.expectOutcome(id)
	h.Settled(ctx, cancelled)
	return &Reply{Text: fmt.Sprintf("%s cancelled.", cancelled.Ref())}
}

// actionRecheck is the summary's "Run the precheck again" button.
const actionRecheck = "recheck"

// recheckButton answers "Run the precheck again".
func (h *Handler) recheckButton(ctx context.Context, u caller, value string) *Reply {
	id, err := request.ParseID(value)
	if err != nil {
		return refusal("⛔ this button is not valid any more")
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	if u.id != r.Requester && !h.isApprover(u.id) && !h.isAdmin(u.id) {
		return refusal(fmt.Sprintf("⛔ %s: only its requester, approvers and admins can run its precheck again", r.Ref()))
	}
	return h.recheck(ctx, u, r)
}

// recheck runs the precheck of a pending request again when it could not
// say yes or no for a passing reason (Webex unreachable, the customer not
// provisioned yet); a precheck that passed or was refused stands.
func (h *Handler) recheck(ctx context.Context, u caller, r *request.Request) *Reply {
	check := h.checkFor(r)
	if check == nil {
		return refusal(fmt.Sprintf("⛔ %s: %s requests have no precheck to run again", r.Ref(), r.Kind))
	}
	again, err := h.store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{request.StatePendingApproval}, Actor: u.id, Action: request.ActionPrecheckAgain,
		Current: r,
		Mutate: func(x *request.Request) error {
			if !x.Precheck.Status.Passing() {
				return ruleRefusal(fmt.Sprintf("its precheck %s; nothing to run again (an edit is submitted as a new request)", precheckVerdict(x.Precheck.Status)))
			}
			x.Precheck = request.Precheck{Status: request.PrecheckRunning}
			return nil
		},
	})
	if err != nil {
		return h.transitionRefusal(u, r.ID, "precheck again", err)
	}
	h.queuePublish(ctx, again, check)
	return &Reply{Text: fmt.Sprintf("🔁 %s: the precheck runs again; the summary shows its result.", again.Ref())}
}

func precheckVerdict(s request.PrecheckStatus) string {
	switch s {
	case request.PrecheckOK:
		return "passed"
	case request.PrecheckFailed:
		return "was refused by Webex"
	case request.PrecheckRunning:
		return "is running"
	}
	return "is not run for this request"
}

// movingFetch bounds how many requests Moving reads.
const movingFetch = 200

// Moving reports whether a request will move on by itself: one approved
// or committing (the worker has its job, also when the worker queued it
// again itself, as it does for requests that waited for another), or one
// waiting for a customer Webex is provisioning or reviewing (compliance
// hold), or queued behind another request that is on its way. Waits for a
// person (consent, a template's provisioning id) and for a request that
// failed do not count. The piped console waits for these at end of input.
func (h *Handler) Moving(ctx context.Context) bool {
	if h.ux.lister == nil {
		return false
	}
	resting, err := h.ux.lister.List(ctx, store.Query{
		States: []request.State{request.StateApproved, request.StateCommitting, request.StateWaiting}, Limit: movingFetch})
	if err != nil {
		return false
	}
	for _, r := range resting {
		reason := r.Result.WaitReason
		switch {
		case r.State != request.StateWaiting:
			return true
		case r.Kind == request.KindTemplate, reason == request.ConsentWaitReason:
		case strings.HasSuffix(reason, request.FailedSuffix):
			// It moves once the request it waits for is retried.
			if id, ok := request.AwaitedRequest(reason); ok {
				if awaited, err := h.store.Get(ctx, id); err == nil && awaited.State != request.StateFailed {
					return true
				}
			}
		default:
			return true
		}
	}
	return false
}
