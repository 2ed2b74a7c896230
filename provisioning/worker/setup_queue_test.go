package worker_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

// TestQueuedSetup: a user batch and a location approved while their customer
// is still provisioning, or on compliance hold, wait for it and then run from
// the watch list and the job stream without anyone touching them again.
func TestQueuedSetup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sandbox func(o *sandbox.Options)
		reason  string // the customer's wait
	}{
		// Long enough that the customer still waits when the batch and the
		// location are committed, even on a loaded machine.
		{"customer provisioning", func(o *sandbox.Options) { o.Delay = 1500 * time.Millisecond }, "provisioning"},
		{"customer on compliance hold", func(o *sandbox.Options) {
			o.RPLReview, o.RPLDelay = regexp.MustCompile(`Review`), 1500*time.Millisecond
		}, "compliance review"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := quietSandbox()
			tc.sandbox(&opts)
			env := newSetupEnv(t, opts)
			env.w.ProvisionDeadline, env.w.WatchInterval = 50*time.Millisecond, 100*time.Millisecond
			spec := customerSpec(t, "MS-Q", "Review Müller GmbH")
			cust := approvedRequest(t, env.s, spec, nil)
			if err := env.w.Commit(context.Background(), cust.ID); err != nil {
				t.Fatal(err)
			}
			if c := env.get(t, cust.ID); c.State != request.StateWaiting || c.Result.WaitReason != tc.reason {
				t.Fatalf("customer %s (%q), want waiting for %s", c.State, c.Result.WaitReason, tc.reason)
			}

			env.ref = request.CustomerRef{RequestID: cust.ID, ExternalID: spec.ExternalID, Packages: spec.Packages,
				AdminEmail: spec.Email, Country: "DE"}
			// A new customer has no PSTN and so no numbers: the rows take extensions.
			users := env.users(t, "Anna,Ext,anna@q.example,webex_calling,,1002;Bert,Ext,bert@q.example,webex_calling,,1001")
			loc := env.submit(t, request.KindLocation, request.StateApproved, locationSpec(env.ref, "Köln", "DE-KOELN-1"))
			for _, id := range []int64{users.ID, loc.ID} {
				got := env.commit(t, id)
				if got.State != request.StateWaiting || got.Result.WaitReason != "waiting for "+cust.Ref() {
					t.Fatalf("%s is %s (%q), want waiting for %s", got.Ref(), got.State, got.Result.WaitReason, cust.Ref())
				}
				if _, watched, err := env.s.WatchDue(context.Background(), id); err != nil || !watched {
					t.Fatalf("%s is not on the watch list (%v)", got.Ref(), err)
				}
			}
			if n := env.sb.Stats().SubscriberCreates; n != 0 {
				t.Fatalf("%d users created before the customer was provisioned", n)
			}

			// From here on only the worker runs.
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { defer close(stopped); runWithWatch(ctx, env.w) }()
			defer func() { cancel(); <-stopped }()
			waitUntil(t, "the queued setup to finish", 20*time.Second, func() bool {
				return env.get(t, users.ID).State.Final() && env.get(t, loc.ID).State.Final()
			})
			wantState(t, env.get(t, users.ID), request.StateDone, "2/2 provisioned")
			wantState(t, env.get(t, loc.ID), request.StateDone, "ready")
			if c := env.get(t, cust.ID); c.State != request.StateDone {
				t.Errorf("customer %s", c.State)
			}
			if n := env.sb.Stats().SubscriberCreates; n != 2 {
				t.Errorf("%d users created, want 2", n)
			}
		})
	}
}

// TestQueuedSetupCustomerEndedBadly: a setup request behind a customer
// that was rejected, cancelled or deleted fails saying so; behind a failed
// customer (which may be retried) it waits, saying it failed.
func TestQueuedSetupCustomerEndedBadly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		customer  func(r *request.Request)
		wantState request.State
		want      string // the outcome, with R-1 for the customer's id
	}{
		{"rejected", func(r *request.Request) { r.State, r.Reason = request.StateRejected, "wrong address" },
			request.StateFailed, "customer request R-1 was rejected: wrong address"},
		{"cancelled", func(r *request.Request) { r.State = request.StateCancelled },
			request.StateFailed, "customer request R-1 was cancelled"},
		{"deleted", func(r *request.Request) {
			r.State, r.Result.Status, r.Result.CustomerID, r.Result.OrgID = request.StateDone, request.CustomerDeleted, "c-1", "o-1"
		}, request.StateFailed, "customer MS-BAD (R-1) was deleted"},
		{"failed", func(r *request.Request) {
			r.State, r.Result.Message = request.StateFailed, "Webex reports error"
		},
			request.StateWaiting, "waiting for R-1, which failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newSetupEnv(t, quietSandbox())
			cust := approvedRequest(t, env.s, customerSpec(t, "MS-BAD", "Bad GmbH"), tc.customer)
			env.ref = request.CustomerRef{RequestID: cust.ID, ExternalID: "MS-BAD", Packages: []string{"webex_calling"}, Country: "DE"}
			users := env.users(t, "Anna,A,anna@bad.example,webex_calling,,1001")
			got := env.commit(t, users.ID)
			want := strings.ReplaceAll(tc.want, "R-1", cust.Ref())
			if got.State != tc.wantState || (got.Result.Message != want && got.Result.WaitReason != want) {
				t.Fatalf("%s is %s %q (wait %q); want %s %q", got.Ref(), got.State, got.Result.Message, got.Result.WaitReason, tc.wantState, want)
			}
		})
	}
}

// runWithWatch runs w as a replica does: taking jobs, and checking the
// watch list every PollInterval, until ctx ends.
func runWithWatch(ctx context.Context, w *worker.Worker) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.PollInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.CheckWatchList(ctx)
			}
		}
	}()
	w.Run(ctx)
	<-done
}
