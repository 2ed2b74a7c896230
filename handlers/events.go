package handlers

import (
	"context"
	"fmt"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

// The events run after the worker has moved on, in the background: each
// works on its own copy of the request, as it was when reported (the worker
// may go on to change the one it holds).

// Progress posts a step of a commit into the summary's thread (a plan
// step's into its plan's).
func (h *Handler) Progress(ctx context.Context, req *request.Request, text string) {
	r := snapshot(req)
	if r.Plan != 0 {
		h.queue.Report(ctx, r.ID, "post step progress", func(ctx context.Context) error {
			plan, err := h.store.Get(ctx, r.Plan)
			if err != nil || plan.Summary.TS == "" {
				return err
			}
			return h.msg.PostThread(ctx, plan.Summary.Channel, plan.Summary.TS, chat.Message{Text: "⏳ " + r.PlanRef() + ": " + chat.Esc(text)})
		})
		return
	}
	if h.batchProgress(ctx, r, text) { // batch counts become the summary's bar
		return
	}
	if r.Summary.TS == "" {
		return
	}
	h.queue.Report(ctx, r.ID, "post progress", func(ctx context.Context) error {
		return h.msg.PostThread(ctx, r.Summary.Channel, r.Summary.TS, chat.Message{Text: "⏳ " + r.Ref() + ": " + chat.Esc(text)})
	})
}

// Refresh re-renders r's summary (a hold's age) without a new message.
func (h *Handler) Refresh(ctx context.Context, req *request.Request) {
	r := snapshot(req)
	h.queue.Go(ctx, "refresh summary", func(ctx context.Context) error { return h.refreshSummary(ctx, r) })
}

// Settled tells everyone concerned that r ended or parked: the summary shows
// the new state, the thread gets the outcome line, the requester a DM. A
// plan's step says it in its plan's thread, under the plan's id; a
// customer of an import, or its step, with the import's others.
func (h *Handler) Settled(ctx context.Context, req *request.Request) {
	r := snapshot(req)
	line := ""
	if !r.WaitsInPlan() { // the plan's own order is news for no one
		line = outcomeLine(r, h.now())
	}
	if importMember(r) {
		if line != "" {
			h.queueImportLine(ctx, r.Import, line+failureLines(r))
		}
		h.outcomeReported(r.ID) // the import is awaited until all of it settled
		return
	}
	h.queue.Report(ctx, r.ID, "report outcome", func(ctx context.Context) error {
		carrier := r
		if r.Plan != 0 {
			defer h.outcomeReported(r.ID) // a retried step is awaited by its own id
			plan, err := h.store.Get(ctx, r.Plan)
			if err != nil {
				h.outcomeReported(r.Plan)
				return err
			}
			carrier = plan
		}
		defer h.planReported(ctx, carrier)
		if r.Kind == request.KindImport && r.State != request.StateWaiting {
			// Its customers' last lines go before its own.
			if err := h.flushImport(ctx, r.ID); err != nil {
				h.log.WithError(err).WithField("request", r.Ref()).Warn("post import outcomes")
			}
		}
		if err := h.refreshSummary(ctx, carrier); err != nil {
			h.log.WithError(err).WithField("request", carrier.Ref()).Warn("update summary")
		}
		if line == "" {
			return nil
		}
		return h.tellOutcome(ctx, r, carrier, line)
	})
	if r.Kind == request.KindTemplate && r.State == request.StateWaiting {
		h.postChecklist(ctx, r)
	}
}

// tellOutcome posts r's outcome line (and why parts failed) into carrier's
// thread and tells the requester by DM; without a thread, the DM carries
// the line itself.
func (h *Handler) tellOutcome(ctx context.Context, r, carrier *request.Request, line string) error {
	// The outcome line stays one line (scripts match it); why parts failed
	// follows it in the same message.
	outcome := chat.Message{Text: chat.TruncateMd(line+failureLines(r), chat.MaxMessageChars), Outcome: chat.Unmrkdwn(line + failureLines(r))}
	if carrier.Summary.TS == "" {
		return h.msg.DM(ctx, r.Requester, outcome)
	}
	if err := h.msg.PostThread(ctx, carrier.Summary.Channel, carrier.Summary.TS, outcome); err != nil {
		h.log.WithError(err).WithField("request", r.Ref()).Warn("post outcome")
	}
	dm := fmt.Sprintf("Your request %s (%s): %s %s", r.PlanRef(), chat.Esc(r.Subject), requestIcon(r), describeStateAt(r, h.now()))
	dm = chat.TruncateMd(dm+failureLines(r), chat.MaxSectionText)
	return h.msg.DM(ctx, r.Requester, chat.Message{Text: dm, Blocks: resubmitDMBlocks(r, dm)})
}

// planReported marks plan's outcome as out, unless it is a plan whose
// steps are still on their way, or an import whose customers are: then it
// stays awaited (Busy) until the last of them has settled, as one approval
// started them all.
func (h *Handler) planReported(ctx context.Context, plan *request.Request) {
	importing := plan.Kind == request.KindImport && plan.State == request.StateWaiting && plan.Result.WaitReason == worker.ImportWaitReason
	if importing || plan.State == request.StateDone && stepsMoving(plan, h.planSteps(ctx, plan)) {
		h.expectOutcome(plan.ID)
		return
	}
	h.outcomeReported(plan.ID)
}

// stepsMoving reports whether a step of plan runs, or will run by itself
// because the request it waits for is done.
func stepsMoving(plan *request.Request, steps []*request.Request) bool {
	done := map[int64]bool{plan.ID: plan.State == request.StateDone}
	for _, s := range steps {
		done[s.ID] = s.State == request.StateDone
	}
	for _, s := range steps {
		switch {
		case s.State == request.StateApproved || s.State == request.StateCommitting:
			return true
		case s.WaitsInPlan():
			if id, _ := request.AwaitedRequest(s.Result.WaitReason); done[id] {
				return true
			}
		}
	}
	return false
}

// postChecklist posts the Partner Hub checklist of a template that waits
// for its provisioning id, after its outcome: in the summary's thread and
// to the requester.
func (h *Handler) postChecklist(ctx context.Context, r *request.Request) {
	h.queue.Report(ctx, r.ID, "post checklist", func(ctx context.Context) error {
		spec, err := request.SpecOf[request.TemplateSpec](r)
		if err != nil {
			return err
		}
		m := checklistMessage(r, spec)
		if r.Summary.TS != "" {
			if err := h.msg.PostThread(ctx, r.Summary.Channel, r.Summary.TS, m); err != nil {
				return err
			}
		}
		return h.msg.DM(ctx, r.Requester, m)
	})
}

// snapshot copies r for work that runs later.
func snapshot(r *request.Request) *request.Request {
	c := *r
	return &c
}
