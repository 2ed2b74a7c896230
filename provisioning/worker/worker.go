package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// Worker commits approved requests. It takes jobs from the job stream, keeps
// its claim fresh while it works, and parks long waits on the watch list so
// that any replica can pick them up later.
type Worker struct {
	Store     RequestStore
	Jobs      JobQueue
	Watch     WatchList
	Customers CustomerAPI
	Events    Events
	Log       *logrus.Entry
	// Templates keeps template versions: an approved template is
	// bookkeeping only (Webex has no template API).
	Templates TemplateStore
	// Setup is the Webex client for users, locations, numbers and
	// corrections; Rows keeps a batch's per-row outcomes; Concurrency
	// bounds a batch's parallel Webex calls (WORKER_CONCURRENCY, default 4).
	Setup       SetupAPI
	Rows        RowStore
	Concurrency int
	// Runners is how many jobs people wait for the worker runs at once
	// (WORKER_JOBS, default 4); the bulk lane of imports runs four times
	// as many.
	Runners int

	Consumer          string        // unique per process
	PollInterval      time.Duration // between status polls of a provisioning customer
	ProvisionDeadline time.Duration // then a provisioning customer moves to the watch list
	ClaimRefresh      time.Duration // how often a held job's claim is renewed
	WatchInterval     time.Duration // how long a watched request rests between checks
	Now               func() time.Time
	// Yield, when set, is called before each job: the bot's answers to
	// Slack go first (handlers.Handler.YieldToAcks).
	Yield func()
	// Dependents finds the requests of a customer (the store's index), so
	// that those waiting for a request that just settled are checked at
	// once instead of at their next, ever later, watch; nil: they wait for
	// it.
	Dependents DependentFinder
}

// DependentFinder lists the setup requests of customer request id.
type DependentFinder interface {
	CustomerRequests(ctx context.Context, id int64, limit int) ([]*request.Request, int64, error)
}

const workerActor = request.ActorWorker

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *logrus.Entry {
	if w.Log != nil {
		return w.Log
	}
	return logrus.NewEntry(logrus.StandardLogger())
}

// Commit runs one approved request to its next resting state. It returns an
// error only for system faults after which the job must be retried; outcomes
// (done, failed, waiting) are recorded on the request and reported as events.
func (w *Worker) Commit(ctx context.Context, id int64) error {
	r, err := w.Store.Get(ctx, id)
	if err != nil {
		if errors.Is(err, request.ErrNotFound) {
			return nil
		}
		return err
	}
	switch r.State {
	case request.StateApproved:
		if r.ApprovedHash != "" && r.ApprovedHash != r.Hash {
			return w.fail(ctx, r, request.StateApproved, "refused: the request changed after it was approved", "")
		}
		r, err = w.Store.Transition(ctx, id, request.Transition{
			From: []request.State{request.StateApproved}, To: request.StateCommitting, Actor: workerActor, Action: request.ActionCommitting,
		})
		if err != nil {
			var sc *request.StateConflict
			if errors.As(err, &sc) {
				return nil // another worker has it
			}
			return err
		}
	case request.StateCommitting:
		// Redelivered after a crash: carry on from what is recorded.
	case request.StateWaiting:
		// Redelivered after a crash between parking and watching: make sure
		// the watch list has it (adding it again is harmless).
		return w.Watch.Watch(ctx, r.ID, w.now())
	default:
		return nil
	}
	if commit, ok := commits[r.Kind]; ok {
		return commit(w, ctx, r)
	}
	return w.fail(ctx, r, request.StateCommitting, fmt.Sprintf("requests of kind %q cannot be committed by this build", r.Kind), "")
}

// commits is how each kind of request is committed: a new kind adds its
// commit here.
var commits = map[request.Kind]func(w *Worker, ctx context.Context, r *request.Request) error{
	request.KindCustomer: (*Worker).commitCustomer,
	request.KindTemplate: (*Worker).commitTemplate,
	request.KindUsers:    (*Worker).commitUsers,
	request.KindLocation: (*Worker).commitLocation,
	request.KindNumbers:  (*Worker).commitNumbers,
	request.KindPSTN:     (*Worker).commitPSTN,
	request.KindChange:   (*Worker).commitChange,
	request.KindRemove:   (*Worker).commitRemove,
	request.KindDelete:   (*Worker).commitDelete,
	request.KindImport:   (*Worker).commitImport,
}

func (w *Worker) commitCustomer(ctx context.Context, r *request.Request) error {
	spec, err := request.SpecOf[request.CustomerSpec](r)
	if err != nil {
		return w.fail(ctx, r, request.StateCommitting, "stored customer request is unreadable: "+err.Error(), "")
	}
	if err := w.makeSteps(ctx, r, spec); err != nil {
		return err
	}
	if r.Result.CustomerID != "" && r.Result.Status == request.CustomerProvisionedWithErrors {
		// A retry of a customer that ended provisioned_with_errors: Update a
		// Wholesale Customer with its packages makes Webex apply them again;
		// then it is followed like a create. The status is cleared first, so
		// a crash after the update does not send it twice.
		return w.reapplyPackages(ctx, r, spec)
	}
	if r.Result.CustomerID == "" {
		customerID, err := w.createCustomer(ctx, r, spec)
		if err != nil {
			return err
		}
		if customerID == "" {
			return nil // failed and reported
		}
		r, err = w.Store.Transition(ctx, r.ID, request.Transition{
			From: []request.State{request.StateCommitting}, Actor: workerActor, Action: request.ActionCreated,
			Note:   "webex customer " + customerID,
			Mutate: func(x *request.Request) error { x.Result.CustomerID = customerID; return nil },
		})
		if err != nil {
			return request.IgnoreConflict(err)
		}
	}
	return w.pollCustomer(ctx, r)
}

// reapplyPackages sends the customer's packages again and follows the
// customer to its end.
func (w *Worker) reapplyPackages(ctx context.Context, r *request.Request, spec *request.CustomerSpec) error {
	r, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{request.StateCommitting}, Actor: workerActor, Action: request.ActionUpdating,
		Note:   "packages re-applied: " + strings.Join(spec.Packages, ", "),
		Mutate: func(x *request.Request) error { x.Result.Status = request.CustomerUpdating; return nil },
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	w.Events.Progress(ctx, r, "re-applying the packages at Webex")
	if err := w.Customers.UpdateCustomer(ctx, r.Result.CustomerID, spec.Packages); err != nil {
		return w.failErr(ctx, r, err)
	}
	return w.pollCustomer(ctx, r)
}

// createCustomer looks the customer up before creating it, so that a job
// redelivered after a crash never creates twice. It returns "" with a nil
// error when the request failed (already recorded and reported).
func (w *Worker) createCustomer(ctx context.Context, r *request.Request, spec *request.CustomerSpec) (string, error) {
	if r.Precheck.Status == request.PrecheckUnavailable || r.Precheck.Status == request.PrecheckRunning {
		pc, err := w.Customers.PrecheckCustomer(ctx, spec)
		if err != nil {
			return "", w.failErr(ctx, r, err)
		}
		if pc.Status == request.PrecheckFailed {
			return "", w.fail(ctx, r, request.StateCommitting, "precheck failed: "+pc.Message, pc.TrackingID)
		}
	}
	existing, err := w.Customers.FindCustomer(ctx, spec.ExternalID, "")
	if err != nil {
		return "", w.failErr(ctx, r, err)
	}
	if existing != nil {
		if r.Result.Status != "creating" {
			msg := fmt.Sprintf("a customer with external id %s already exists at Webex (customer %s); bring it in with adopt", spec.ExternalID, existing.ID)
			return "", w.fail(ctx, r, request.StateCommitting, msg, "")
		}
		// Our own create went through before a crash: carry on with it.
		return existing.ID, nil
	}
	// Mark the create as attempted before sending it: a customer found after
	// a crash is then known to be ours.
	if _, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{request.StateCommitting}, Actor: workerActor, Action: request.ActionCreating,
		Mutate: func(x *request.Request) error { x.Result.Status = "creating"; return nil },
	}); err != nil {
		return "", request.IgnoreConflict(err)
	}
	w.Events.Progress(ctx, r, "creating the customer at Webex")
	id, err := w.Customers.CreateCustomer(ctx, spec)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		// The create may have been applied although its answer was lost
		// (a timeout or 5xx, then a retry that Webex refuses with 409 for
		// our own external id): the customer we find now is ours.
		if found, ferr := w.Customers.FindCustomer(ctx, spec.ExternalID, ""); ferr == nil && found != nil {
			return found.ID, nil
		}
		return "", w.failErr(ctx, r, err)
	}
	return id, nil
}

// pollCustomer polls until the customer is provisioned or fails, or parks it
// on the watch list when it waits for longer than ProvisionDeadline or sits in
// compliance review.
func (w *Worker) pollCustomer(ctx context.Context, r *request.Request) error {
	deadline := w.now().Add(w.ProvisionDeadline)
	if r.Result.WaitingSince.IsZero() {
		w.Events.Progress(ctx, r, "Webex is provisioning the customer")
	}
	for {
		cs, err := w.Customers.GetCustomer(ctx, r.Result.CustomerID)
		if err != nil {
			return w.failErr(ctx, r, err)
		}
		settled, err := w.applyCustomerStatus(ctx, r, cs, request.StateCommitting)
		if err != nil || settled {
			return err
		}
		if !w.now().Before(deadline) {
			return w.park(ctx, r, request.StateCommitting, cs.Status, "provisioning")
		}
		if err := sleepCtx(ctx, w.PollInterval); err != nil {
			return err
		}
	}
}

// applyCustomerStatus moves r according to Webex's customer status. It
// reports whether r reached a resting state.
func (w *Worker) applyCustomerStatus(ctx context.Context, r *request.Request, cs *request.CustomerState, from request.State) (bool, error) {
	switch cs.Status {
	case request.CustomerProvisioned:
		return true, w.finish(ctx, r, from, cs)
	case request.CustomerError, request.CustomerProvisionedWithErrors:
		return true, w.failCustomer(ctx, r, from, cs)
	case request.CustomerPendingRPLReview:
		return true, w.park(ctx, r, from, cs.Status, "compliance review")
	}
	return false, nil
}

// failCustomer fails a customer that ended provisioned_with_errors or
// error, on the status alone (orgId may be missing), with every reason
// Webex gave, its errors and its packages' warnings (Cisco's own example
// puts the cause of provisioned_with_errors in a warning), and the
// trackingId of the answer that reported it.
func (w *Worker) failCustomer(ctx context.Context, r *request.Request, from request.State, cs *request.CustomerState) error {
	reasons := append(append([]string(nil), cs.Errors...), cs.Warnings...)
	msg := "Webex reports " + cs.Status
	if len(reasons) > 0 {
		msg = strings.Join(reasons, "; ")
	}
	failed, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{from}, To: request.StateFailed, Actor: workerActor, Action: request.ActionFailed, Note: msg,
		Mutate: func(x *request.Request) error {
			x.Result.Message, x.Result.TrackingID, x.Result.Status = msg, cs.TrackingID, cs.Status
			if cs.OrgID != "" {
				x.Result.OrgID = cs.OrgID
			}
			return nil
		},
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	if err := w.Watch.Unwatch(ctx, r.ID); err != nil {
		w.log().WithError(err).Warn("unwatch")
	}
	w.log().WithFields(logrus.Fields{"request": r.Ref(), "trackingId": cs.TrackingID, "status": cs.Status}).Info("customer failed at Webex")
	w.settled(ctx, failed)
	return nil
}

func (w *Worker) finish(ctx context.Context, r *request.Request, from request.State, cs *request.CustomerState) error {
	done, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{from}, To: request.StateDone, Actor: workerActor, Action: request.ActionDone,
		Note: "org " + cs.OrgID,
		Mutate: func(x *request.Request) error {
			x.Result.OrgID = cs.OrgID
			x.Result.Status = cs.Status
			x.Result.CustomerID = cs.ID
			// Warnings of a customer that provisioned all the same are
			// shown with its outcome.
			x.Result.Failures = cs.Warnings
			return nil
		},
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	if err := w.Watch.Unwatch(ctx, r.ID); err != nil {
		w.log().WithError(err).Warn("unwatch")
	}
	w.settled(ctx, done)
	return nil
}

func (w *Worker) park(ctx context.Context, r *request.Request, from request.State, status, reason string) error {
	now := w.now()
	if from == request.StateWaiting && r.Result.WaitReason == reason {
		// Still waiting for the same thing: only the next check moves, and
		// it moves further out as the wait grows (holds can last days).
		if rf, ok := w.Events.(Refresher); ok {
			rf.Refresh(ctx, r) // the summary shows the hold's age
		}
		return w.Watch.Watch(ctx, r.ID, now.Add(w.waitCheckAfter(r, now)))
	}
	parked, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{from}, To: request.StateWaiting, Actor: workerActor, Action: request.ActionWaiting, Note: reason,
		Mutate: func(x *request.Request) error {
			if x.Result.WaitReason != reason || x.Result.WaitingSince.IsZero() {
				x.Result.WaitingSince = now
			}
			x.Result.WaitReason = reason
			x.Result.Status = status
			return nil
		},
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	if err := w.Watch.Watch(ctx, r.ID, now.Add(w.watchInterval())); err != nil {
		return fmt.Errorf("watch %s: %w", r.Ref(), err)
	}
	w.Events.Settled(ctx, parked)
	return nil
}

func (w *Worker) failErr(ctx context.Context, r *request.Request, err error) error {
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: hand the job back
	}
	msg, tid := DescribeFailure(err)
	return w.fail(ctx, r, r.State, msg, tid)
}

func (w *Worker) fail(ctx context.Context, r *request.Request, from request.State, msg, trackingID string) error {
	failed, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{from}, To: request.StateFailed, Actor: workerActor, Action: request.ActionFailed, Note: msg,
		Mutate: func(x *request.Request) error {
			x.Result.Message = msg
			x.Result.TrackingID = trackingID
			return nil
		},
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	if err := w.Watch.Unwatch(ctx, r.ID); err != nil {
		w.log().WithError(err).Warn("unwatch")
	}
	w.log().WithFields(logrus.Fields{"request": r.Ref(), "trackingId": trackingID}).Info("request failed")
	w.settled(ctx, failed)
	return nil
}

func (w *Worker) watchInterval() time.Duration {
	if w.WatchInterval > 0 {
		return w.WatchInterval
	}
	return time.Minute
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
