package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// parkUsers puts a batch on the watch list until its users consent. A
// re-check that changes nothing only moves the next check.
func (w *Worker) parkUsers(ctx context.Context, r *request.Request, from request.State, msg string, failures []string) error {
	now := w.now()
	if from == request.StateWaiting && r.Result.Message == msg && r.Result.WaitReason == request.ConsentWaitReason {
		return w.Watch.Watch(ctx, r.ID, now.Add(w.waitCheckAfter(r, now)))
	}
	to := request.StateWaiting
	if from == request.StateWaiting {
		to = "" // a plain update of the count
	}
	parked, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{from}, To: to, Actor: workerActor, Action: request.ActionWaiting, Note: msg,
		Mutate: func(x *request.Request) error {
			if x.Result.WaitReason != request.ConsentWaitReason || x.Result.WaitingSince.IsZero() {
				x.Result.WaitingSince = now
			}
			x.Result.WaitReason, x.Result.Status, x.Result.Message = request.ConsentWaitReason, request.UsersConsent, msg
			x.Result.Failures = failures
			return nil
		},
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	if err := w.Watch.Watch(ctx, r.ID, now.Add(w.waitCheckAfter(parked, now))); err != nil {
		return fmt.Errorf("watch %s: %w", r.Ref(), err)
	}
	if from != request.StateWaiting {
		w.Events.Settled(ctx, parked)
	}
	return nil
}

// recheckConsent is the watch list's check of a batch waiting for consent:
// one list of the customer's subscribers tells which users have consented.
// A Webex failure leaves the batch waiting for the next check.
func (w *Worker) recheckConsent(ctx context.Context, r *request.Request) error {
	spec, err := request.SpecOf[request.UsersSpec](r)
	if err != nil {
		return w.fail(ctx, r, request.StateWaiting, "stored users request is unreadable: "+err.Error(), "")
	}
	customerID := r.Result.CustomerID
	if customerID == "" {
		customerID = spec.Customer.CustomerID
	}
	outcomes, err := w.Rows.RowOutcomes(ctx, r.ID)
	if err != nil {
		return err
	}
	var subs []webex.Subscriber
	if w.Setup != nil {
		subs, err = w.Setup.ListSubscribers(ctx, webex.SubscriberQuery{CustomerID: customerID})
	}
	if err != nil || w.Setup == nil {
		if werr := w.Watch.Watch(ctx, r.ID, w.now().Add(w.waitCheckAfter(r, w.now()))); werr != nil {
			return werr
		}
		return err
	}
	// Only consent rows move here; failed rows wait for `retry`.
	var consentRows []request.UserRow
	for _, row := range spec.Rows {
		if outcomes[row.Line].Status == request.RowConsent {
			consentRows = append(consentRows, row)
		}
	}
	_, changed := reconcileRows(consentRows, outcomes, subs, approvalTime(r), w.now())
	if err := w.Rows.SaveRowOutcomes(ctx, r.ID, changed); err != nil {
		return err
	}
	return w.settleUsers(ctx, r, request.StateWaiting, spec.Rows, outcomes)
}

// ResendConsent sends the consent email again to every user of batch
// requestID who has not consented yet; it returns how many were sent. A
// failure for one user does not stop the others; the first is returned.
func ResendConsent(ctx context.Context, api SetupAPI, rows RowStore, requestID int64) (int, error) {
	outcomes, err := rows.RowOutcomes(ctx, requestID)
	if err != nil {
		return 0, fmt.Errorf("resend consent for %s: %w", request.FormatID(requestID), err)
	}
	sent := 0
	var first error
	for _, o := range outcomes {
		if o.Status != request.RowConsent || o.SubscriberID == "" {
			continue
		}
		if err := api.ResendConsent(ctx, o.SubscriberID); err != nil {
			if first == nil {
				first = fmt.Errorf("resend consent to %s: %w", o.Email, translate(err))
			}
			continue
		}
		sent++
	}
	return sent, first
}

// maxWaitCheck is the longest rest between two consent checks of a batch.
const maxWaitCheck = 15 * time.Minute

// waitCheckAfter spaces the checks of a waiting request out as its wait grows
// (a tenth of the wait so far, between WatchInterval and maxWaitCheck):
// people take hours or days to consent (and compliance holds days to
// clear), and every check costs Webex calls.
func (w *Worker) waitCheckAfter(r *request.Request, now time.Time) time.Duration {
	waited := time.Duration(0)
	if !r.Result.WaitingSince.IsZero() {
		waited = now.Sub(r.Result.WaitingSince)
	}
	return min(max(w.watchInterval(), waited/10), maxWaitCheck)
}
