package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

const (
	actionApprove = "approve"
	actionReject  = "reject"
)

// approveRefusal is the permission and readiness rule for approving r, as a
// pure function: "" means u may approve it now.
func approveRefusal(r *request.Request, user string, approver bool, shownHash string) string {
	switch {
	case r.State != request.StatePendingApproval:
		return "" // the transition reports what already happened
	case user == r.Requester:
		return "you requested this yourself; another approver must approve it (four-eyes)"
	case !approver:
		return "only approvers can approve requests"
	case shownHash != "" && shownHash != r.Hash:
		return "this summary is out of date; approve the current one"
	case r.Precheck.Status == request.PrecheckRunning:
		return "the Webex precheck is still running; try again in a moment"
	case r.Precheck.Status == request.PrecheckFailed:
		return "the Webex precheck failed (" + chat.Esc(r.Precheck.Message) + "); edit the request and submit it again"
	}
	return ""
}

func (h *Handler) approveButton(ctx context.Context, u caller, value string) *Reply {
	ref, hash, _ := strings.Cut(value, ":")
	id, err := request.ParseID(ref)
	if err != nil {
		return refusal("⛔ this button is not valid any more")
	}
	return h.approve(ctx, u, id, hash)
}

func (h *Handler) approveCommand(ctx context.Context, u caller, c Command) *Reply {
	id, rep := h.requestArg(c, "approve ID")
	if rep != nil {
		return rep
	}
	if len(c.Args) > 0 {
		return refusal("⛔ approve takes only a request id")
	}
	return h.approve(ctx, u, id, "")
}

func (h *Handler) approve(ctx context.Context, u caller, id int64, shownHash string) *Reply {
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	if why := approveRefusal(r, u.id, h.isApprover(u.id), shownHash); why != "" {
		return refusal(fmt.Sprintf("⛔ %s: %s", r.Ref(), why))
	}
	now := h.now()
	// Current: r saves the transition a second read; Enqueue puts the job
	// on the stream with the index updates. A failed enqueue leaves the
	// approval standing (the store reports it): approved requests without a
	// job are queued again within a minute (cmd's requeue loop).
	undo := h.expectOutcome(id)
	// Before the transition: the worker may report as soon as it is saved.
	release := h.queue.Hold(id)
	approved, err := h.store.Transition(ctx, id, request.Transition{
		From:  []request.State{request.StatePendingApproval},
		To:    request.StateApproved,
		Actor: u.id, Action: request.ActionApproved, Note: "hash " + r.Hash,
		Current: r, Enqueue: true,
		Mutate: func(x *request.Request) error {
			// The hash checked above must still be the stored one: an edit
			// between the read and the write makes this approval stale.
			if why := approveRefusal(x, u.id, true, r.Hash); why != "" {
				return ruleRefusal(why)
			}
			x.ApprovedBy, x.ApprovedAt, x.ApprovedHash = u.id, now, x.Hash
			return nil
		},
	})
	if err != nil {
		undo()
		release()
		return h.transitionRefusal(u, id, "approve", err)
	}
	h.log.WithFields(logrus.Fields{"request": approved.Ref(), "user": u.id, "state": approved.State}).Info("request approved")
	// Shed under a burst: the request's outcome (Settled) refreshes it too.
	h.queue.Spare(ctx, "update summary", func(ctx context.Context) error {
		return h.refreshSummary(ctx, approved)
	})
	next := "committing to Webex"
	if approved.Kind == request.KindTemplate {
		next = "recording the template"
	}
	return &Reply{Text: fmt.Sprintf("👍 %s approved; %s.", approved.Ref(), next), release: release}
}

// ruleRefusal is a refusal found inside a transition (the request changed
// between the read and the write): the user is told why, nothing is logged.
type ruleRefusal string

func (r ruleRefusal) Error() string { return string(r) }

func (h *Handler) rejectButton(ctx context.Context, u caller, value string) *Reply {
	id, err := request.ParseID(value)
	if err != nil {
		return refusal("⛔ this button is not valid any more")
	}
	return h.reject(ctx, u, id, "no reason given")
}

func (h *Handler) rejectCommand(ctx context.Context, u caller, c Command) *Reply {
	id, rep := h.requestArg(c, `reject ID reason="…"`)
	if rep != nil {
		return rep
	}
	reason := strings.TrimSpace(c.Args["reason"])
	for k := range c.Args {
		if k != "reason" {
			return refusal(fmt.Sprintf("⛔ %s: unknown key (reject takes reason=\"…\")", chat.Esc(k)))
		}
	}
	if reason == "" {
		return refusal(`⛔ reason: missing (reject ID reason="why")`)
	}
	return h.reject(ctx, u, id, reason)
}

func (h *Handler) reject(ctx context.Context, u caller, id int64, reason string) *Reply {
	if !h.isApprover(u.id) {
		return refusal(fmt.Sprintf("⛔ %s: only approvers can reject requests", request.FormatID(id)))
	}
	rejected, err := h.store.Transition(ctx, id, request.Transition{
		From:  []request.State{request.StatePendingApproval},
		To:    request.StateRejected,
		Actor: u.id, Action: request.ActionRejected, Note: reason,
		Mutate: func(x *request.Request) error {
			x.RejectedBy, x.Reason = u.id, reason
			return nil
		},
	})
	if err != nil {
		return h.transitionRefusal(u, id, "reject", err)
	}
	h.log.WithFields(logrus.Fields{"request": rejected.Ref(), "user": u.id, "state": rejected.State}).Info("request rejected")
	h.expectOutcome(id)
	h.Settled(ctx, rejected)
	return &Reply{Text: fmt.Sprintf("%s rejected.", rejected.Ref())}
}

// transitionRefusal explains a failed transition: what already happened, a
// refusal from the rule, or a system fault.
func (h *Handler) transitionRefusal(u caller, id int64, verb string, err error) *Reply {
	var sc *request.StateConflict
	var rule ruleRefusal
	switch {
	case errors.As(err, &sc):
		return refusal("⛔ " + alreadyHappened(sc))
	case errors.As(err, &rule):
		return refusal(fmt.Sprintf("⛔ %s: %s", request.FormatID(id), rule))
	case errors.Is(err, request.ErrNotFound):
		return refusal(fmt.Sprintf("⛔ %s: no such request", request.FormatID(id)))
	}
	return h.systemFault(u, verb+" "+request.FormatID(id), err)
}

// alreadyHappened renders "R-7: already approved by @bob at 10:42".
func alreadyHappened(sc *request.StateConflict) string {
	r := sc.Current
	last := sc.Last
	verb := string(r.State)
	switch r.State {
	case request.StateApproved, request.StateCommitting, request.StateDone, request.StateWaiting, request.StateFailed:
		if r.ApprovedBy != "" {
			return fmt.Sprintf("%s: already approved by %s at %s (now %s)", r.Ref(), chat.Mention(r.ApprovedBy), r.ApprovedAt.UTC().Format("15:04"), r.State)
		}
	case request.StateRejected:
		return fmt.Sprintf("%s: already rejected by %s at %s", r.Ref(), chat.Mention(r.RejectedBy), last.At.UTC().Format("15:04"))
	case request.StateCancelled:
		verb = "cancelled"
	}
	if last.Actor != "" {
		return fmt.Sprintf("%s: already %s by %s at %s", r.Ref(), verb, chat.Mention(last.Actor), last.At.UTC().Format("15:04"))
	}
	return fmt.Sprintf("%s: already %s", r.Ref(), verb)
}
