package handlers

import (
	"context"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// publishAfter is how long a pending request may wait for its summary or
// its precheck before the publish sweep takes it over: far longer than a
// publish takes when its task is not shed.
const publishAfter = 2 * time.Minute

// unpublished reports whether r waits for what publish does — its summary
// post or its precheck — and has waited past publishAfter at now.
func unpublished(r *request.Request, now time.Time) bool {
	return r.State == request.StatePendingApproval &&
		(r.Summary.TS == "" || r.Precheck.Status == request.PrecheckRunning) &&
		now.Sub(r.UpdatedAt) >= publishAfter
}

// republish queues publish for r, a pending request whose summary was never
// posted or whose precheck never finished: its task was shed from a full
// queue, or the process ended before it ran. The precheck is rebuilt from
// the stored request where the kind allows. It reports whether the task was
// queued (false: the queue is full; the next sweep tries again).
func (h *Handler) republish(ctx context.Context, r *request.Request) bool {
	return h.queuePublish(ctx, r, h.checkFor(r))
}

// republishBatch bounds the pending requests one sweep reads, oldest first:
// far more than a partner has waiting for approval at a time.
const republishBatch = 1000

// RepublishPending publishes the pending requests whose summary or precheck
// never came (a task shed from a full queue, a process that stopped):
// publish's lock and fresh read make it safe on every replica at once. It
// stops at a full queue; the next round goes on. Without a lister (Deps.UX)
// there is nothing to read.
func (h *Handler) RepublishPending(ctx context.Context) {
	if h.ux.lister == nil {
		return
	}
	pending, err := h.ux.lister.List(ctx, store.Query{States: []request.State{request.StatePendingApproval}, Limit: republishBatch})
	if err != nil {
		if ctx.Err() == nil {
			h.log.WithError(err).Warn("list pending requests")
		}
		return
	}
	now := h.now()
	for _, r := range pending {
		if unpublished(r, now) && !h.republish(ctx, r) {
			return
		}
	}
}
