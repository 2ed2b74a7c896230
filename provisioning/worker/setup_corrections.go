package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// Result.Status of a correction whose Webex call was sent: a run after a
// crash that finds the change made knows it was its own, not a change that
// was never needed (which fails instead of ending ✅ with nothing done).
const (
	userChanging = "changing"
	userRemoving = "removing"
)

// userOf resolves a correction's customer and looks its user up by email
// (nil when absent). ok is false when the request was parked or failed on
// the way; err is then what Commit returns.
func (w *Worker) userOf(ctx context.Context, r *request.Request, ref request.CustomerRef, email string) (request.CustomerRef, *webex.Subscriber, bool, error) {
	ref, ok, err := w.resolveCustomer(ctx, r, ref)
	if !ok {
		return ref, nil, false, err
	}
	sub, err := findUser(ctx, w.Setup, ref.CustomerID, email)
	if err != nil {
		return ref, nil, false, w.failSetup(ctx, r, err)
	}
	return ref, sub, true, nil
}

// mark records that r's Webex call is about to be sent (Result.Status).
func (w *Worker) mark(ctx context.Context, r *request.Request, status string) (*request.Request, error) {
	marked, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{request.StateCommitting}, Actor: workerActor, Action: status,
		Mutate: func(x *request.Request) error { x.Result.Status = status; return nil },
	})
	if err != nil {
		return nil, request.IgnoreConflict(err)
	}
	return marked, nil
}

// commitChange moves a user to another package. A move from webex_meetings
// to a calling package sends the number (phone=auto: the next available
// one of the location), extension and location with it; any other move
// sends the package alone, so Webex keeps the user's number. A change that
// cannot work or would change nothing fails saying why.
func (w *Worker) commitChange(ctx context.Context, r *request.Request) error {
	spec, err := setupSpec[request.ChangeSpec](ctx, w, r)
	if spec == nil {
		return err
	}
	ref, sub, ok, err := w.userOf(ctx, r, spec.Customer, spec.Email)
	if !ok {
		return err
	}
	msg := spec.Email + ": " + spec.Package
	if r.Result.Status == userChanging && sub != nil && subscriberPackage(sub) == spec.Package {
		return w.settle(ctx, r, request.StateCommitting, request.StateDone, request.UserChanged, msg) // our own change, before a crash
	}
	spec.Customer = ref
	if why := changeRefusal(spec, sub); why != "" {
		return w.fail(ctx, r, r.State, why, "")
	}
	upd := webex.SubscriberUpdate{Packages: []string{spec.Package}}
	if spec.Number() {
		params, why, err := w.changeNumber(ctx, ref, spec)
		if err != nil {
			return w.failSetup(ctx, r, err)
		}
		if why != "" {
			return w.fail(ctx, r, r.State, why, "")
		}
		upd.ProvisioningParameters = params
		if params.PrimaryPhoneNumber != "" {
			msg += " (" + params.PrimaryPhoneNumber + ")"
		}
	}
	if r, err = w.mark(ctx, r, userChanging); r == nil || err != nil {
		return err
	}
	if _, err := w.Setup.UpdateSubscriber(ctx, sub.ID, upd); err != nil {
		return w.failSetup(ctx, r, err)
	}
	return w.settle(ctx, r, request.StateCommitting, request.StateDone, request.UserChanged, msg)
}

// changeNumber is what a move to a calling package sends: the location, the
// extension and the number (phone=auto: the next available one there).
func (w *Worker) changeNumber(ctx context.Context, ref request.CustomerRef, spec *request.ChangeSpec) (*webex.SubscriberUpdateParameters, string, error) {
	locs, err := w.Setup.ListLocations(ctx, ref.OrgID)
	if err != nil {
		return nil, "", err
	}
	loc := findLocation(locs, spec.Location)
	if loc == nil {
		return nil, fmt.Sprintf("location %q does not exist at %s (create it with `location` first)", spec.Location, ref.ExternalID), nil
	}
	params := &webex.SubscriberUpdateParameters{LocationID: loc.ID, Extension: spec.Extension, PrimaryPhoneNumber: spec.Phone}
	if spec.Phone == request.PhoneAuto {
		phone, err := newNumberPool(w.Setup, ref.OrgID, nil).next(ctx, loc.ID)
		if err != nil {
			return nil, "", err
		}
		if phone == "" {
			return nil, noNumberLeft(ref, loc.Name), nil
		}
		params.PrimaryPhoneNumber = phone
	}
	return params, "", nil
}

// commitRemove removes a user. A user gone after this request sent the
// removal (a run interrupted after it) is removed; one that never was a
// user fails saying so.
func (w *Worker) commitRemove(ctx context.Context, r *request.Request) error {
	spec, err := setupSpec[request.RemoveSpec](ctx, w, r)
	if spec == nil {
		return err
	}
	ref, sub, ok, err := w.userOf(ctx, r, spec.Customer, spec.Email)
	if !ok {
		return err
	}
	if sub == nil {
		if r.Result.Status == userRemoving {
			return w.settle(ctx, r, request.StateCommitting, request.StateDone, request.UserRemoved, spec.Email)
		}
		return w.fail(ctx, r, r.State, fmt.Sprintf("%s is not a user of %s: nothing to remove", spec.Email, ref.ExternalID), "")
	}
	if r, err = w.mark(ctx, r, userRemoving); r == nil || err != nil {
		return err
	}
	if err := w.Setup.DeleteSubscriber(ctx, sub.ID); err != nil && !webex.IsNotFound(err) {
		return w.failSetup(ctx, r, err)
	}
	return w.settle(ctx, r, request.StateCommitting, request.StateDone, request.UserRemoved, spec.Email)
}

// commitDelete deletes (unlinks) the customer; one already gone counts as
// deleted. Webex answers 202 and removes it in the background.
func (w *Worker) commitDelete(ctx context.Context, r *request.Request) error {
	spec, err := setupSpec[request.DeleteSpec](ctx, w, r)
	if spec == nil {
		return err
	}
	ref := spec.Customer
	if ref.CustomerID == "" {
		// Deleting needs the wholesale id alone: a customer that failed at
		// Webex (status error, no org id) is deleted too.
		var ok bool
		var err error
		if ref, ok, err = w.resolveCustomer(ctx, r, spec.Customer); !ok {
			return err
		}
	}
	if err := w.Setup.DeleteCustomer(ctx, ref.CustomerID); err != nil && !webex.IsNotFound(err) {
		return w.failSetup(ctx, r, err)
	}
	if err := w.markDeleted(ctx, r, ref.RequestID); err != nil {
		return err
	}
	return w.settle(ctx, r, request.StateCommitting, request.StateDone, request.CustomerDeleted, "")
}

// markDeleted records on the customer request that it was deleted, so that
// nothing is set up for it any more: setup requests waiting for it fail,
// new ones are refused. A customer known only by its Webex id has no
// request to mark.
func (w *Worker) markDeleted(ctx context.Context, r *request.Request, customer int64) error {
	if customer == 0 {
		return nil
	}
	_, err := w.Store.Transition(ctx, customer, request.Transition{
		From: []request.State{request.StateDone}, Actor: workerActor, Action: request.ActionDeleted, Note: "by " + r.Ref(),
		Mutate: func(x *request.Request) error { x.Result.Status = request.CustomerDeleted; return nil },
	})
	if err != nil && !errors.Is(err, request.ErrNotFound) {
		return request.IgnoreConflict(err)
	}
	return nil
}
