package handlers

import (
	"context"
	"fmt"

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
	if r.Kind == request.KindImport {
		return h.importRetry(ctx, u, r)
	}
	if step := h.stepToRetry(ctx, r); step != nil {
		// A plan whose customer is done resumes at the step that failed;
		// the steps after it wait for it and run once it is done.
		r, id = step, step.ID
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
	if again.Plan != 0 {
		return &Reply{Text: fmt.Sprintf("🔁 %s queued again at its step %s.", again.PlanRef(), chat.Esc(again.Subject))}
	}
	return &Reply{Text: fmt.Sprintf("🔁 %s queued again.", again.Ref())}
}

// stepToRetry is the step a retry of plan r runs again: the first that
// failed or left rows failed, once the customer itself is done; nil when
// r is no plan or its customer is what failed.
func (h *Handler) stepToRetry(ctx context.Context, r *request.Request) *request.Request {
	if r.State != request.StateDone {
		return nil
	}
	for _, s := range h.planSteps(ctx, r) {
		if s.State == request.StateFailed || (s.State == request.StateDone && s.Result.Status == request.ResultPartial) {
			return s
		}
	}
	return nil
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
	byID := make(map[int64]*request.Request, len(resting))
	for _, r := range resting {
		byID[r.ID] = r
	}
	for _, r := range resting {
		if h.movesOn(ctx, r, byID, 0) {
			return true
		}
	}
	return false
}

// movesOn reports whether r moves on by itself (see Moving). A request
// queued behind another moves when that one does: a plan's last step waits
// for the one before it, which may wait for a failed one (then none moves).
func (h *Handler) movesOn(ctx context.Context, r *request.Request, byID map[int64]*request.Request, depth int) bool {
	reason := r.Result.WaitReason
	switch {
	case r.State == request.StateApproved || r.State == request.StateCommitting:
		return true
	case r.State != request.StateWaiting:
		return false // done, or failed: it moves only when someone acts
	case r.Kind == request.KindTemplate, reason == request.ConsentWaitReason:
		return false
	}
	id, queued := request.AwaitedRequest(reason)
	if !queued {
		return true // a hold at Webex, which ends by itself
	}
	awaited, ok := byID[id]
	if !ok {
		var err error
		if awaited, err = h.store.Get(ctx, id); err != nil {
			return false
		}
	}
	switch awaited.State {
	case request.StateDone, request.StateRejected, request.StateCancelled, request.StateExpired:
		return true // it is requeued (or failed) at its next check
	}
	if depth >= 8 {
		return true
	}
	return h.movesOn(ctx, awaited, byID, depth+1)
}
