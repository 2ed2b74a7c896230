package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

func rangeIDs(t *testing.T, s *store.Store, q store.DigestRange) ([]int64, int64) {
	t.Helper()
	rs, total, err := s.DigestRange(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return ids(rs), total
}

func setupFor(t *testing.T, customer int64) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{"customer": map[string]any{"requestId": customer, "externalId": "X"}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func to(st request.State, mutate func(*request.Request) error) request.Transition {
	return request.Transition{From: request.AllStates, To: st, Actor: "worker", Action: string(st), Mutate: mutate}
}

// The digest's indexes follow every transition and agree with what the
// sweeper rebuilds from the documents.
func TestDigestIndexesFollowTransitions(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		incomplete := func() []int64 { got, _ := rangeIDs(t, s, store.DigestRange{Index: store.Incomplete}); return got }
		move := func(id int64, tr request.Transition) {
			t.Helper()
			clk.Advance(time.Minute)
			if _, err := s.Transition(ctx, id, tr); err != nil {
				t.Fatal(err)
			}
		}
		customer := &request.Request{Kind: request.KindCustomer, State: request.StateCommitting, Requester: "alice"}
		mustCreate(t, s, customer)
		adopted := &request.Request{Kind: request.KindAdopt, State: request.StateDone, Requester: "bob"}
		mustCreate(t, s, adopted)
		if got := incomplete(); !equalIDs(got, []int64{adopted.ID}) {
			t.Fatalf("incomplete = %v, want the adopted customer alone", got)
		}
		move(customer.ID, to(request.StateDone, nil))
		if got := incomplete(); !equalIDs(got, []int64{adopted.ID, customer.ID}) {
			t.Fatalf("incomplete = %v after the customer is done", got)
		}
		// A later write to a done customer does not bring it back once it has users.
		batch := &request.Request{Kind: request.KindUsers, State: request.StatePendingApproval, Requester: "alice", Spec: setupFor(t, customer.ID)}
		mustCreate(t, s, batch)
		if got := incomplete(); len(got) != 2 {
			t.Fatalf("a users request not done yet counted: %v", got)
		}
		move(batch.ID, to(request.StateDone, nil))
		move(customer.ID, request.Transition{From: []request.State{request.StateDone}, Actor: "alice", Action: "noted"})
		deletion := &request.Request{Kind: request.KindDelete, State: request.StateDone, Requester: "bob", Spec: setupFor(t, adopted.ID)}
		mustCreate(t, s, deletion)
		if got := incomplete(); len(got) != 0 {
			t.Fatalf("incomplete = %v after users and a deletion", got)
		}

		// Waiting since: a consent count update moves UpdatedAt, not the wait.
		since := clk.Now()
		consent := &request.Request{Kind: request.KindUsers, State: request.StateCommitting, Requester: "carol", Spec: setupFor(t, customer.ID)}
		mustCreate(t, s, consent)
		move(consent.ID, to(request.StateWaiting, func(r *request.Request) error {
			r.Result.WaitReason, r.Result.WaitingSince = request.ConsentWaitReason, since
			return nil
		}))
		move(consent.ID, request.Transition{From: []request.State{request.StateWaiting}, Actor: "worker", Action: "waiting",
			Mutate: func(r *request.Request) error {
				r.Result.Message = "2/3 provisioned, 1 waiting for consent"
				return nil
			}})
		if got, _ := rangeIDs(t, s, store.DigestRange{Index: store.ByWaitingSince, To: since}); !equalIDs(got, []int64{consent.ID}) {
			t.Fatalf("waiting since %s = %v", since, got)
		}
		if got, _ := rangeIDs(t, s, store.DigestRange{Index: store.ByState, State: request.StateWaiting, To: since}); len(got) != 0 {
			t.Fatalf("the state index (by UpdatedAt) should not find it: %v", got)
		}
		if rep, err := s.Sweep(ctx); err != nil || rep.Repaired() {
			t.Fatalf("sweep repaired %+v, %v: the transitions left the digest indexes wrong", rep, err)
		}
		move(consent.ID, to(request.StateDone, nil))
		if got, _ := rangeIDs(t, s, store.DigestRange{Index: store.ByWaitingSince}); len(got) != 0 {
			t.Fatalf("a done request is still waiting: %v", got)
		}
	})
}

// A range returns only requests whose documents agree with the index, and
// counts every entry for "… and N more".
func TestDigestRange(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		start := clk.Now()
		var created []int64
		for range 5 {
			r := &request.Request{Kind: request.KindCustomer, State: request.StateFailed, Requester: "alice"}
			mustCreate(t, s, r)
			created = append(created, r.ID)
			clk.Advance(time.Hour)
		}
		// A stale entry: the document is pending, the failed index says otherwise.
		other := &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "bob"}
		mustCreate(t, s, other)
		if err := s.Client().ZAdd(ctx, storePrefix(t, s)+"idx:state:failed", redis.Z{Score: float64(start.UnixMilli()), Member: other.ID}).Err(); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name      string
			q         store.DigestRange
			want      []int64
			wantTotal int64
		}{
			{"all", store.DigestRange{Index: store.ByState, State: request.StateFailed}, created, 6},
			{"older than 3h", store.DigestRange{Index: store.ByState, State: request.StateFailed, To: start.Add(90 * time.Minute)}, created[:2], 3},
			{"window", store.DigestRange{Index: store.ByState, State: request.StateFailed, From: start.Add(time.Hour), To: start.Add(3 * time.Hour)}, created[1:4], 3},
			{"newest two", store.DigestRange{Index: store.ByState, State: request.StateFailed, Limit: 2, Newest: true}, []int64{created[4], created[3]}, 6},
		}
		for _, tc := range cases {
			got, total := rangeIDs(t, s, tc.q)
			if !equalIDs(got, tc.want) || total != tc.wantTotal {
				t.Errorf("%s: %v (total %d), want %v (total %d)", tc.name, got, total, tc.want, tc.wantTotal)
			}
		}
		if _, _, err := s.DigestRange(ctx, store.DigestRange{Index: store.ByState, State: "nope"}); err == nil {
			t.Error("an unknown state was accepted")
		}
	})
}

func TestDigestMarksAuditAndDrafts(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		until := clk.Now().Add(23 * time.Hour)
		if err := s.MarkDigestItem(ctx, "snooze", "failed:R-1:1", until, time.Hour); err != nil {
			t.Fatal(err)
		}
		marks, err := s.DigestMarks(ctx, "snooze", []string{"failed:R-1:1", "failed:R-2:1"})
		if err != nil || len(marks) != 1 || !marks["failed:R-1:1"].Equal(until) {
			t.Fatalf("marks = %v, %v", marks, err)
		}
		if err := s.MarkDigestItem(ctx, "", "x", until, time.Hour); err == nil {
			t.Fatal("an empty kind was accepted")
		}

		a := &request.Request{Kind: request.KindCustomer, State: request.StateRejected, Requester: "alice"}
		b := &request.Request{Kind: request.KindCustomer, State: request.StateRejected, Requester: "alice"}
		mustCreate(t, s, a)
		mustCreate(t, s, b)
		if err := s.AppendAudit(ctx, b.ID, request.AuditEntry{Actor: "alice", Action: "edited"}); err != nil {
			t.Fatal(err)
		}
		has, err := s.AuditHas(ctx, []int64{a.ID, b.ID}, "edited")
		if err != nil || has[a.ID] || !has[b.ID] {
			t.Fatalf("edited = %v, %v", has, err)
		}

		drafts := s.Drafts(time.Hour)
		old := &store.Draft{Owner: "alice", Kind: request.KindCustomer}
		if err := drafts.CreateDraft(ctx, old); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Hour)
		for _, owner := range []string{"alice", "bob"} {
			if err := drafts.CreateDraft(ctx, &store.Draft{Owner: owner, Kind: request.KindUsers}); err != nil {
				t.Fatal(err)
			}
		}
		idle, err := drafts.IdleDrafts(ctx, []string{"alice", "bob", "carol"}, clk.Now().Add(-time.Hour), 10)
		if err != nil || len(idle) != 1 || len(idle["alice"]) != 1 || idle["alice"][0].ID != old.ID {
			t.Fatalf("idle drafts = %v, %v", idle, err)
		}
		owners, err := s.Owners(ctx)
		if err != nil || len(owners) != 1 || owners[0] != "alice" {
			t.Fatalf("owners = %v, %v", owners, err)
		}
	})
}
