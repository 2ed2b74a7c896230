package worker_test

import (
	"context"
	"slices"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

// An approved plan's steps are made once, however often its commit starts
// (a job delivered again after a crash): each waits for the one before it,
// the first for the customer, carries the plan's approval and names the plan
// as its customer request.
func TestPlanStepsAreMadeOnce(t *testing.T) {
	t.Parallel()
	env := newSetupEnv(t, sandbox.DefaultOptions())
	env.w.Dependents = env.s
	args := map[string]string{
		"name": "Plan GmbH", "email": "it@plan.example", "external-id": "PL-001", "country": "DE",
		"package": "webex_calling", "provisioning-id": "PROV-DE-1", "supported-location": "yes",
		"address": "Hauptstraße 1", "city": "Berlin", "zip": "10115", "timezone": "Europe/Berlin", "language": "de_DE",
		"pstn": "Sandbox CCP", "numbers": "+4930555001-+4930555003", "rows": "IT,Admin,it@plan.example,webex_calling,auto",
	}
	spec, missing, errs := input.ParseCustomer(args, input.CustomerOptions{})
	if len(missing) > 0 || len(errs) > 0 || spec.Steps == nil {
		t.Fatalf("plan spec: missing %v, errors %v, steps %v", missing, errs, spec)
	}
	plan := approvedRequest(t, env.s, *spec, nil)
	ctx := context.Background()
	for range 2 {
		if err := worker.MakeSteps(env.w, ctx, plan, spec); err != nil {
			t.Fatal(err)
		}
	}
	rs, _, err := env.s.CustomerRequests(ctx, plan.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rs, func(a, b *request.Request) int { return int(a.ID - b.ID) })
	wantKinds := []request.Kind{request.KindPSTN, request.KindNumbers, request.KindUsers}
	if len(rs) != len(wantKinds) {
		t.Fatalf("%d steps, want 3: %+v", len(rs), rs)
	}
	after := plan.ID
	for i, s := range rs {
		ref, _ := s.Customer()
		switch {
		case s.Kind != wantKinds[i]:
			t.Errorf("step %d is %s, want %s", i+1, s.Kind, wantKinds[i])
		case s.Plan != plan.ID || ref.RequestID != plan.ID || ref.ExternalID != "PL-001":
			t.Errorf("%s: plan %d, customer %+v; want both %s", s.Ref(), s.Plan, ref, plan.Ref())
		case s.State != request.StateWaiting || !slices.Equal(s.Precheck.WaitFor, []int64{after}) || !s.WaitsInPlan():
			t.Errorf("%s: %s %q waiting for %v, want waiting for %s", s.Ref(), s.State, s.Result.WaitReason, s.Precheck.WaitFor, request.FormatID(after))
		case s.ApprovedBy != "UBOB" || s.ApprovedHash != s.Hash || s.Precheck.Status != request.PrecheckDeferred:
			t.Errorf("%s: approved by %q, hash %q vs %q, precheck %q", s.Ref(), s.ApprovedBy, s.ApprovedHash, s.Hash, s.Precheck.Status)
		}
		after = s.ID
	}
}
