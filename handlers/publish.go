package handlers

import (
	"context"
	"time"

	"github.com/onboardbot/onboardbot/provisioning"
)

// PublishAfter is how long a pending request may wait for its summary or
// its precheck before the publish sweep takes it over: far longer than a
// publish takes when its task is not shed.
const PublishAfter = 2 * time.Minute

// Unpublished reports whether r waits for what publish does — its summary
// post or its precheck — and has waited past PublishAfter at now.
func Unpublished(r *provisioning.Request, now time.Time) bool {
	return r.State == provisioning.StatePendingApproval &&
		(r.Summary.TS == "" || r.Precheck.Status == provisioning.PrecheckRunning) &&
		now.Sub(r.UpdatedAt) >= PublishAfter
}

// Republish queues publish for r, a pending request whose summary was never
// posted or whose precheck never finished: its task was shed from a full
// queue, or the process ended before it ran. The precheck is rebuilt from
// the stored request where the kind allows. It reports whether the task was
// queued (false: the queue is full; the next sweep tries again).
func (h *Handler) Republish(ctx context.Context, r *provisioning.Request) bool {
	return h.queuePublish(ctx, r, h.checkFor(r))
}

// queuePublish queues publish for r with check, as a task that may be shed
// from a full queue: the publish sweep makes up for it. It reports whether
// the task was queued.
func (h *Handler) queuePublish(ctx context.Context, r *provisioning.Request, check precheckFunc) bool {
	id := r.ID
	return h.spare(ctx, "publish "+r.Ref(), func(ctx context.Context) error { return h.publish(ctx, id, check) })
}

// checkFor rebuilds the precheck of a stored request; nil when its kind has
// none or needs what only the submission had (a users batch's raw rows).
func (h *Handler) checkFor(r *provisioning.Request) precheckFunc {
	switch r.Kind {
	case provisioning.KindCustomer:
		if spec, err := decodeCustomer(r); err == nil {
			return h.customerCheck(spec)
		}
	case provisioning.KindTemplate:
		if spec, err := decodeTemplate(r); err == nil {
			return h.templateCheck(spec)
		}
	case provisioning.KindNumbers:
		if spec, err := decodeSpec[provisioning.NumbersSpec](r); err == nil {
			return h.numbersCheck(spec)
		}
	case provisioning.KindPSTN:
		if spec, err := decodeSpec[provisioning.PSTNSpec](r); err == nil {
			return h.pstnCheck(spec)
		}
	case provisioning.KindUsers:
		if spec, err := decodeSpec[provisioning.UsersSpec](r); err == nil {
			return h.usersCheck(spec)
		}
	case provisioning.KindChange:
		if spec, err := decodeSpec[provisioning.ChangeSpec](r); err == nil {
			return h.changeCheck(spec)
		}
	case provisioning.KindLocation:
		if spec, err := decodeSpec[provisioning.LocationSpec](r); err == nil {
			return h.locationCheck(spec)
		}
	case provisioning.KindRemove:
		if spec, err := decodeSpec[provisioning.RemoveSpec](r); err == nil {
			return h.removeCheck(spec)
		}
	}
	return nil
}

// templateCheck verifies a template's provisioning id, when it has one.
func (h *Handler) templateCheck(spec *provisioning.TemplateSpec) precheckFunc {
	if spec.ProvisioningID == "" {
		return nil
	}
	return h.customerCheck(templateCheckSpec(spec, spec.ProvisioningID))
}
