package handlers

import (
	"context"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning"
)

// Progress posts a step of a commit into the summary's thread.
func (h *Handler) Progress(ctx context.Context, r *provisioning.Request, text string) {
	if h.batchProgress(ctx, r, text) { // batch counts become the summary's bar
		return
	}
	if r.Summary.TS == "" {
		return
	}
	h.report(ctx, r.ID, "post progress", func(ctx context.Context) error {
		return h.msg.PostThread(ctx, r.Summary.Channel, r.Summary.TS, Message{Text: "⏳ " + r.Ref() + ": " + text})
	})
}

// Refresh re-renders r's summary (a hold's age) without a new message.
func (h *Handler) Refresh(ctx context.Context, r *provisioning.Request) {
	h.background(ctx, "refresh summary", func(ctx context.Context) error { return h.refreshSummary(ctx, r) })
}

// Settled tells everyone concerned that r ended or parked: the summary shows
// the new state, the thread gets the outcome line, the requester a DM.
func (h *Handler) Settled(ctx context.Context, r *provisioning.Request) {
	line := outcomeLine(r, h.now())
	h.report(ctx, r.ID, "report outcome", func(ctx context.Context) error {
		defer h.outcomeReported(r.ID)
		if err := h.refreshSummary(ctx, r); err != nil {
			h.log.WithError(err).WithField("request", r.Ref()).Warn("update summary")
		}
		if line == "" {
			return nil
		}
		if r.Summary.TS != "" {
			if err := h.msg.PostThread(ctx, r.Summary.Channel, r.Summary.TS, Message{Text: line, Outcome: line}); err != nil {
				h.log.WithError(err).WithField("request", r.Ref()).Warn("post outcome")
			}
		}
		dm := fmt.Sprintf("Your request %s (%s): %s %s", r.Ref(), r.Subject, stateIcon(r.State), describeStateAt(r, h.now()))
		if r.Summary.TS == "" {
			// No thread to carry the outcome line: the DM carries it.
			return h.msg.DM(ctx, r.Requester, Message{Text: line, Outcome: line})
		}
		return h.msg.DM(ctx, r.Requester, Message{Text: dm, Blocks: resubmitDMBlocks(r, dm)})
	})
}
