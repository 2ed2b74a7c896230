package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

var _ SetupAPI = (*webex.Client)(nil)

// waitReasonFor is the WaitReason of a request queued behind awaited.
func waitReasonFor(awaited *request.Request) string {
	reason := request.WaitForPrefix + awaited.Ref()
	if awaited.State == request.StateFailed {
		reason += request.FailedSuffix
	}
	return reason
}

// parkBehind parks r waiting for awaited. The awaited request may settle
// while r is on its way to the watch list: its wake (settled) then finds r
// not waiting yet, or is overwritten by r's own later watch. So awaited is
// read once more after parking, and a change makes r's check due at once.
func (w *Worker) parkBehind(ctx context.Context, r *request.Request, from request.State, awaited *request.Request) error {
	if err := w.park(ctx, r, from, string(awaited.State), waitReasonFor(awaited)); err != nil {
		return err
	}
	again, err := w.Store.Get(ctx, awaited.ID)
	if err != nil || (again.State == awaited.State && again.Version == awaited.Version) {
		return nil // unreadable: the watch list checks it later anyway
	}
	return w.Watch.Watch(ctx, r.ID, w.now())
}

// endedWithout reports whether awaited ended without doing what a request
// queued behind it needs, for good (a failed one may still be retried).
func endedWithout(awaited *request.Request) bool {
	switch awaited.State {
	case request.StateRejected, request.StateCancelled, request.StateExpired:
		return true
	}
	return awaited.State == request.StateDone && awaited.Result.Status == request.CustomerDeleted
}

// setupSpec reads the stored spec of setup request r as T. When it cannot
// be read, or this build has no Webex setup client, r fails (it can never
// commit) and spec is nil.
func setupSpec[T any](ctx context.Context, w *Worker, r *request.Request) (*T, error) {
	spec, err := request.SpecOf[T](r)
	if err != nil {
		return nil, w.fail(ctx, r, request.StateCommitting, fmt.Sprintf("stored %s request is unreadable: %v", r.Kind, err), "")
	}
	if w.Setup == nil {
		return nil, w.fail(ctx, r, request.StateCommitting, "this build has no Webex setup client configured", "")
	}
	return spec, nil
}

// resolveCustomer is what every setup commit waits for before it calls
// Webex: its customer's Webex ids (resolveIDs), then the requests its
// precheck or its plan says it runs after (a location its rows need, a
// plan's step before it). ok is false while r waits or when it failed.
func (w *Worker) resolveCustomer(ctx context.Context, r *request.Request, ref request.CustomerRef) (request.CustomerRef, bool, error) {
	ref, ok, err := w.resolveIDs(ctx, r, ref)
	if !ok {
		return ref, false, err
	}
	if waiting, err := w.waitForDependencies(ctx, r); waiting || err != nil {
		return ref, false, err
	}
	return ref, true, nil
}

// resolveIDs fills in the Webex ids of ref, which are empty when the
// setup request was submitted while its customer was still provisioning or
// on hold. They come from r's own result (resolved on an earlier run), else
// from the customer request. When that is not done yet, r is parked
// "waiting for R-n" on the watch list (", which failed" while a failed
// customer may be retried); when it was rejected, cancelled or deleted, r
// fails saying so. ok is false in all these cases (and when r could not be
// moved).
func (w *Worker) resolveIDs(ctx context.Context, r *request.Request, ref request.CustomerRef) (request.CustomerRef, bool, error) {
	if ref.CustomerID == "" {
		ref.CustomerID, ref.OrgID = r.Result.CustomerID, r.Result.OrgID
	}
	if ref.CustomerID != "" && ref.OrgID != "" {
		return ref, true, nil
	}
	if ref.RequestID == 0 {
		if ref.CustomerID != "" {
			// Corrections of a customer known only by its wholesale id
			// need no org id.
			return ref, true, nil
		}
		return ref, false, w.fail(ctx, r, r.State, fmt.Sprintf("customer %s has no Webex id and no customer request to wait for", ref.ExternalID), "")
	}
	cr, err := w.Store.Get(ctx, ref.RequestID)
	if errors.Is(err, request.ErrNotFound) {
		return ref, false, w.fail(ctx, r, r.State, fmt.Sprintf("customer request %s no longer exists", request.FormatID(ref.RequestID)), "")
	}
	if err != nil {
		return ref, false, fmt.Errorf("read customer request %s: %w", request.FormatID(ref.RequestID), err)
	}
	switch {
	case endedWithout(cr):
		return ref, false, w.fail(ctx, r, r.State, customerGone(cr), "")
	case cr.State != request.StateDone:
		return ref, false, w.parkBehind(ctx, r, r.State, cr)
	}
	if cr.Result.CustomerID == "" {
		return ref, false, w.fail(ctx, r, r.State, fmt.Sprintf("customer request %s is done but names no Webex customer", cr.Ref()), "")
	}
	ref.CustomerID, ref.OrgID = cr.Result.CustomerID, cr.Result.OrgID
	// Remember the ids, so later runs (retry, consent checks) need not ask.
	updated, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{r.State}, Actor: workerActor, Action: request.ActionResolved,
		Note: "customer " + ref.CustomerID + ", org " + ref.OrgID,
		Mutate: func(x *request.Request) error {
			x.Result.CustomerID, x.Result.OrgID = ref.CustomerID, ref.OrgID
			return nil
		},
	})
	if err != nil {
		return ref, false, request.IgnoreConflict(err)
	}
	*r = *updated
	return ref, true, nil
}

// customerGone says why nothing can be set up for customer request cr any
// more.
func customerGone(cr *request.Request) string {
	if cr.State == request.StateDone {
		return fmt.Sprintf("customer %s (%s) was deleted", cr.Subject, cr.Ref())
	}
	msg := fmt.Sprintf("customer request %s was %s", cr.Ref(), cr.State)
	if cr.State == request.StateRejected && cr.Reason != "" {
		msg += ": " + cr.Reason
	}
	return msg
}

// settle moves r to a resting state with its outcome message and reports it.
func (w *Worker) settle(ctx context.Context, r *request.Request, from, to request.State, status, msg string) error {
	return w.settleWith(ctx, r, from, to, status, msg, nil)
}

// settleWith is settle with the lines that say why parts failed.
func (w *Worker) settleWith(ctx context.Context, r *request.Request, from, to request.State, status, msg string, failures []string) error {
	done, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{from}, To: to, Actor: workerActor, Action: string(to), Note: msg,
		Mutate: func(x *request.Request) error {
			x.Result.Status, x.Result.Message, x.Result.TrackingID = status, msg, ""
			x.Result.Failures = failures
			if to != request.StateWaiting {
				x.Result.WaitReason = ""
			}
			return nil
		},
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	if to != request.StateWaiting {
		if err := w.Watch.Unwatch(ctx, r.ID); err != nil {
			w.log().WithError(err).Warn("unwatch")
		}
	}
	*r = *done
	w.settled(ctx, done)
	return nil
}

// checkWatchedSetup checks a waiting setup request from the watch list: one
// queued behind its customer request is requeued once that is done (failed
// when it failed); a user batch waiting for consent re-checks its users.
func (w *Worker) checkWatchedSetup(ctx context.Context, r *request.Request) {
	log := w.log().WithField("request", r.Ref())
	if _, queued := request.AwaitedRequest(r.Result.WaitReason); queued {
		if err := w.requeueIfReady(ctx, r); err != nil {
			log.WithError(err).Warn("queued setup check")
		}
		return
	}
	if r.Kind == request.KindUsers {
		if err := w.recheckConsent(ctx, r); err != nil {
			log.WithError(err).Warn("consent check")
		}
		return
	}
	if err := w.Watch.Unwatch(ctx, r.ID); err != nil {
		log.WithError(err).Warn("unwatch")
	}
}

// requeueIfReady moves a queued setup request back to approved and hands it
// to the job stream once the request it waits for (its customer, a location
// its rows need) is done, or ended for good, so it runs without anyone
// touching it; the commit then finds what it needs, or fails saying why.
// While the awaited request is on its way, or failed and may be retried, r
// keeps waiting, and its reason follows the awaited one's state.
func (w *Worker) requeueIfReady(ctx context.Context, r *request.Request) error {
	if id, ok := request.AwaitedRequest(r.Result.WaitReason); ok {
		awaited, err := w.Store.Get(ctx, id)
		if err != nil && !errors.Is(err, request.ErrNotFound) {
			return fmt.Errorf("read %s: %w", request.FormatID(id), err)
		}
		if err == nil && awaited.State != request.StateDone && !endedWithout(awaited) {
			return w.parkBehind(ctx, r, request.StateWaiting, awaited)
		}
	}
	requeued, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{request.StateWaiting}, To: request.StateApproved, Actor: workerActor, Action: request.ActionRequeued,
		Note: "the awaited request settled",
		Mutate: func(x *request.Request) error {
			x.Result.WaitReason = ""
			return nil
		},
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	if err := w.Watch.Unwatch(ctx, r.ID); err != nil {
		w.log().WithError(err).Warn("unwatch")
	}
	// Should this fail, cmd's requeue loop of approved requests picks it
	// up; the state is already right.
	if err := w.enqueue(ctx, requeued); err != nil {
		return fmt.Errorf("enqueue %s: %w", requeued.Ref(), err)
	}
	return nil
}

// setupFailure turns a failed Webex call into what a person reads.
func setupFailure(err error) (msg, trackingID string) {
	return DescribeFailure(translate(err))
}

// failSetup fails r with a Webex call's message, or hands the job back when
// the worker is stopping.
func (w *Worker) failSetup(ctx context.Context, r *request.Request, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg, tid := setupFailure(err)
	return w.fail(ctx, r, r.State, msg, tid)
}

// settled reports that r reached done or failed and moves the requests
// waiting for it on at once, so a batch queued behind a customer runs as
// soon as the customer is provisioned (or says at once that it failed), not
// at its next check, which moves further out the longer the wait lasts.
func (w *Worker) settled(ctx context.Context, r *request.Request) {
	w.Events.Settled(ctx, r)
	w.wakeImport(ctx, r)
	if w.Dependents == nil {
		return
	}
	customer := customerRequestOf(r)
	if customer == 0 {
		return
	}
	deps, _, err := w.Dependents.CustomerRequests(ctx, customer, 1000)
	if err != nil {
		w.log().WithError(err).WithField("request", r.Ref()).Warn("find the requests waiting for it; they wait for their next check")
		return
	}
	for _, d := range deps {
		if id, ok := request.AwaitedRequest(d.Result.WaitReason); ok && id == r.ID && d.State == request.StateWaiting {
			// Queued again now, not at the watch list's next round: a plan's
			// steps follow each other without a pause. Should that fail, the
			// watch list's check does it.
			if err := w.requeueIfReady(ctx, d); err != nil {
				w.log().WithError(err).WithField("request", d.Ref()).Warn("requeue behind " + r.Ref())
				if err := w.Watch.Watch(ctx, d.ID, w.now()); err != nil {
					w.log().WithError(err).WithField("request", d.Ref()).Warn("wake")
				}
			}
		}
	}
}

// customerRequestOf is the customer request whose requests may wait for r:
// r itself for a customer, its customer for a setup request.
func customerRequestOf(r *request.Request) int64 {
	if r.Kind == request.KindCustomer {
		return r.ID
	}
	ref, _ := r.Customer()
	return ref.RequestID
}
