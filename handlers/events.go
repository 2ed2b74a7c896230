package handlers

import (
	"context"
	"fmt"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// The events run after the worker has moved on, in the background: each
// works on its own copy of the request, as it was when reported (the worker
// may go on to change the one it holds).

// Progress posts a step of a commit into the summary's thread.
func (h *Handler) Progress(ctx context.Context, req *request.Request, text string) {
	r := snapshot(req)
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
// the new state, the thread gets the outcome line, the requester a DM.
func (h *Handler) Settled(ctx context.Context, req *request.Request) {
	r := snapshot(req)
	line := outcomeLine(r, h.now())
	// The outcome line stays one line (scripts match it); why parts failed
	// follows it in the same message.
	outcome := chat.Message{Text: chat.TruncateMd(line+failureLines(r), chat.MaxMessageChars), Outcome: chat.Unmrkdwn(line + failureLines(r))}
	h.queue.Report(ctx, r.ID, "report outcome", func(ctx context.Context) error {
		defer h.outcomeReported(r.ID)
		if err := h.refreshSummary(ctx, r); err != nil {
			h.log.WithError(err).WithField("request", r.Ref()).Warn("update summary")
		}
		if line == "" {
			return nil
		}
		if r.Summary.TS != "" {
			if err := h.msg.PostThread(ctx, r.Summary.Channel, r.Summary.TS, outcome); err != nil {
				h.log.WithError(err).WithField("request", r.Ref()).Warn("post outcome")
			}
		}
		dm := fmt.Sprintf("Your request %s (%s): %s %s", r.Ref(), chat.Esc(r.Subject), requestIcon(r), describeStateAt(r, h.now()))
		dm = chat.TruncateMd(dm+failureLines(r), chat.MaxSectionText)
		if r.Summary.TS == "" {
			// No thread to carry the outcome line: the DM carries it.
			return h.msg.DM(ctx, r.Requester, outcome)
		}
		return h.msg.DM(ctx, r.Requester, chat.Message{Text: dm, Blocks: resubmitDMBlocks(r, dm)})
	})
	if r.Kind == request.KindTemplate && r.State == request.StateWaiting {
		h.postChecklist(ctx, r)
	}
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
