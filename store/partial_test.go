package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// A done batch with failed rows is in the partial index until a retry
// takes it out of done; every setup request is in its customer's index;
// the sweep rebuilds both from the documents (it repairs nothing after
// transitions, and restores what a crash lost).
func TestPartialAndCustomerIndexes(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		move := func(id int64, tr request.Transition) {
			t.Helper()
			clk.Advance(time.Minute)
			if _, err := s.Transition(ctx, id, tr); err != nil {
				t.Fatal(err)
			}
		}
		partial := func() []int64 { got, _ := rangeIDs(t, s, store.DigestRange{Index: store.Partial}); return got }
		customer := &request.Request{Kind: request.KindCustomer, State: request.StateDone, Requester: "alice"}
		mustCreate(t, s, customer)
		other := &request.Request{Kind: request.KindCustomer, State: request.StateDone, Requester: "alice"}
		mustCreate(t, s, other)
		batch := &request.Request{Kind: request.KindUsers, State: request.StateCommitting, Requester: "alice", Spec: setupFor(t, customer.ID)}
		mustCreate(t, s, batch)
		location := &request.Request{Kind: request.KindLocation, State: request.StatePendingApproval, Requester: "bob", Spec: setupFor(t, customer.ID)}
		mustCreate(t, s, location)
		elsewhere := &request.Request{Kind: request.KindUsers, State: request.StatePendingApproval, Requester: "bob", Spec: setupFor(t, other.ID)}
		mustCreate(t, s, elsewhere)

		move(batch.ID, to(request.StateDone, func(r *request.Request) error { r.Result.Status = request.ResultPartial; return nil }))
		if got := partial(); !equalIDs(got, []int64{batch.ID}) {
			t.Fatalf("partial = %v, want the batch with failed rows", got)
		}
		rs, total, err := s.CustomerRequests(ctx, customer.ID, 10)
		if err != nil || total != 2 || !equalIDs(ids(rs), []int64{batch.ID, location.ID}) {
			t.Fatalf("requests of the customer = %v (total %d, %v), want the batch and the location, newest first", ids(rs), total, err)
		}
		if rep, err := s.Sweep(ctx); err != nil || rep.Repaired() {
			t.Fatalf("sweep repaired %+v, %v: the transitions left the indexes wrong", rep, err)
		}
		// Lost index entries (a crash between the document and its indexes)
		// come back with the sweep.
		prefix := storePrefix(t, s)
		for _, key := range []string{prefix + "idx:digest:partial", prefix + "idx:customer:" + strconv.FormatInt(customer.ID, 10)} {
			if err := s.Client().Del(ctx, key).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if rep, err := s.Sweep(ctx); err != nil || !rep.Repaired() {
			t.Fatalf("sweep repaired nothing (%+v, %v) after the indexes were lost", rep, err)
		}
		if rs, _, _ := s.CustomerRequests(ctx, customer.ID, 10); !equalIDs(ids(rs), []int64{batch.ID, location.ID}) || !equalIDs(partial(), []int64{batch.ID}) {
			t.Fatalf("after the sweep: customer %v, partial %v", ids(rs), partial())
		}
		// Retried: not partial any more.
		move(batch.ID, request.Transition{From: []request.State{request.StateDone}, To: request.StateApproved, Actor: "alice", Action: "retry"})
		if got := partial(); len(got) != 0 {
			t.Fatalf("partial = %v after a retry", got)
		}
	})
}
