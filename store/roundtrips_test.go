package store_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// onOwnClients is onEachBackend with a client of the test's own on every
// backend (the shared clients of storetest carry every parallel test's
// commands), counting its round trips.
func onOwnClients(t *testing.T, fn func(t *testing.T, s *store.Store, clk *clock, rt *storetest.RoundTrips)) {
	t.Helper()
	env := map[string]string{"single": storetest.EnvSingle, "cluster": storetest.EnvCluster}
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb := storetest.Miniredis(t)
			if b.Name != "miniredis" {
				c, closer, err := store.Open(context.Background(), os.Getenv(env[b.Name]))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = closer() })
				rdb = c
			}
			rt := &storetest.RoundTrips{}
			rdb.AddHook(rt)
			clk := newClock()
			s := store.New(rdb, storetest.Prefix(t)).WithClock(clk.Now).
				WithErrorHandler(func(op string, err error) { t.Errorf("%s: %v", op, err) })
			fn(t, s, clk, rt)
		})
	}
}

// TestRoundTrips: a create with an external id and a budget is two round
// trips, its refusals one; an Approve click (the handler's read, then a
// transition given that read, enqueueing the job) is three.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	onOwnClients(t, func(t *testing.T, s *store.Store, clk *clock, rt *storetest.RoundTrips) {
		ctx := context.Background()
		budget := store.Budget{Key: "submit:alice", Limit: 2, Window: time.Minute}
		// The scripts are loaded on every node, as at start; the cluster
		// also learns its slots.
		if err := s.LoadScripts(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateWithin(ctx, newRequest("alice", "MS-WARM"), budget); err != nil {
			t.Fatal(err)
		}
		var r *request.Request
		if n := rt.Count(func() {
			r = newRequest("alice", "MS-001")
			if err := s.CreateWithin(ctx, r, budget); err != nil {
				t.Fatal(err)
			}
		}); n != 2 {
			t.Errorf("create with an external id and a budget: %d round trips, want 2", n)
		}
		if n := rt.Count(func() { mustCreate(t, s, newRequest("alice", "")) }); n != 2 {
			t.Errorf("create without external id or budget: %d round trips, want 2", n)
		}
		var taken *request.ExternalIDTaken
		if n := rt.Count(func() {
			if err := s.CreateWithin(ctx, newRequest("bob", "MS-001"), budget); !errors.As(err, &taken) {
				t.Fatalf("create of a held external id = %v", err)
			}
		}); n != 1 {
			t.Errorf("refusal of a held external id: %d round trips, want 1", n)
		}
		var over *store.OverBudget
		if n := rt.Count(func() {
			if err := s.CreateWithin(ctx, newRequest("alice", "MS-002"), budget); !errors.As(err, &over) {
				t.Fatalf("create over budget = %v", err)
			}
		}); n != 1 {
			t.Errorf("refusal over budget: %d round trips, want 1", n)
		}

		// The Approve click.
		if n := rt.Count(func() {
			cur, err := s.Get(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			tr := approve
			tr.Current, tr.Enqueue = cur, true
			if _, err := s.Transition(ctx, r.ID, tr); err != nil {
				t.Fatal(err)
			}
		}); n != 3 {
			t.Errorf("approve (read, transition with Current and Enqueue): %d round trips, want 3", n)
		}
		// Without Current the transition reads for itself.
		if n := rt.Count(func() {
			if _, err := s.Transition(ctx, r.ID, move(request.StateApproved, request.StateCommitting, "worker")); err != nil {
				t.Fatal(err)
			}
		}); n != 3 {
			t.Errorf("transition without Current: %d round trips, want 3", n)
		}
	})
}

func TestCreateWithinBudget(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		budget := store.Budget{Key: "submit:alice", Limit: 2, Window: time.Minute}
		create := func(ext string) (*request.Request, error) {
			r := newRequest("alice", ext)
			return r, s.CreateWithin(ctx, r, budget)
		}
		a, err := create("MS-A")
		if err != nil || a.ID != 1 {
			t.Fatalf("first create: id %d, %v", a.ID, err)
		}
		// A held external id is refused and uses no budget.
		var taken *request.ExternalIDTaken
		if _, err := create("MS-A"); !errors.As(err, &taken) || taken.Holder != a.ID {
			t.Fatalf("create of a held external id = %v, want ExternalIDTaken by %d", err, a.ID)
		}
		b, err := create("MS-B")
		if err != nil || b.ID != 2 {
			t.Fatalf("second create: id %d, %v; want id 2 (the refusal took no id and no budget)", b.ID, err)
		}
		// Budget used up: a held id is still told as held (refused first).
		if _, err := create("MS-A"); !errors.As(err, &taken) {
			t.Errorf("held external id over budget = %v, want ExternalIDTaken", err)
		}
		var over *store.OverBudget
		if _, err := create("MS-C"); !errors.As(err, &over) || over.Budget != budget {
			t.Fatalf("third create in the window = %v, want OverBudget", err)
		}
		if _, err := create(""); !errors.As(err, &over) {
			t.Fatalf("third create without external id = %v, want OverBudget", err)
		}
		if _, err := s.ByExternalID(ctx, "MS-C"); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("a refused create reserved its external id: %v", err)
		}
		// Other keys have budgets of their own; Create has none.
		if err := s.CreateWithin(ctx, newRequest("bob", "MS-D"), store.Budget{Key: "submit:bob", Limit: 1, Window: time.Minute}); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, newRequest("alice", "MS-E"))

		// The window slides; refusals left no gap in the ids.
		clk.Advance(time.Minute)
		c, err := create("MS-C")
		if err != nil || c.ID != 5 {
			t.Fatalf("create after the window: id %d, %v; want 5", c.ID, err)
		}
		// Another replica counts into the same window.
		replica := store.New(s.Client(), s.Prefix()).WithClock(clk.Now)
		if err := replica.CreateWithin(ctx, newRequest("alice", "MS-F"), budget); err != nil {
			t.Fatalf("create on another replica after one create: %v", err)
		}
		if _, err := create("MS-G"); !errors.As(err, &over) {
			t.Errorf("create after creates on two replicas = %v, want OverBudget", err)
		}

		for _, bad := range []store.Budget{{Limit: 1, Window: time.Minute}, {Key: "k", Limit: 1}} {
			if err := s.CreateWithin(ctx, newRequest("alice", ""), bad); err == nil || errors.As(err, &over) {
				t.Errorf("CreateWithin(%+v) = %v, want an error", bad, err)
			}
		}
		if err := s.CreateWithin(ctx, newRequest("alice", ""), store.Budget{Key: "none", Window: time.Minute}); !errors.As(err, &over) {
			t.Errorf("limit 0 = %v, want OverBudget (nothing fits)", err)
		}
		if n, _ := s.Count(ctx); n != 6 { // A, B, D, E, C and the replica's F
			t.Errorf("%d requests indexed, want 6", n)
		}
	})
}

// TestFailedCreateGivesBack: a create whose document cannot be written gives
// back its reservation and its budget.
func TestFailedCreateGivesBack(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		mustDo(t, s.Client().HSet(ctx, storePrefix(t, s)+"{req:1}:doc", "id", "1"))
		budget := store.Budget{Key: "submit:alice", Limit: 1, Window: time.Minute}
		if err := s.CreateWithin(ctx, newRequest("alice", "MS-FAIL"), budget); err == nil {
			t.Fatal("create over an existing document succeeded")
		}
		r := newRequest("alice", "MS-FAIL")
		if err := s.CreateWithin(ctx, r, budget); err != nil || r.ID != 2 {
			t.Fatalf("create after the failure: id %d, %v; want id 2 with the budget and the id back", r.ID, err)
		}
		if ttl := s.Client().PTTL(ctx, storePrefix(t, s)+"{ids}:extid:MS-FAIL").Val(); ttl >= 0 {
			t.Errorf("reservation of a written request still expires (%s)", ttl)
		}
	})
}

func TestTransitionWithCurrent(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		jobs := func() int64 { return s.Client().XLen(ctx, storePrefix(t, s)+"jobs").Val() }
		r := mustCreate(t, s, newRequest("alice", "MS-001"))
		stale, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		if _, err := s.Transition(ctx, r.ID, request.Transition{
			From: []request.State{request.StatePendingApproval}, Actor: "bot", Action: "edited",
			Mutate: func(x *request.Request) error { x.Subject = "edited"; return nil },
		}); err != nil {
			t.Fatal(err)
		}

		// A stale Current loses the compare-and-set; the store reads again
		// and applies the transition once.
		calls := 0
		tr := approve
		tr.Current, tr.Enqueue = stale, true
		tr.Mutate = func(x *request.Request) error {
			calls++
			x.ApprovedBy = "bob"
			return nil
		}
		got, err := s.Transition(ctx, r.ID, tr)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 3 || got.State != request.StateApproved || got.Subject != "edited" || got.ApprovedBy != "bob" || calls != 2 {
			t.Errorf("approved = v%d %s %q by %q after %d Mutate calls; want v3 approved \"edited\" by bob after 2",
				got.Version, got.State, got.Subject, got.ApprovedBy, calls)
		}
		if stale.Version != 1 || stale.State != request.StatePendingApproval || stale.ApprovedBy != "" || stale.Subject != "MS-001" {
			t.Errorf("the caller's Current was changed: %+v", stale)
		}
		audit, _ := s.Audit(ctx, r.ID)
		if len(audit) != 3 || audit[1].Action != "edited" || audit[2].Action != "approved" {
			t.Errorf("audit = %+v, want created, edited, approved", audit)
		}
		if n := jobs(); n != 1 {
			t.Errorf("%d jobs after one approval, want 1", n)
		}
		job, err := s.NextJob(ctx, "w1", 0)
		if err != nil || job == nil || job.RequestID != r.ID {
			t.Fatalf("NextJob = %+v, %v; want the job of %s", job, err, r.Ref())
		}

		// A second click with the same stale read: refused with what is
		// stored now, and nothing enqueued.
		var sc *request.StateConflict
		if _, err := s.Transition(ctx, r.ID, tr); !errors.As(err, &sc) || sc.Current.State != request.StateApproved || sc.Last.Action != "approved" {
			t.Errorf("second approve = %v, want StateConflict showing approved", err)
		}
		// A Current that is not in From is read again too.
		cur, _ := s.Get(ctx, r.ID)
		if _, err := s.Transition(ctx, r.ID, request.Transition{
			From: []request.State{request.StatePendingApproval}, To: request.StateRejected, Actor: "bob", Action: "rejected",
			Current: cur, Enqueue: true,
		}); !errors.As(err, &sc) || sc.Current.Version != 3 {
			t.Errorf("reject of approved = %v, want StateConflict", err)
		}
		// A Mutate refusal enqueues nothing.
		r2 := mustCreate(t, s, newRequest("alice", "MS-002"))
		refused := errors.New("four-eyes")
		if _, err := s.Transition(ctx, r2.ID, request.Transition{
			From: []request.State{request.StatePendingApproval}, To: request.StateApproved, Actor: "alice", Action: "approved",
			Current: r2, Enqueue: true, Mutate: func(*request.Request) error { return refused },
		}); !errors.Is(err, refused) {
			t.Errorf("refused approve = %v", err)
		}
		if n := jobs(); n != 1 {
			t.Errorf("%d jobs after refusals, want still 1", n)
		}
		// A fresh Current: applied without a read.
		fresh, _ := s.Get(ctx, r2.ID)
		if got, err := s.Transition(ctx, r2.ID, request.Transition{
			From: []request.State{request.StatePendingApproval}, To: request.StateApproved, Actor: "bob", Action: "approved",
			Current: fresh, Enqueue: true,
		}); err != nil || got.Version != 2 {
			t.Fatalf("approve with a fresh Current = %+v, %v", got, err)
		}
		if n := jobs(); n != 2 {
			t.Errorf("%d jobs, want 2", n)
		}
		if _, err := s.Transition(ctx, r.ID, request.Transition{From: []request.State{request.StateApproved}, Current: fresh}); err == nil {
			t.Error("a Current of another request was accepted")
		}
	})
}

// TestTransitionEnqueueCreatesGroup: a store that never enqueued creates the
// consumer group in the transition's pipeline, so jobs enqueued before any
// worker ran are delivered.
func TestTransitionEnqueueCreatesGroup(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		r := mustCreate(t, s, newRequest("alice", ""))
		tr := approve
		tr.Enqueue = true
		if _, err := s.Transition(ctx, r.ID, tr); err != nil {
			t.Fatal(err)
		}
		groups, err := s.Client().XInfoGroups(ctx, storePrefix(t, s)+"jobs").Result()
		if err != nil || len(groups) != 1 || groups[0].Name != store.JobGroup {
			t.Fatalf("groups = %+v, %v; want %s", groups, err, store.JobGroup)
		}
		// Another replica's store, whose group flag is unset, enqueues too.
		other := store.New(s.Client(), storePrefix(t, s)).WithErrorHandler(func(op string, err error) { t.Errorf("%s: %v", op, err) })
		r2 := mustCreate(t, other, newRequest("bob", ""))
		if _, err := other.Transition(ctx, r2.ID, request.Transition{
			From: []request.State{request.StatePendingApproval}, To: request.StateApproved, Actor: "carol", Action: "approved", Enqueue: true,
		}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []int64{r.ID, r2.ID} {
			job, err := s.NextJob(ctx, "w1", 0)
			if err != nil || job == nil || job.RequestID != want {
				t.Fatalf("NextJob = %+v, %v; want the job of %s", job, err, request.FormatID(want))
			}
		}
	})
}

// TestSweepAdoptsLegacyKeys: a store written before the {ids} hash tag keeps
// its ids and reservations.
func TestSweepAdoptsLegacyKeys(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		rdb, p := s.Client(), storePrefix(t, s)
		a := mustCreate(t, s, newRequest("alice", "MS-A"))
		mustCreate(t, s, newRequest("alice", "MS-B"))
		// The old layout: counter:req and extid:<ext>, permanent.
		mustDo(t, rdb.Set(ctx, p+"counter:req", 2, 0))
		mustDo(t, rdb.Set(ctx, p+"extid:MS-A", a.ID, 0))
		mustDo(t, rdb.Set(ctx, p+"extid:MS-B", 2, 0))
		mustDo(t, rdb.Del(ctx, p+"{ids}:counter:req", p+"{ids}:extid:MS-A", p+"{ids}:extid:MS-B"))

		// A create before the first sweep fails on the existing document
		// and adopts the old counter for the next one.
		quiet := s.WithErrorHandler(nil)
		if err := quiet.Create(ctx, newRequest("bob", "MS-X")); err == nil {
			t.Fatal("create over an existing document succeeded")
		}
		if r := mustCreate(t, s, newRequest("bob", "MS-X")); r.ID != 3 {
			t.Errorf("create after the adoption: id %d, want 3", r.ID)
		}
		rep, err := s.Sweep(ctx)
		if err != nil || rep.Restored != 2 {
			t.Fatalf("sweep = %+v, %v; want 2 reservations restored", rep, err)
		}
		if h, err := s.ByExternalID(ctx, "MS-A"); err != nil || h != a.ID {
			t.Errorf("MS-A held by %d, %v; want %d", h, err, a.ID)
		}
		if n := rdb.Exists(ctx, p+"counter:req", p+"extid:MS-A", p+"extid:MS-B").Val(); n != 0 {
			t.Errorf("%d keys of the old layout left", n)
		}
		if r := mustCreate(t, s, newRequest("bob", "")); r.ID != 4 {
			t.Errorf("next id %d, want 4", r.ID)
		}
		if rep, err := s.Sweep(ctx); err != nil || rep.Repaired() {
			t.Errorf("second sweep: %+v, %v", rep, err)
		}
	})
}
