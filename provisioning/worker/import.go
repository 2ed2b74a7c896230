package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// ImportWaitReason is the WaitReason of an import while its customers are
// on their way.
const ImportWaitReason = "provisioning its customers"

// commitImport makes every customer of an approved import a customer
// request of its own (a plan when it has steps), approved with the import,
// and hands each to the job stream; then the import waits for them and is
// checked whenever one of them settles. Run again after a crash, it finds
// the customers it made by their external ids and makes only the others.
func (w *Worker) commitImport(ctx context.Context, r *request.Request) error {
	spec, err := request.SpecOf[request.ImportSpec](r)
	if err != nil {
		return w.fail(ctx, r, request.StateCommitting, "stored import is unreadable: "+err.Error(), "")
	}
	ids := make([]int64, 0, len(spec.Customers))
	var refused []string
	for _, ic := range spec.Customers {
		id, why, err := w.importCustomer(ctx, r, ic)
		if err != nil {
			return err
		}
		if why != "" {
			refused = append(refused, fmt.Sprintf("line %d (%s): %s", ic.Line, ic.Customer.ExternalID, why))
			continue
		}
		ids = append(ids, id)
	}
	w.log().WithFields(logrus.Fields{"request": r.Ref(), "customers": len(ids), "refused": len(refused)}).Info("import made its customers")
	parked, err := w.Store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{request.StateCommitting}, To: request.StateWaiting, Actor: workerActor, Action: request.ActionWaiting,
		Note: fmt.Sprintf("%s made", request.Count(len(ids), "customer request")),
		Mutate: func(x *request.Request) error {
			x.Result.Requests, x.Result.Failures = ids, refused
			x.Result.WaitReason, x.Result.WaitingSince = ImportWaitReason, w.now()
			return nil
		},
	})
	if err != nil {
		return request.IgnoreConflict(err)
	}
	if err := w.Watch.Watch(ctx, r.ID, w.now().Add(w.watchInterval())); err != nil {
		return fmt.Errorf("watch %s: %w", r.Ref(), err)
	}
	w.Events.Settled(ctx, parked)
	return w.checkImport(ctx, parked)
}

// importCustomer makes (or finds, when made before) the customer request of
// one row of import imp and hands it to the job stream. why says why it
// cannot be made: its external id is held by another request.
func (w *Worker) importCustomer(ctx context.Context, imp *request.Request, ic request.ImportedCustomer) (id int64, why string, err error) {
	c := ic.Customer
	raw, err := json.Marshal(c)
	if err != nil {
		return 0, "", fmt.Errorf("import %s: encode %s: %w", imp.Ref(), c.ExternalID, err)
	}
	hash := request.HashSpec(raw)
	pc := request.PrecheckUnavailable // the worker prechecks it before it creates
	if imp.Precheck.Status == request.PrecheckOK {
		pc = request.PrecheckOK
	}
	r := &request.Request{
		Kind: request.KindCustomer, State: request.StateApproved, Requester: imp.Requester,
		Subject: c.ExternalID, ExternalID: c.ExternalID, Spec: raw, Hash: hash, Import: imp.ID,
		ApprovedBy: imp.ApprovedBy, ApprovedAt: imp.ApprovedAt, ApprovedHash: hash,
		Precheck: request.Precheck{Status: pc, At: imp.Precheck.At},
	}
	err = w.Store.Create(ctx, r)
	var taken *request.ExternalIDTaken
	switch {
	case errors.As(err, &taken):
		held, gerr := w.Store.Get(ctx, taken.Holder)
		if gerr != nil && !errors.Is(gerr, request.ErrNotFound) {
			return 0, "", fmt.Errorf("import %s: read %s: %w", imp.Ref(), request.FormatID(taken.Holder), gerr)
		}
		if gerr != nil || held.Import != imp.ID {
			return 0, fmt.Sprintf("external-id %s is %s's now", c.ExternalID, request.FormatID(taken.Holder)), nil
		}
		if held.State != request.StateApproved {
			return held.ID, "", nil // made before, and on its way
		}
		r = held
	case err != nil:
		return 0, "", fmt.Errorf("import %s: save %s: %w", imp.Ref(), c.ExternalID, err)
	}
	if err := w.enqueue(ctx, r); err != nil {
		// The requeue loop hands approved requests without a job over later.
		w.log().WithError(err).WithField("request", r.Ref()).Warn("enqueue imported customer")
	}
	return r.ID, "", nil
}

// importTally is where the customers of an import stand.
type importTally struct {
	provisioned, failed, moving int
	failures                    []string
}

// checkImport settles import imp once each of its customers, with every
// step of its plan, has settled: done when all were provisioned, done with
// failures (⚠️) otherwise; until then it refreshes its summary.
func (w *Worker) checkImport(ctx context.Context, imp *request.Request) error {
	var t importTally
	t.failures = append(t.failures, imp.Result.Failures...)
	t.failed = len(imp.Result.Failures)
	for _, id := range imp.Result.Requests {
		if err := w.tallyCustomer(ctx, id, &t); err != nil {
			return err
		}
	}
	total := t.provisioned + t.failed + t.moving
	msg := fmt.Sprintf("%d/%d customers provisioned", t.provisioned, total)
	if t.failed > 0 {
		msg += fmt.Sprintf(", %d failed", t.failed)
	}
	if t.moving > 0 {
		return w.importProgress(ctx, imp, msg+fmt.Sprintf(", %d on their way", t.moving))
	}
	status := ""
	if t.failed > 0 {
		status = request.ResultPartial
	}
	return w.settleWith(ctx, imp, request.StateWaiting, request.StateDone, status, msg, capFailures(t.failures))
}

// importProgress records msg on a waiting import, when it changed, and
// shows it on its summary.
func (w *Worker) importProgress(ctx context.Context, imp *request.Request, msg string) error {
	if imp.Result.Message != msg {
		updated, err := w.Store.Transition(ctx, imp.ID, request.Transition{
			From: []request.State{request.StateWaiting}, Actor: workerActor, Action: request.ActionProgress, Note: msg,
			Mutate: func(x *request.Request) error { x.Result.Message = msg; return nil },
		})
		if err != nil {
			return request.IgnoreConflict(err)
		}
		imp = updated
		if rf, ok := w.Events.(Refresher); ok {
			rf.Refresh(ctx, imp)
		}
	}
	return w.Watch.Watch(ctx, imp.ID, w.now().Add(w.watchInterval()))
}

// tallyCustomer counts customer request id, and its plan's steps, into t.
func (w *Worker) tallyCustomer(ctx context.Context, id int64, t *importTally) error {
	c, err := w.Store.Get(ctx, id)
	if errors.Is(err, request.ErrNotFound) {
		t.failed++
		t.failures = append(t.failures, request.FormatID(id)+": no longer exists")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", request.FormatID(id), err)
	}
	switch c.State {
	case request.StateDone:
	case request.StateFailed, request.StateRejected, request.StateCancelled, request.StateExpired:
		t.failed++
		t.failures = append(t.failures, fmt.Sprintf("%s (%s): %s %s", c.Subject, c.Ref(), c.State, c.Result.Message))
		return nil
	default:
		t.moving++
		return nil
	}
	if w.Dependents == nil {
		t.provisioned++
		return nil
	}
	steps, _, err := w.Dependents.CustomerRequests(ctx, c.ID, planStepsFetch)
	if err != nil {
		return fmt.Errorf("read the steps of %s: %w", c.Ref(), err)
	}
	for _, s := range steps {
		if s.Plan != c.ID {
			continue
		}
		switch {
		case s.State == request.StateFailed || (s.State == request.StateDone && s.Result.Status == request.ResultPartial):
			t.failed++
			t.failures = append(t.failures, fmt.Sprintf("%s (%s): %s failed: %s", c.Subject, c.Ref(), s.Subject, s.Result.Message))
			return nil
		case s.State != request.StateDone:
			t.moving++
			return nil
		}
	}
	t.provisioned++
	return nil
}

// wakeImport makes the import of r (a customer of one, or a step of such a
// customer's plan) due for its check now.
func (w *Worker) wakeImport(ctx context.Context, r *request.Request) {
	if r.Import == 0 || r.Kind == request.KindImport {
		return
	}
	if err := w.Watch.Watch(ctx, r.Import, w.now()); err != nil {
		w.log().WithError(err).WithField("request", request.FormatID(r.Import)).Warn("wake import")
	}
}

// capFailures keeps at most MaxFailureLines lines, counting the rest.
func capFailures(lines []string) []string {
	if len(lines) <= MaxFailureLines {
		return lines
	}
	out := append([]string(nil), lines[:MaxFailureLines-1]...)
	return append(out, fmt.Sprintf("… and %d more", len(lines)-len(out)))
}
