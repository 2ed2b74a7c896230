package provisioning

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// Result.Status of corrections that are done.
const (
	UserChanged     = "changed"
	UserRemoved     = "removed"
	CustomerDeleted = "deleted"
)

// userOf resolves a correction's customer and looks its user up by email
// (nil when absent). ok is false when the request was parked or failed on
// the way; err is then what Commit returns.
func (w *Worker) userOf(ctx context.Context, r *Request, ref CustomerRef, email string) (CustomerRef, *webex.Subscriber, bool, error) {
	ref, ok, err := w.resolveCustomer(ctx, r, ref)
	if !ok {
		return ref, nil, false, err
	}
	sub, err := w.findSubscriber(ctx, ref.CustomerID, email)
	if err != nil {
		return ref, nil, false, w.failSetup(ctx, r, err)
	}
	return ref, sub, true, nil
}

// findSubscriber looks a user of the customer up by email; nil when absent.
func (w *Worker) findSubscriber(ctx context.Context, customerID, email string) (*webex.Subscriber, error) {
	subs, err := w.Setup.ListSubscribers(ctx, webex.SubscriberQuery{CustomerID: customerID, Email: email})
	if err != nil {
		return nil, err
	}
	for i := range subs {
		if strings.EqualFold(subs[i].Email, email) {
			return &subs[i], nil
		}
	}
	return nil, nil
}

// commitChange moves a user to another package. No provisioning parameters
// are sent, so Webex keeps the user's number, extension and location: a
// move between calling packages needs nothing else, and a move from
// webex_meetings to a calling package is refused by Webex with its reason.
func (w *Worker) commitChange(ctx context.Context, r *Request) error {
	var spec ChangeSpec
	if ok, err := w.decodeSpec(ctx, r, &spec); !ok {
		return err
	}
	ref, sub, ok, err := w.userOf(ctx, r, spec.Customer, spec.Email)
	if !ok {
		return err
	}
	if sub == nil {
		return w.fail(ctx, r, r.State, fmt.Sprintf("%s is not a user of %s", spec.Email, ref.ExternalID), "")
	}
	msg := spec.Email + ": " + spec.Package
	if !subscriberHas(sub, spec.Package) {
		if _, err := w.Setup.UpdateSubscriber(ctx, sub.ID, webex.SubscriberUpdate{Packages: []string{spec.Package}}); err != nil {
			return w.failSetup(ctx, r, err)
		}
	}
	return w.settle(ctx, r, StateCommitting, StateDone, UserChanged, msg)
}

func subscriberHas(sub *webex.Subscriber, pkg string) bool {
	if len(sub.Packages) > 0 {
		return len(sub.Packages) == 1 && sub.Packages[0] == pkg
	}
	return sub.Package == pkg
}

// commitRemove removes a user. A user already gone counts as removed: a run
// interrupted after the delete must not fail when it runs again.
func (w *Worker) commitRemove(ctx context.Context, r *Request) error {
	var spec RemoveSpec
	if ok, err := w.decodeSpec(ctx, r, &spec); !ok {
		return err
	}
	_, sub, ok, err := w.userOf(ctx, r, spec.Customer, spec.Email)
	if !ok {
		return err
	}
	if sub != nil {
		if err := w.Setup.DeleteSubscriber(ctx, sub.ID); err != nil && !webex.IsNotFound(err) {
			return w.failSetup(ctx, r, err)
		}
	}
	return w.settle(ctx, r, StateCommitting, StateDone, UserRemoved, spec.Email)
}

// commitDelete deletes (unlinks) the customer; one already gone counts as
// deleted. Webex answers 202 and removes it in the background.
func (w *Worker) commitDelete(ctx context.Context, r *Request) error {
	var spec DeleteSpec
	if ok, err := w.decodeSpec(ctx, r, &spec); !ok {
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
	return w.settle(ctx, r, StateCommitting, StateDone, CustomerDeleted, "")
}

// markDeleted records on the customer request that it was deleted, so that
// nothing is set up for it any more: setup requests waiting for it fail,
// new ones are refused. A customer known only by its Webex id has no
// request to mark.
func (w *Worker) markDeleted(ctx context.Context, r *Request, customer int64) error {
	if customer == 0 {
		return nil
	}
	_, err := w.Store.Transition(ctx, customer, Transition{
		From: []State{StateDone}, Actor: workerActor, Action: "deleted", Note: "by " + r.Ref(),
		Mutate: func(x *Request) error { x.Result.Status = CustomerDeleted; return nil },
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return ignoreConflict(err)
	}
	return nil
}
