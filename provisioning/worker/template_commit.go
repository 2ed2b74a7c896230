package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// TemplateStore keeps the versions of onboarding templates.
type TemplateStore interface {
	// AddTemplateVersion stores tv as the next version of its template and
	// returns its number; the same request twice is the same version.
	AddTemplateVersion(ctx context.Context, tv request.TemplateVersion) (int, error)
}

// commitTemplate turns a committing `template new` into a template version.
// Webex has no template API: this is bookkeeping only. With a provisioning
// id the version is active at once; without one it waits for its
// provisioning id (people create it in Partner Hub, handlers post the
// checklist). A redelivered job finds the request settled and does nothing.
func (w *Worker) commitTemplate(ctx context.Context, r *request.Request) error {
	spec, err := request.SpecOf[request.TemplateSpec](r)
	if err != nil {
		return w.fail(ctx, r, request.StateCommitting, "stored template request is unreadable: "+err.Error(), "")
	}
	if w.Templates == nil {
		return w.fail(ctx, r, request.StateCommitting, "this build has no template store configured", "")
	}
	now := w.now()
	tv := request.TemplateVersion{Name: spec.Name, RequestID: r.ID, Status: request.TemplatePending, Spec: *spec}
	to, action := request.StateWaiting, request.ActionWaiting
	if spec.ProvisioningID != "" {
		tv.Status, tv.ProvisioningID, tv.ActivatedBy, tv.ActivatedAt = request.TemplateActive, spec.ProvisioningID, r.ApprovedBy, now
		to, action = request.StateDone, request.ActionActivated
	}
	n, err := w.Templates.AddTemplateVersion(ctx, tv)
	if err != nil {
		return err
	}
	settled, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{request.StateCommitting}, To: to, Actor: workerActor, Action: action,
		Note: fmt.Sprintf("v%d", n),
		Mutate: func(x *request.Request) error {
			x.Result.Version, x.Result.ProvisioningID = n, tv.ProvisioningID
			if to == request.StateWaiting {
				x.Result.WaitReason, x.Result.WaitingSince = request.WaitingForProvisioningID, now
			}
			return nil
		},
	})
	var sc *request.StateConflict
	if errors.As(err, &sc) {
		return nil // settled by an earlier delivery of the job
	}
	if err != nil {
		return err
	}
	w.Events.Settled(ctx, settled)
	return nil
}
