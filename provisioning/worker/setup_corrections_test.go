package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// TestCorrectionsOnlyAfterApproval: change, remove and delete reach Webex
// only once approved; a pending request's commit does nothing.
func TestCorrectionsOnlyAfterApproval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind    request.Kind
		spec    func(ref request.CustomerRef) any
		op      string
		message string
		check   func(t *testing.T, env *setupEnv)
	}{
		{request.KindChange, func(ref request.CustomerRef) any {
			return request.ChangeSpec{Customer: ref, Email: "anna@x.example", Package: "webex_meetings"}
		}, opUpdateSubscriber, "anna@x.example: webex_meetings", func(t *testing.T, env *setupEnv) {
			if s := env.subscribers(t)["anna@x.example"]; len(s.Packages) != 1 || s.Packages[0] != "webex_meetings" {
				t.Errorf("anna has %v", s.Packages)
			}
		}},
		{request.KindRemove, func(ref request.CustomerRef) any {
			return request.RemoveSpec{Customer: ref, Email: "anna@x.example"}
		}, opDeleteSubscriber, "anna@x.example", func(t *testing.T, env *setupEnv) {
			if _, ok := env.subscribers(t)["anna@x.example"]; ok {
				t.Error("anna is still a user")
			}
		}},
		{request.KindDelete, func(ref request.CustomerRef) any {
			return request.DeleteSpec{Customer: ref}
		}, opDeleteCustomer, "", func(t *testing.T, env *setupEnv) {
			c, err := env.cl.GetCustomer(context.Background(), env.ref.CustomerID)
			if err == nil && c.Status != "deleting" {
				t.Errorf("customer is %s, want deleting or gone", c.Status)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			env := newSetupEnv(t, quietSandbox())
			env.seedCustomer(t, "MS-001")
			ctx := context.Background()
			if _, err := env.cl.CreateSubscriber(ctx, webex.SubscriberRequest{CustomerID: env.ref.CustomerID, Email: "anna@x.example",
				Packages: []string{"webex_calling"}, ProvisioningParameters: &webex.SubscriberParameters{FirstName: "Anna", LastName: "X", Extension: "1001"}}); err != nil {
				t.Fatal(err)
			}
			r := env.submit(t, tc.kind, request.StatePendingApproval, tc.spec(env.ref))

			if got := env.commit(t, r.ID); got.State != request.StatePendingApproval {
				t.Fatalf("a pending request was moved to %s", got.State)
			}
			if n := env.sb.Stats().Calls[tc.op]; n != 0 {
				t.Fatalf("%d %s calls before approval", n, tc.op)
			}

			if _, err := env.s.Transition(ctx, r.ID, request.Transition{
				From: []request.State{request.StatePendingApproval}, To: request.StateApproved, Actor: "UBOB", Action: "approved",
				Mutate: func(x *request.Request) error {
					x.ApprovedBy, x.ApprovedAt, x.ApprovedHash = "UBOB", time.Now().UTC(), x.Hash
					return nil
				},
			}); err != nil {
				t.Fatal(err)
			}
			wantState(t, env.commit(t, r.ID), request.StateDone, tc.message)
			if n := env.sb.Stats().Calls[tc.op]; n != 1 {
				t.Errorf("%d %s calls after approval, want 1", n, tc.op)
			}
			tc.check(t, env)
		})
	}
}

func TestChangeOfUnknownUserFails(t *testing.T) {
	t.Parallel()
	env := newSetupEnv(t, quietSandbox())
	env.seedCustomer(t, "MS-001")
	r := env.submit(t, request.KindChange, request.StateApproved,
		request.ChangeSpec{Customer: env.ref, Email: "nobody@x.example", Package: "webex_meetings"})
	wantState(t, env.commit(t, r.ID), request.StateFailed, "nobody@x.example is not a user of MS-001")
}
