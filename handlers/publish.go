package handlers

import (
	"context"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// PublishAfter is how long a pending request may wait for its summary or
// its precheck before the publish sweep takes it over: far longer than a
// publish takes when its task is not shed.
const PublishAfter = 2 * time.Minute

// Unpublished reports whether r waits for what publish does — its summary
// post or its precheck — and has waited past PublishAfter at now.
func Unpublished(r *request.Request, now time.Time) bool {
	return r.State == request.StatePendingApproval &&
		(r.Summary.TS == "" || r.Precheck.Status == request.PrecheckRunning) &&
		now.Sub(r.UpdatedAt) >= PublishAfter
}

// Republish queues publish for r, a pending request whose summary was never
// posted or whose precheck never finished: its task was shed from a full
// queue, or the process ended before it ran. The precheck is rebuilt from
// the stored request where the kind allows. It reports whether the task was
// queued (false: the queue is full; the next sweep tries again).
func (h *Handler) Republish(ctx context.Context, r *request.Request) bool {
	return h.queuePublish(ctx, r, h.checkFor(r))
}

// queuePublish queues publish for r with check, as a task that may be shed
// from a full queue: the publish sweep makes up for it. It reports whether
// the task was queued.
func (h *Handler) queuePublish(ctx context.Context, r *request.Request, check precheckFunc) bool {
	id := r.ID
	return h.queue.Spare(ctx, "publish "+r.Ref(), func(ctx context.Context) error { return h.publish(ctx, id, check) })
}

// templateCheck verifies a template's provisioning id, when it has one.
func (h *Handler) templateCheck(spec *request.TemplateSpec) precheckFunc {
	if spec.ProvisioningID == "" {
		return nil
	}
	return h.customerCheck(templateCheckSpec(spec, spec.ProvisioningID))
}
