package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

func ids(rs []*request.Request) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// seed creates six requests a minute apart and moves some of them:
//
//	1 alice customer  approved
//	2 bob   users     pending_approval
//	3 alice users     rejected
//	4 carol location  pending_approval
//	5 alice customer  pending_approval
//	6 bob   customer  done
func seed(t *testing.T, s *store.Store, clk *clock) {
	t.Helper()
	ctx := context.Background()
	for _, r := range []struct {
		owner string
		kind  request.Kind
	}{
		{"alice", request.KindCustomer}, {"bob", request.KindUsers}, {"alice", request.KindUsers},
		{"carol", request.KindLocation}, {"alice", request.KindCustomer}, {"bob", request.KindCustomer},
	} {
		mustCreate(t, s, &request.Request{Kind: r.kind, State: request.StatePendingApproval, Requester: r.owner})
		clk.Advance(time.Minute)
	}
	pending := request.StatePendingApproval
	for _, m := range []struct {
		id int64
		tr []request.Transition
	}{
		{1, []request.Transition{approve}},
		{3, []request.Transition{move(pending, request.StateRejected, "carol")}},
		{6, []request.Transition{approve,
			move(request.StateApproved, request.StateCommitting, "worker"),
			move(request.StateCommitting, request.StateDone, "worker")}},
	} {
		for _, tr := range m.tr {
			clk.Advance(time.Minute)
			if _, err := s.Transition(ctx, m.id, tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var listCases = []struct {
	name string
	q    store.Query
	want []int64
}{
	{"all", store.Query{}, []int64{2, 4, 5, 1, 3, 6}},
	{"pending", store.Query{States: []request.State{request.StatePendingApproval}}, []int64{2, 4, 5}},
	{"pending newest", store.Query{States: []request.State{request.StatePendingApproval}, Newest: true}, []int64{5, 4, 2}},
	{"two states", store.Query{States: []request.State{request.StateDone, request.StateApproved}}, []int64{1, 6}},
	{"limit", store.Query{States: []request.State{request.StatePendingApproval}, Limit: 2}, []int64{2, 4}},
	{"owner", store.Query{Owner: "alice"}, []int64{5, 1, 3}},
	{"owner and state", store.Query{Owner: "alice", States: []request.State{request.StatePendingApproval}}, []int64{5}},
	{"kind", store.Query{Kind: request.KindCustomer, Newest: true}, []int64{6, 1, 5}},
	{"kind and owner", store.Query{Kind: request.KindUsers, Owner: "bob"}, []int64{2}},
	{"nobody", store.Query{Owner: "dave"}, nil},
}

func checkIndexes(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range listCases {
		got, err := s.List(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !equalIDs(ids(got), tc.want) {
			t.Errorf("%s: List = %v, want %v", tc.name, ids(got), tc.want)
		}
	}
	for _, c := range []struct {
		states []request.State
		want   int64
	}{
		{nil, 6},
		{[]request.State{request.StatePendingApproval}, 3},
		{[]request.State{request.StateRejected, request.StateDone}, 2},
		{[]request.State{request.StateFailed}, 0},
	} {
		if n, err := s.Count(ctx, c.states...); err != nil || n != c.want {
			t.Errorf("Count(%v) = %d, %v; want %d", c.states, n, err, c.want)
		}
	}
}

func TestIndexesFollowTransitions(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		seed(t, s, clk)
		checkIndexes(t, s)

		// A change of owner or kind moves the request between indexes.
		ctx := context.Background()
		_, err := s.Transition(ctx, 2, request.Transition{
			From: []request.State{request.StatePendingApproval}, Actor: "admin", Action: "reassigned",
			Mutate: func(r *request.Request) error {
				r.Requester, r.Kind = "dave", request.KindLocation
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			q    store.Query
			want []int64
		}{
			{store.Query{Owner: "bob"}, []int64{6}},
			{store.Query{Owner: "dave"}, []int64{2}},
			{store.Query{Kind: request.KindUsers}, []int64{3}},
			{store.Query{Kind: request.KindLocation}, []int64{4, 2}},
		} {
			got, err := s.List(ctx, c.q)
			if err != nil || !equalIDs(ids(got), c.want) {
				t.Errorf("List(%+v) = %v, %v; want %v", c.q, ids(got), err, c.want)
			}
		}
		if rep, err := s.Sweep(ctx); err != nil || rep.Repaired() {
			t.Errorf("sweep after reassignment: %+v, %v; want nothing to repair", rep, err)
		}
	})
}

// TestListPagesThroughLargeIndexes covers the merge of several state indexes
// past one page.
func TestListPagesThroughLargeIndexes(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		s = s.WithListPage(10)
		const n = 45
		for i := range n {
			st := request.StateDraft
			if i%2 == 1 {
				st = request.StateFailed
			}
			mustCreate(t, s, &request.Request{Kind: request.KindUsers, State: st, Requester: "alice"})
			clk.Advance(time.Second)
		}
		got, err := s.List(ctx, store.Query{States: []request.State{request.StateFailed, request.StateDraft}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("listed %d, want %d", len(got), n)
		}
		for i, r := range got {
			if r.ID != int64(i+1) {
				t.Fatalf("position %d holds R-%d", i, r.ID)
			}
		}
		got, err = s.List(ctx, store.Query{Owner: "alice", Newest: true, Limit: 25})
		if err != nil || len(got) != 25 || got[0].ID != n || got[24].ID != n-24 {
			t.Fatalf("newest 25: %d items, %v", len(got), err)
		}
		// A limit that needs more than one page of one index.
		got, err = s.List(ctx, store.Query{States: []request.State{request.StateFailed}, Owner: "alice", Limit: 15})
		if err != nil || len(got) != 15 || got[14].ID != 30 {
			t.Fatalf("failed, limit 15: %v, %v", ids(got), err)
		}
	})
}

// TestSweepHealsIndexes breaks the indexes and reservations the way a crash
// between a write and its follow-ups would, and lets the sweeper repair them.
func TestSweepHealsIndexes(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		seed(t, s, clk)
		rep, err := s.Sweep(ctx)
		if err != nil || rep.Repaired() || rep.Requests != 6 {
			t.Fatalf("sweep of healthy indexes: %+v, %v", rep, err)
		}

		rdb, p := s.Client(), storePrefix(t, s)
		mustDo(t, rdb.ZRem(ctx, p+"idx:state:approved", "1"))                                    // missing
		mustDo(t, rdb.ZAdd(ctx, p+"idx:state:failed", redis.Z{Score: 1, Member: "2"}))           // extra
		mustDo(t, rdb.ZAdd(ctx, p+"idx:state:pending_approval", redis.Z{Score: 9, Member: "4"})) // wrong score
		mustDo(t, rdb.Del(ctx, p+"idx:owner:alice"))                                             // whole index lost
		mustDo(t, rdb.ZAdd(ctx, p+"idx:owner:dave", redis.Z{Score: 1, Member: "6"}))             // wrong owner
		mustDo(t, rdb.SAdd(ctx, p+"idx:owners", "dave"))
		mustDo(t, rdb.ZAdd(ctx, p+"idx:kind:users", redis.Z{Score: 1, Member: "5"})) // wrong kind

		rep, err = s.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Added != 5 || rep.Removed != 3 {
			t.Errorf("sweep report %+v, want 5 added, 3 removed", rep)
		}
		checkIndexes(t, s)
		if rep, err := s.Sweep(ctx); err != nil || rep.Repaired() {
			t.Errorf("second sweep: %+v, %v; want nothing to do", rep, err)
		}
	})
}

func TestSweepRepairsReservations(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		a := mustCreate(t, s, newRequest("alice", "MS-A"))
		b := mustCreate(t, s, newRequest("alice", "MS-B"))
		rdb, p := s.Client(), storePrefix(t, s)
		// A crash after the rejection of A, before its release (put back by hand
		// below); B lost its reservation altogether.
		if _, err := s.Transition(ctx, a.ID, move(request.StatePendingApproval, request.StateRejected, "bob")); err != nil {
			t.Fatal(err)
		}
		mustDo(t, rdb.Set(ctx, p+"{ids}:extid:MS-A", a.ID, 0))
		mustDo(t, rdb.Del(ctx, p+"{ids}:extid:MS-B"))

		rep, err := s.Sweep(ctx)
		if err != nil || rep.Released != 1 || rep.Restored != 1 {
			t.Fatalf("sweep: %+v, %v; want 1 released, 1 restored", rep, err)
		}
		if _, err := s.ByExternalID(ctx, "MS-A"); err == nil {
			t.Error("MS-A still reserved by a rejected request")
		}
		if h, err := s.ByExternalID(ctx, "MS-B"); err != nil || h != b.ID {
			t.Errorf("MS-B held by %d, %v; want %d", h, err, b.ID)
		}
		if rep, err := s.Sweep(ctx); err != nil || rep.Repaired() {
			t.Errorf("second sweep: %+v, %v", rep, err)
		}
	})
}

// A create whose document write failed, and the release after it too,
// leaves its external id reserved by a request that does not exist. The
// sweep frees such a reservation once the id is older than a sweep at least
// five minutes back, never one whose create may still be on its way.
func TestSweepFreesOrphanReservations(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		rdb, p := s.Client(), storePrefix(t, s)
		active := mustCreate(t, s, newRequest("alice", "MS-A"))
		// orphan takes the next id and reserves ext for it, as a create
		// whose document never arrived.
		orphan := func(ext string) int64 {
			t.Helper()
			id, err := rdb.Incr(ctx, p+"{ids}:counter:req").Result()
			if err != nil {
				t.Fatal(err)
			}
			mustDo(t, rdb.Set(ctx, p+"{ids}:extid:"+ext, id, 0))
			return id
		}
		held := func(ext string) bool {
			t.Helper()
			_, err := s.ByExternalID(ctx, ext)
			if err != nil && !errors.Is(err, request.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil
		}
		sweep := func(want int) {
			t.Helper()
			rep, err := s.Sweep(ctx)
			if err != nil || rep.Orphans != want {
				t.Fatalf("sweep: %+v, %v; want %d orphans freed", rep, err, want)
			}
		}

		orphan("MS-OLD")
		sweep(0) // the first sweep of a process only marks the counter
		young := orphan("MS-YOUNG")
		clk.Advance(time.Minute)
		sweep(0) // too soon after the mark
		if !held("MS-OLD") || !held("MS-YOUNG") {
			t.Fatal("a reservation was freed before its create was surely over")
		}
		clk.Advance(5 * time.Minute)
		sweep(1)
		if held("MS-OLD") {
			t.Error("MS-OLD still reserved by a request that was never written")
		}
		if !held("MS-YOUNG") {
			t.Errorf("MS-YOUNG (R-%d, after the mark) freed too early", young)
		}
		if h, err := s.ByExternalID(ctx, "MS-A"); err != nil || h != active.ID {
			t.Errorf("MS-A held by %d, %v; want the active %s", h, err, active.Ref())
		}
		clk.Advance(5 * time.Minute)
		sweep(1)
		if held("MS-YOUNG") {
			t.Error("MS-YOUNG still reserved a sweep later")
		}
		// Freed, the external id can be used again.
		if r := mustCreate(t, s, newRequest("bob", "MS-OLD")); r.ExternalID != "MS-OLD" {
			t.Errorf("created %+v", r)
		}
		clk.Advance(5 * time.Minute)
		sweep(0)
		if !held("MS-OLD") || !held("MS-A") {
			t.Error("a sweep freed the reservation of a request that exists")
		}
	})
}

// SCAN's pattern characters in a prefix are matched as written: the sweep
// of a store with "*" in its prefix frees nothing of another store that the
// unquoted pattern would take in.
func TestSweepOrphansMatchThePrefixAsWritten(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, base *store.Store, clk *clock) {
		ctx := context.Background()
		rdb := base.Client()
		wild := store.New(rdb, base.Prefix()+"x*:").WithClock(clk.Now)
		otherPrefix := base.Prefix() + "xy:"
		// Ids the wild store has handed out without documents, the other
		// store's holder among them.
		mustDo(t, rdb.IncrBy(ctx, base.Prefix()+"x*:{ids}:counter:req", 10))
		id, err := rdb.IncrBy(ctx, otherPrefix+"{ids}:counter:req", 5).Result()
		if err != nil {
			t.Fatal(err)
		}
		mustDo(t, rdb.Set(ctx, otherPrefix+"{ids}:extid:MS-OTHER", id, 0))
		for range 3 {
			if rep, err := wild.Sweep(ctx); err != nil || rep.Orphans != 0 {
				t.Fatalf("sweep of %q: %+v, %v; want nothing freed", wild.Prefix(), rep, err)
			}
			clk.Advance(6 * time.Minute)
		}
		if n, err := rdb.Exists(ctx, otherPrefix+"{ids}:extid:MS-OTHER").Result(); err != nil || n != 1 {
			t.Errorf("the other store's reservation: exists %d, %v", n, err)
		}
	})
}

func TestSweepSkipsDamagedDocuments(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		r := mustCreate(t, s, newRequest("alice", ""))
		mustDo(t, s.Client().HSet(ctx, storePrefix(t, s)+"{req:1}:doc", "spec", "{not json"))
		quiet := s.WithErrorHandler(nil)
		if _, err := quiet.Get(ctx, r.ID); err == nil {
			t.Error("Get of a damaged document succeeded")
		}
		rep, err := quiet.Sweep(ctx)
		if err != nil || rep.Damaged != 1 {
			t.Errorf("sweep: %+v, %v; want 1 damaged", rep, err)
		}
	})
}

func mustDo(t *testing.T, c redis.Cmder) {
	t.Helper()
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
}
