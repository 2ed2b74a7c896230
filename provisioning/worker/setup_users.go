package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

const (
	defaultConcurrency = 4
	saveEveryRows      = 20
	saveEvery          = time.Second
	progressEvery      = 2 * time.Second
)

func (w *Worker) concurrency() int {
	if w.Concurrency > 0 {
		return w.Concurrency
	}
	return defaultConcurrency
}

// commitUsers provisions a user batch. Finished rows (stored as done or
// existed) are never tried again, so a resumed batch and `retry` both run
// exactly the rows that are left; one paged list of the customer's
// subscribers per run finds users that already exist, including those an
// interrupted run created without recording it.
func (w *Worker) commitUsers(ctx context.Context, r *request.Request) error {
	spec, err := setupSpec[request.UsersSpec](ctx, w, r)
	if spec == nil {
		return err
	}
	if w.Rows == nil {
		return w.fail(ctx, r, request.StateCommitting, "this build has no row store configured for user batches", "")
	}
	ref, ok, err := w.resolveCustomer(ctx, r, spec.Customer)
	if !ok {
		return err
	}
	outcomes, err := w.Rows.RowOutcomes(ctx, r.ID)
	if err != nil {
		return fmt.Errorf("commit %s: %w", r.Ref(), err)
	}
	subs, err := w.Setup.ListSubscribers(ctx, webex.SubscriberQuery{CustomerID: ref.CustomerID})
	if err != nil {
		return w.failSetup(ctx, r, err)
	}
	todo, changed := reconcileRows(spec.Rows, outcomes, subs, approvalTime(r), w.now())
	if err := w.Rows.SaveRowOutcomes(ctx, r.ID, changed); err != nil {
		return fmt.Errorf("commit %s: %w", r.Ref(), err)
	}
	if len(todo) > 0 && r.Precheck.Status != request.PrecheckOK {
		// Approved before Webex could say (its customer was not provisioned,
		// or Webex was unreachable): precheck now, and fail the rows Webex
		// refuses, with its reason, instead of sending them.
		if todo, err = w.precheckAtCommit(ctx, r, ref, todo, outcomes); err != nil {
			return err
		}
	}
	if len(todo) > 0 {
		items, err := w.prepareRows(ctx, ref, todo, spec.Rows, outcomes, seatsLeft(ref.Limits, subs))
		if err != nil {
			return w.failSetup(ctx, r, err)
		}
		if err := w.createRows(ctx, r, ref, items, outcomes, len(spec.Rows)); err != nil {
			return err
		}
	}
	return w.settleUsers(ctx, r, request.StateCommitting, spec.Rows, outcomes)
}

// waitForDependencies parks r while a request its precheck found it needs
// (a location request creating a location its rows name) has not settled;
// waiting reports that it did.
func (w *Worker) waitForDependencies(ctx context.Context, r *request.Request) (waiting bool, err error) {
	for _, id := range r.Precheck.WaitFor {
		dep, err := w.Store.Get(ctx, id)
		if errors.Is(err, request.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read %s: %w", request.FormatID(id), err)
		}
		if dep.State != request.StateDone && !endedWithout(dep) {
			return true, w.parkBehind(ctx, r, r.State, dep)
		}
	}
	return false, nil
}

// precheckAtCommit runs the users precheck on the rows still to create and
// records the rows Webex refuses as failed, with its reason. It returns the
// rows left to create. A precheck Webex cannot answer leaves every row to
// the creates, which refuse what Webex refuses as well.
func (w *Worker) precheckAtCommit(ctx context.Context, r *request.Request, ref request.CustomerRef, todo []request.UserRow, outcomes map[int]request.RowOutcome) ([]request.UserRow, error) {
	up, err := PrecheckUsers(ctx, w.Setup, &request.UsersSpec{Customer: ref, Rows: todo})
	if err != nil || len(up.Refused) == 0 {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return todo, nil
	}
	left := todo[:0:0]
	var refused []request.RowOutcome
	for _, row := range todo {
		why, no := up.Refused[row.Line]
		if !no {
			left = append(left, row)
			continue
		}
		o := request.RowOutcome{Line: row.Line, Email: row.Email, Status: request.RowFailed, Message: "refused by the precheck: " + why, At: w.now()}
		outcomes[row.Line] = o
		refused = append(refused, o)
	}
	if err := w.Rows.SaveRowOutcomes(ctx, r.ID, refused); err != nil {
		return nil, fmt.Errorf("commit %s: %w", r.Ref(), err)
	}
	return left, nil
}

// approvalTime is when the batch was approved: subscribers created before
// it already existed; later ones were made by this request.
func approvalTime(r *request.Request) time.Time {
	if !r.ApprovedAt.IsZero() {
		return r.ApprovedAt
	}
	return r.CreatedAt
}

// reconcileRows brings outcomes up to date with the customer's subscribers
// at Webex. It returns the rows still to create and the outcomes it changed.
// A row whose user exists is never created again: it is existed (a user
// from before the approval), done (created by an earlier, interrupted run,
// or consent given since) or consent (still pending_user_migration).
func reconcileRows(rows []request.UserRow, outcomes map[int]request.RowOutcome, subs []webex.Subscriber, approved, now time.Time) (todo []request.UserRow, changed []request.RowOutcome) {
	byEmail := make(map[string]*webex.Subscriber, len(subs))
	for i := range subs {
		byEmail[strings.ToLower(subs[i].Email)] = &subs[i]
	}
	for _, row := range rows {
		o, had := outcomes[row.Line]
		if had && (o.Status == request.RowDone || o.Status == request.RowExisted) {
			continue
		}
		sub := byEmail[strings.ToLower(row.Email)]
		if sub == nil {
			todo = append(todo, row)
			continue
		}
		next := o
		next.Line, next.Email, next.SubscriberID, next.Message, next.TrackingID = row.Line, row.Email, sub.ID, "", ""
		switch {
		case sub.Failure() != nil:
			// Webex holds the user, failed: sending it again cannot help.
			next.Status = request.RowFailed
			next.Message = failedMessage(sub.Failure()) + " (the user exists at Webex with errors: remove it and add it again)"
		case sub.Status == webex.SubscriberPendingUserMigration:
			next.Status = request.RowConsent
		case o.Status == request.RowConsent:
			next.Status = request.RowDone
		case row.AlreadyExists || createdBefore(sub, approved):
			next.Status = request.RowExisted
		default:
			next.Status = request.RowDone
		}
		if next.Status != o.Status || next.SubscriberID != o.SubscriberID || !had {
			next.At = now
			outcomes[row.Line] = next
			changed = append(changed, next)
		}
	}
	return todo, changed
}

// createdBefore reports whether Webex created sub before t. An unreadable
// date says nothing, which makes the user this request's (done).
func createdBefore(sub *webex.Subscriber, t time.Time) bool {
	created, err := time.Parse(time.RFC3339Nano, sub.Created)
	return err == nil && created.Before(t)
}

// createItem is one row ready to send, or a row that failed before (a
// location or number that could not be found).
type createItem struct {
	row   request.UserRow
	req   webex.SubscriberRequest
	phone string
	fail  string
}

// prepareRows builds the create requests: location ids by name (one list
// per batch) and, for phone=auto, the next available numbers of each
// location (one list per location), skipping numbers this batch already
// gives to other rows.
func (w *Worker) prepareRows(ctx context.Context, ref request.CustomerRef, todo, all []request.UserRow, outcomes map[int]request.RowOutcome, seats map[string]int) ([]createItem, error) {
	var locs []webex.Location
	needLocations := false
	for _, row := range todo {
		needLocations = needLocations || request.CallingSubscriberPackage(row.Package)
	}
	if needLocations && ref.OrgID != "" {
		var err error
		if locs, err = w.Setup.ListLocations(ctx, ref.OrgID); err != nil {
			return nil, err
		}
	}
	used := map[string]bool{}
	for _, row := range all {
		if row.Phone != "" && row.Phone != request.PhoneAuto {
			used[row.Phone] = true
		}
		if o := outcomes[row.Line]; o.Phone != "" && (o.Status == request.RowDone || o.Status == request.RowConsent) {
			used[o.Phone] = true
		}
	}
	pool := newNumberPool(w.Setup, ref.OrgID, used)
	items := make([]createItem, 0, len(todo))
	for _, row := range todo {
		it := createItem{row: row, req: webex.SubscriberRequest{
			CustomerID: ref.CustomerID, Email: row.Email, Packages: []string{row.Package},
			ProvisioningParameters: &webex.SubscriberParameters{FirstName: row.First, LastName: row.Last, Extension: row.Extension},
		}}
		if left, capped := seats[row.Package]; capped {
			if left <= 0 {
				it.fail = fmt.Sprintf("no %s seat left (limit.%s=%d is used up)", row.Package, row.Package, ref.Limits[row.Package])
				items = append(items, it)
				continue
			}
			seats[row.Package] = left - 1
		}
		if request.CallingSubscriberPackage(row.Package) {
			loc := findLocation(locs, row.Location)
			if loc == nil {
				it.fail = fmt.Sprintf("location %q does not exist at the customer (create it with `location` first)", row.Location)
				items = append(items, it)
				continue
			}
			it.req.ProvisioningParameters.LocationID = loc.ID
			phone := row.Phone
			if phone == request.PhoneAuto {
				var err error
				if phone, err = pool.next(ctx, loc.ID); err != nil {
					return nil, err
				}
				if phone == "" {
					it.fail = noNumberLeft(ref, loc.Name)
					items = append(items, it)
					continue
				}
			}
			it.phone = phone
			it.req.ProvisioningParameters.PrimaryPhoneNumber = phone
		}
		items = append(items, it)
	}
	return items, nil
}

// seatsLeft is, per package with an ordered quantity, how many users it
// may still get: the limit minus the customer's subscribers of it now. A
// batch approved before its customer existed was never checked against
// them, and seats may have been taken since the approval.
func seatsLeft(limits map[string]int, subs []webex.Subscriber) map[string]int {
	left := make(map[string]int, len(limits))
	for pkg, n := range limits {
		left[pkg] = n
	}
	for _, s := range subs {
		pkg := s.Package
		if len(s.Packages) > 0 {
			pkg = s.Packages[0]
		}
		if _, capped := left[pkg]; capped {
			left[pkg]--
		}
	}
	return left
}

// findLocation finds a location by name, ignoring case. The default name
// stands for the customer's first location when none is called HQ: the
// customer's calling location may have been given another name at `new`.
func findLocation(locs []webex.Location, name string) *webex.Location {
	for i := range locs {
		if strings.EqualFold(locs[i].Name, name) {
			return &locs[i]
		}
	}
	if strings.EqualFold(name, request.DefaultLocationName) && len(locs) > 0 {
		return &locs[0]
	}
	return nil
}

// rowResult is what one create produced; aborted when the worker stopped
// before knowing (the row is left for the next run).
type rowResult struct {
	outcome request.RowOutcome
	aborted bool
}

// createRows sends the creates with bounded concurrency and records every
// outcome in outcomes and, batched, in the row store. When ctx ends it
// saves what it learnt and returns ctx's error, so the job is retried.
func (w *Worker) createRows(ctx context.Context, r *request.Request, ref request.CustomerRef, items []createItem, outcomes map[int]request.RowOutcome, total int) error {
	work := make(chan createItem)
	results := make(chan rowResult)
	var wg sync.WaitGroup
	for range min(w.concurrency(), len(items)) {
		wg.Go(func() {
			for it := range work {
				results <- w.createRow(ctx, ref, it)
			}
		})
	}
	go func() {
		defer close(work)
		for _, it := range items {
			select {
			case work <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var pending []request.RowOutcome
	var saveErr error
	save := func() {
		if len(pending) == 0 {
			return
		}
		// Saved even while shutting down: a row known to be done must not be
		// left to the next run's lookup alone.
		if err := w.Rows.SaveRowOutcomes(context.WithoutCancel(ctx), r.ID, pending); err != nil && saveErr == nil {
			saveErr = err
		}
		pending = pending[:0]
	}
	tick := time.NewTicker(saveEvery)
	defer tick.Stop()
	lastProgress := w.now()
	provisioned := 0
	for _, o := range outcomes {
		if o.Status == request.RowDone || o.Status == request.RowExisted {
			provisioned++
		}
	}
	for results != nil {
		select {
		case res, ok := <-results:
			if !ok {
				results = nil
				break
			}
			if res.aborted {
				continue
			}
			outcomes[res.outcome.Line] = res.outcome
			if res.outcome.Status == request.RowDone {
				provisioned++
			}
			pending = append(pending, res.outcome)
			if len(pending) >= saveEveryRows {
				save()
			}
			if now := w.now(); now.Sub(lastProgress) >= progressEvery {
				lastProgress = now
				w.Events.Progress(ctx, r, fmt.Sprintf("%d/%d provisioned", provisioned, total))
			}
		case <-tick.C:
			save()
		}
	}
	save()
	if err := ctx.Err(); err != nil {
		return err
	}
	if saveErr != nil {
		return fmt.Errorf("commit %s: %w", r.Ref(), saveErr)
	}
	return nil
}

// createRow creates one subscriber. A failed create that may have gone
// through (a conflict, or several attempts) is answered by a lookup.
func (w *Worker) createRow(ctx context.Context, ref request.CustomerRef, it createItem) rowResult {
	o := request.RowOutcome{Line: it.row.Line, Email: it.row.Email, Phone: it.phone, At: w.now()}
	if it.fail != "" {
		o.Status, o.Message = request.RowFailed, it.fail
		return rowResult{outcome: o}
	}
	if ctx.Err() != nil {
		return rowResult{aborted: true}
	}
	sub, err := w.Setup.CreateSubscriber(ctx, it.req)
	if err != nil && ctx.Err() == nil {
		var ae *webex.APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusConflict || ae.Attempts > 1) {
			if found, lerr := w.Setup.ListSubscribers(ctx, webex.SubscriberQuery{CustomerID: ref.CustomerID, Email: it.row.Email}); lerr == nil && len(found) > 0 {
				sub, err = &found[0], nil
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return rowResult{aborted: true}
		}
		o.Status = request.RowFailed
		o.Message, o.TrackingID = setupFailure(err)
		return rowResult{outcome: o}
	}
	o.SubscriberID, o.Status = sub.ID, request.RowDone
	if sub.Status == webex.SubscriberPendingUserMigration {
		o.Status = request.RowConsent
	}
	return rowResult{outcome: o}
}
