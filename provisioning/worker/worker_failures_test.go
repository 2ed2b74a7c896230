package worker_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
)

const opUpdateCustomer = "PUT /wholesale/customers/{customerId}"

// retry moves a failed request back to approved, as `retry` does.
func retry(t *testing.T, env *setupEnv, id int64) {
	t.Helper()
	if _, err := env.s.Transition(context.Background(), id, request.Transition{
		From: []request.State{request.StateFailed}, To: request.StateApproved, Actor: "UALICE", Action: "retry",
	}); err != nil {
		t.Fatal(err)
	}
}

// TestCustomerFailsWithWebexReasons: a customer that ends
// provisioned_with_errors or error fails on the status, naming every reason
// Webex gave (package warnings included, with their codes) and the
// trackingId of the answer that reported it; a retry of
// provisioned_with_errors re-applies the packages and is provisioned.
func TestCustomerFailsWithWebexReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		sandbox   func(o *sandbox.Options)
		want      []string // in the failure message
		retryable bool
	}{
		{"provisioned with errors", func(o *sandbox.Options) { o.ProvisionErrors = regexp.MustCompile(`^Broken`) },
			[]string{"webex_calling: ", "(code 2560)"}, true},
		{"error", func(o *sandbox.Options) { o.ProvisionFail = regexp.MustCompile(`^Broken`) },
			[]string{"webex_calling: "}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := quietSandbox()
			tc.sandbox(&opts)
			env := newSetupEnv(t, opts)
			cust := approvedRequest(t, env.s, customerSpec(t, "MS-ERR", "Broken GmbH"), nil)
			got := env.commit(t, cust.ID)
			if got.State != request.StateFailed || got.Result.TrackingID == "" {
				t.Fatalf("%s is %s %q (trackingId %q), want failed with the trackingId of the status answer", got.Ref(), got.State, got.Result.Message, got.Result.TrackingID)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.Result.Message, w) {
					t.Errorf("failure %q lacks %q", got.Result.Message, w)
				}
			}
			if !tc.retryable {
				if got.Result.Status != request.CustomerError {
					t.Errorf("status %q, want %q (retry refuses it)", got.Result.Status, request.CustomerError)
				}
				return
			}
			retry(t, env, cust.ID)
			got = env.commit(t, cust.ID)
			if got.State != request.StateDone || got.Result.OrgID == "" {
				t.Fatalf("after the retry %s is %s %q, want provisioned", got.Ref(), got.State, got.Result.Message)
			}
			if n := env.sb.Stats().Calls[opUpdateCustomer]; n != 1 {
				t.Errorf("%d customer updates, want 1 (the packages re-applied)", n)
			}
			if n := env.sb.Stats().Creates; n != 1 {
				t.Errorf("%d creates, want 1: a retry never creates again", n)
			}
		})
	}
}

// TestSubscriberErrorsFailTheRow: a subscriber answer that carries errors
// is not done: the row fails in Webex's words, with the trackingId, and the
// batch is ⚠️ with the reason in its failures.
func TestSubscriberErrorsFailTheRow(t *testing.T) {
	t.Parallel()
	opts := quietSandbox()
	opts.SubscriberErrors = regexp.MustCompile(`^bad@`)
	env := newSetupEnv(t, opts)
	env.seedCustomer(t, "MS-SUB")
	users := env.users(t, "Good,G,good@sub.example,webex_calling,,1001;Bad,B,bad@sub.example,webex_calling,,1002")
	got := env.commit(t, users.ID)
	wantState(t, got, request.StateDone, "1/2 provisioned, 1 failed")
	if got.Result.Status != request.ResultPartial || len(got.Result.Failures) != 1 || !strings.HasPrefix(got.Result.Failures[0], "row 2 (bad@sub.example): ") {
		t.Fatalf("status %q, failures %q; want partial with row 2's reason", got.Result.Status, got.Result.Failures)
	}
	if f := got.Result.Failures[0]; !strings.Contains(f, "trackingId") {
		t.Errorf("the row's reason %q lacks Webex's trackingId", f)
	}
}

// TestDeferredPrecheckAtCommit: a batch approved while its customer was
// not provisioned is prechecked just before it commits: the rows Webex
// refuses fail with its reason and are not sent; the others are created.
func TestDeferredPrecheckAtCommit(t *testing.T) {
	t.Parallel()
	env := newSetupEnv(t, quietSandbox())
	env.seedCustomer(t, "MS-DEF")
	users := env.submit(t, request.KindUsers, request.StateApproved, request.UsersSpec{Customer: env.ref, Rows: mustRows(t, env,
		"Anna,A,anna@def.example,webex_calling,,1001;Carl,C,carl@def.example,webex_calling,+4930555999999")})
	deferPrecheck(t, env, users.ID)
	got := env.commit(t, users.ID)
	wantState(t, got, request.StateDone, "1/2 provisioned, 1 failed")
	if len(got.Result.Failures) != 1 || !strings.Contains(got.Result.Failures[0], "row 2 (carl@def.example): refused by the precheck: ") {
		t.Fatalf("failures %q, want row 2 refused by the precheck", got.Result.Failures)
	}
	if n := env.sb.Stats().SubscriberCreates; n != 1 {
		t.Errorf("%d subscribers created, want 1: a refused row is not sent", n)
	}
}

func mustRows(t *testing.T, env *setupEnv, text string) []request.UserRow {
	t.Helper()
	rows, errs := input.ParseRows(text, input.RowsOptions{Packages: env.ref.Packages, DefaultCountry: "DE"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rows
}

// deferPrecheck records that id's precheck was deferred at submit.
func deferPrecheck(t *testing.T, env *setupEnv, id int64) {
	t.Helper()
	if _, err := env.s.Transition(context.Background(), id, request.Transition{
		From: request.AllStates, Actor: "bot", Action: "precheck",
		Mutate: func(r *request.Request) error {
			r.Precheck = request.Precheck{Status: request.PrecheckDeferred, Message: "runs when the customer is provisioned"}
			return nil
		},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestBatchWaitsForItsLocation: a batch whose precheck found that an
// approved location request creates a location its rows need waits for it
// ("waiting for R-n"), and runs once the location is done; when the
// location request settles, the batch is queued again at once, not at its
// next check.
func TestBatchWaitsForItsLocation(t *testing.T) {
	t.Parallel()
	env := newSetupEnv(t, quietSandbox())
	env.seedCustomer(t, "MS-LOC")
	env.w.Dependents = env.s
	loc := env.submit(t, request.KindLocation, request.StateApproved, locationSpec(env.ref, "Köln", ""))
	users := env.submit(t, request.KindUsers, request.StateApproved, request.UsersSpec{Customer: env.ref, Rows: mustRows(t, env,
		"Anna,A,anna@loc.example,webex_calling,,1001,Köln")})
	if _, err := env.s.Transition(context.Background(), users.ID, request.Transition{
		From: request.AllStates, Actor: "bot", Action: "precheck",
		Mutate: func(r *request.Request) error { r.Precheck.WaitFor = []int64{loc.ID}; return nil },
	}); err != nil {
		t.Fatal(err)
	}
	got := env.commit(t, users.ID)
	if got.State != request.StateWaiting || got.Result.WaitReason != "waiting for "+loc.Ref() {
		t.Fatalf("%s is %s (%q), want waiting for %s", got.Ref(), got.State, got.Result.WaitReason, loc.Ref())
	}
	// The next regular check is a minute away (WatchInterval).
	if due, _, err := env.s.WatchDue(context.Background(), users.ID); err != nil || !due.After(time.Now().Add(30*time.Second)) {
		t.Fatalf("the batch's next check is at %s (%v), want about a minute away", due, err)
	}
	wantState(t, env.commit(t, loc.ID), request.StateDone, "ready")
	if got := env.get(t, users.ID); got.State != request.StateApproved {
		t.Fatalf("after the location was done the batch is %s (%q), want approved again at once", got.State, got.Result.WaitReason)
	}
	if _, watched, err := env.s.WatchDue(context.Background(), users.ID); err != nil || watched {
		t.Fatalf("the requeued batch is still watched (%v)", err)
	}
	got = env.commit(t, users.ID)
	wantState(t, got, request.StateDone, "1/1 provisioned")
}
