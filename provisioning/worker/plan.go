package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// planStepsFetch bounds the requests of a customer read to find a plan's
// steps: a plan has at most three, and they are among its customer's
// newest requests while it runs.
const planStepsFetch = 1000

// makeSteps turns the later steps of approved plan r into requests of their
// own, each waiting for the one before it (the first for the customer,
// which is r itself): PSTN, then numbers, then users. They carry r's
// approval (its approver, and the hash of their part of the spec r's hash
// covered), are shown and reported under r's id, and run by themselves as
// the one before them is done: a customer on compliance hold holds the
// whole plan, a failed step holds the ones after it until it is retried.
//
// It is safe to run again (a job delivered twice, a crash half-way): the
// steps already made are found under r's customer index and only the
// missing ones are made.
func (w *Worker) makeSteps(ctx context.Context, r *request.Request, spec *request.CustomerSpec) error {
	steps := spec.Steps.List()
	if len(steps) == 0 {
		return nil
	}
	if w.Dependents == nil {
		return fmt.Errorf("plan %s: this build cannot find a plan's steps (no customer index)", r.Ref())
	}
	existing, _, err := w.Dependents.CustomerRequests(ctx, r.ID, planStepsFetch)
	if err != nil {
		return fmt.Errorf("plan %s: read its steps: %w", r.Ref(), err)
	}
	made := map[request.Kind]int64{}
	for _, x := range existing {
		if x.Plan == r.ID {
			made[x.Kind] = x.ID
		}
	}
	after := r.ID
	for _, st := range steps {
		if id, ok := made[st.Kind]; ok {
			after = id
			continue
		}
		step, err := w.newStep(r, st, after)
		if err != nil {
			return err
		}
		if err := w.Store.Create(ctx, step); err != nil {
			return fmt.Errorf("plan %s: save its %s step: %w", r.Ref(), st.Kind, err)
		}
		if err := w.Watch.Watch(ctx, step.ID, w.now().Add(w.watchInterval())); err != nil {
			return fmt.Errorf("plan %s: watch its %s step: %w", r.Ref(), st.Kind, err)
		}
		w.log().WithFields(logrus.Fields{"request": r.Ref(), "step": step.Ref(), "kind": st.Kind}).Info("plan step made")
		after = step.ID
	}
	return nil
}

// newStep is the request of plan step st, waiting for request after.
func (w *Worker) newStep(plan *request.Request, st request.PlanStep, after int64) (*request.Request, error) {
	setCustomer(st.Spec, plan.ID)
	raw, err := json.Marshal(st.Spec)
	if err != nil {
		return nil, fmt.Errorf("plan %s: encode its %s step: %w", plan.Ref(), st.Kind, err)
	}
	hash := request.HashSpec(raw)
	now := w.now()
	return &request.Request{
		Kind: st.Kind, State: request.StateWaiting, Requester: plan.Requester,
		Subject: stepSubject(plan.Subject, st), Spec: raw, Hash: hash, Plan: plan.ID, Import: plan.Import,
		ApprovedBy: plan.ApprovedBy, ApprovedAt: plan.ApprovedAt, ApprovedHash: hash,
		// What Webex can say about a step depends on the steps before it:
		// the worker prechecks it just before it runs.
		Precheck: request.Precheck{Status: request.PrecheckDeferred, WaitFor: []int64{after}},
		Result:   request.Result{WaitReason: request.WaitForPrefix + request.FormatID(after), WaitingSince: now},
	}, nil
}

// setCustomer points a step's spec at the plan, its customer request.
func setCustomer(spec any, plan int64) {
	switch s := spec.(type) {
	case *request.PSTNSpec:
		s.Customer.RequestID = plan
	case *request.NumbersSpec:
		s.Customer.RequestID = plan
	case *request.UsersSpec:
		s.Customer.RequestID = plan
	}
}

// stepSubject is what a step's outcome line names, as for the same request
// made on its own: "pstn MS-001 HQ", "numbers MS-001 HQ", "users MS-001".
func stepSubject(customer string, st request.PlanStep) string {
	switch s := st.Spec.(type) {
	case *request.PSTNSpec:
		return fmt.Sprintf("pstn %s %s", customer, s.Location)
	case *request.NumbersSpec:
		return fmt.Sprintf("numbers %s %s", customer, s.Location)
	}
	return fmt.Sprintf("%s %s", st.Kind, customer)
}
