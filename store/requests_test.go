package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

func newRequest(owner, ext string) *request.Request {
	return &request.Request{
		Kind:       request.KindCustomer,
		State:      request.StatePendingApproval,
		Requester:  owner,
		Subject:    ext,
		ExternalID: ext,
		Spec:       json.RawMessage(`{"name":"Müller GmbH","packages":["webex_calling"]}`),
		Hash:       "abc123def456",
	}
}

func mustCreate(t *testing.T, s *store.Store, r *request.Request) *request.Request {
	t.Helper()
	if err := s.Create(context.Background(), r); err != nil {
		t.Fatalf("create: %v", err)
	}
	return r
}

var approve = request.Transition{
	From: []request.State{request.StatePendingApproval}, To: request.StateApproved,
	Actor: "bob", Action: "approved",
}

func move(from, to request.State, actor string) request.Transition {
	return request.Transition{From: []request.State{from}, To: to, Actor: actor, Action: string(to)}
}

func TestCreateGet(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		r := mustCreate(t, s, newRequest("alice", "MS-001"))
		if r.ID != 1 || r.Version != 1 || !r.CreatedAt.Equal(clk.Now()) || !r.UpdatedAt.Equal(clk.Now()) {
			t.Fatalf("created = id %d v%d %s %s", r.ID, r.Version, r.CreatedAt, r.UpdatedAt)
		}
		got, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(r)
		have, _ := json.Marshal(got)
		if string(want) != string(have) {
			t.Errorf("Get =\n%s\nwant\n%s", have, want)
		}
		for _, id := range []int64{0, -1, 99} {
			if _, err := s.Get(ctx, id); !errors.Is(err, request.ErrNotFound) {
				t.Errorf("Get(%d) = %v, want ErrNotFound", id, err)
			}
		}
		audit, err := s.Audit(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(audit) != 1 || audit[0].Action != "created" || audit[0].Actor != "alice" || audit[0].To != r.State {
			t.Errorf("audit = %+v", audit)
		}
		if _, err := s.Audit(ctx, 99); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("Audit(99) = %v, want ErrNotFound", err)
		}
	})
}

func TestCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		for name, r := range map[string]*request.Request{
			"nil":     nil,
			"no kind": {State: request.StateDraft},
			"state":   {Kind: request.KindUsers, State: "bogus"},
		} {
			if err := s.Create(context.Background(), r); err == nil {
				t.Errorf("%s: Create succeeded", name)
			}
		}
	})
}

func TestIDsAreSequential(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		for want := int64(1); want <= 5; want++ {
			r := mustCreate(t, s, &request.Request{Kind: request.KindUsers, Requester: "alice"})
			if r.ID != want || r.State != request.StateDraft {
				t.Fatalf("id = %d state %s, want %d draft", r.ID, r.State, want)
			}
		}
	})
}

func TestExternalIDReservation(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		const n = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []int64
		var taken []*request.ExternalIDTaken
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := newRequest(fmt.Sprintf("user%d", i), "MS-RACE")
				err := s.Create(ctx, r)
				mu.Lock()
				defer mu.Unlock()
				var et *request.ExternalIDTaken
				switch {
				case err == nil:
					won = append(won, r.ID)
				case errors.As(err, &et):
					taken = append(taken, et)
				default:
					t.Errorf("create: %v", err)
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 || len(taken) != n-1 {
			t.Fatalf("%d won, %d refused; want 1 and %d", len(won), len(taken), n-1)
		}
		for _, et := range taken {
			if et.Holder != won[0] || et.ExternalID != "MS-RACE" {
				t.Errorf("refusal %+v, want holder %d", et, won[0])
			}
		}
		if h, err := s.ByExternalID(ctx, "MS-RACE"); err != nil || h != won[0] {
			t.Errorf("ByExternalID = %d, %v; want %d", h, err, won[0])
		}
		if _, err := s.ByExternalID(ctx, "MS-NONE"); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("ByExternalID(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestExternalIDReleasedOnlyWhenNothingWasCreated(t *testing.T) {
	t.Parallel()
	cancel := move(request.StatePendingApproval, request.StateCancelled, "alice")
	reject := move(request.StatePendingApproval, request.StateRejected, "bob")
	cases := []struct {
		name     string
		steps    []request.Transition
		released bool
	}{
		{"rejected", []request.Transition{reject}, true},
		{"cancelled", []request.Transition{cancel}, true},
		{"approved", []request.Transition{approve}, false},
		{"done", []request.Transition{approve,
			move(request.StateApproved, request.StateCommitting, "worker"),
			move(request.StateCommitting, request.StateDone, "worker")}, false},
	}
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		for _, tc := range cases {
			ext := "MS-" + tc.name
			r := mustCreate(t, s, newRequest("alice", ext))
			for _, tr := range tc.steps {
				if _, err := s.Transition(ctx, r.ID, tr); err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
			}
			again := newRequest("carol", ext)
			err := s.Create(ctx, again)
			var et *request.ExternalIDTaken
			switch {
			case tc.released && err != nil:
				t.Errorf("%s: create after release: %v", tc.name, err)
			case !tc.released && (!errors.As(err, &et) || et.Holder != r.ID):
				t.Errorf("%s: create of a kept id = %v, want ExternalIDTaken by %d", tc.name, err, r.ID)
			}
		}
	})
}

func TestConcurrentApprovalsHaveOneWinner(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		r := mustCreate(t, s, newRequest("alice", "MS-002"))
		const n = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		var conflicts []*request.StateConflict
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := approve
				tr.Actor = fmt.Sprintf("approver%d", i)
				tr.Mutate = func(r *request.Request) error {
					r.ApprovedBy, r.ApprovedHash = tr.Actor, r.Hash
					return nil
				}
				_, err := s.Transition(ctx, r.ID, tr)
				mu.Lock()
				defer mu.Unlock()
				var sc *request.StateConflict
				switch {
				case err == nil:
					winners = append(winners, tr.Actor)
				case errors.As(err, &sc):
					conflicts = append(conflicts, sc)
				default:
					t.Errorf("transition: %v", err)
				}
			}()
		}
		wg.Wait()
		if len(winners) != 1 || len(conflicts) != n-1 {
			t.Fatalf("%d winners, %d conflicts", len(winners), len(conflicts))
		}
		for _, c := range conflicts {
			if c.Last.Actor != winners[0] || c.Last.Action != "approved" || c.Current.State != request.StateApproved {
				t.Errorf("conflict says %+v / %s, want approved by %s", c.Last, c.Current.State, winners[0])
			}
		}
		got, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || got.ApprovedBy != winners[0] || got.ApprovedHash != r.Hash {
			t.Errorf("after approval: v%d by %q hash %q", got.Version, got.ApprovedBy, got.ApprovedHash)
		}
		audit, _ := s.Audit(ctx, r.ID)
		if len(audit) != 2 || audit[1].Actor != winners[0] || audit[1].From != request.StatePendingApproval ||
			audit[1].To != request.StateApproved {
			t.Errorf("audit = %+v", audit)
		}
	})
}

// Plain updates (To == "") of many writers race on the version only: each
// must land exactly once, through the store's re-read and retry.
func TestConcurrentUpdatesAllLand(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		r := mustCreate(t, s, newRequest("alice", ""))
		const n = 8
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Transition(ctx, r.ID, request.Transition{
					From: []request.State{request.StatePendingApproval}, Actor: "worker",
					Action: "progress", Note: fmt.Sprint(i),
				})
				if err != nil {
					t.Errorf("update %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		got, _ := s.Get(ctx, r.ID)
		audit, _ := s.Audit(ctx, r.ID)
		if got.Version != n+1 || len(audit) != n+1 || got.State != request.StatePendingApproval {
			t.Errorf("version %d, %d audit entries, state %s; want %d, %d, pending", got.Version, len(audit), got.State, n+1, n+1)
		}
	})
}

func TestTransitionWritesDocAndAuditTogether(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		r := mustCreate(t, s, newRequest("alice", "MS-003"))
		clk.Advance(time.Minute)

		boom := errors.New("boom")
		_, err := s.Transition(ctx, r.ID, request.Transition{
			From: []request.State{request.StatePendingApproval}, To: request.StateApproved,
			Actor: "bob", Action: "approved",
			Mutate: func(r *request.Request) error { r.ApprovedBy = "bob"; return boom },
		})
		if !errors.Is(err, boom) {
			t.Fatalf("mutate error = %v, want boom", err)
		}
		if got, _ := s.Get(ctx, r.ID); got.Version != 1 || got.ApprovedBy != "" {
			t.Errorf("failed mutate changed the request: %+v", got)
		}
		if audit, _ := s.Audit(ctx, r.ID); len(audit) != 1 {
			t.Errorf("failed mutate appended audit: %+v", audit)
		}

		reject := request.Transition{
			From: []request.State{request.StatePendingApproval}, To: request.StateRejected,
			Actor: "bob", Action: "rejected", Note: "wrong country",
			Mutate: func(r *request.Request) error {
				r.RejectedBy, r.Reason = "bob", "wrong country"
				r.ID, r.Version = 42, 42 // ignored: identity is the store's
				return nil
			},
		}
		got, err := s.Transition(ctx, r.ID, reject)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != r.ID || got.Version != 2 || got.State != request.StateRejected || !got.UpdatedAt.Equal(clk.Now()) ||
			!got.CreatedAt.Equal(r.CreatedAt) {
			t.Errorf("after reject: %+v", got)
		}
		// Clearing a field removes it from the document.
		got, err = s.Transition(ctx, r.ID, request.Transition{
			From: []request.State{request.StateRejected}, Actor: "bob", Action: "edited",
			Mutate: func(r *request.Request) error { r.Reason = ""; return nil },
		})
		if err != nil || got.Reason != "" {
			t.Fatalf("clear reason: %v %+v", err, got)
		}
		if stored, _ := s.Get(ctx, r.ID); stored.Reason != "" || stored.RejectedBy != "bob" || stored.Version != 3 {
			t.Errorf("stored after clear: %+v", stored)
		}
		audit, _ := s.Audit(ctx, r.ID)
		want := []request.AuditEntry{
			{At: r.CreatedAt, Actor: "alice", Action: "created", To: request.StatePendingApproval},
			{At: clk.Now(), Actor: "bob", Action: "rejected", From: request.StatePendingApproval,
				To: request.StateRejected, Note: "wrong country"},
			{At: clk.Now(), Actor: "bob", Action: "edited", From: request.StateRejected, To: request.StateRejected},
		}
		if fmt.Sprint(audit) != fmt.Sprint(want) {
			t.Errorf("audit =\n%+v\nwant\n%+v", audit, want)
		}

		var sc *request.StateConflict
		if _, err := s.Transition(ctx, r.ID, approve); !errors.As(err, &sc) || sc.Last.Action != "edited" {
			t.Errorf("approve rejected = %v, want StateConflict", err)
		}
		if _, err := s.Transition(ctx, 99, approve); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("transition of unknown = %v, want ErrNotFound", err)
		}
		if _, err := s.Transition(ctx, r.ID, request.Transition{To: request.StateDone}); err == nil {
			t.Error("transition without From succeeded")
		}
	})
}

func TestAppendAudit(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		r := mustCreate(t, s, newRequest("alice", ""))
		if err := s.AppendAudit(ctx, r.ID, request.AuditEntry{Actor: "alice", Action: "snoozed", Note: "23h"}); err != nil {
			t.Fatal(err)
		}
		audit, _ := s.Audit(ctx, r.ID)
		if len(audit) != 2 || audit[1].Action != "snoozed" || !audit[1].At.Equal(clk.Now()) {
			t.Errorf("audit = %+v", audit)
		}
		if got, _ := s.Get(ctx, r.ID); got.Version != 1 {
			t.Errorf("AppendAudit changed the version to %d", got.Version)
		}
		err := s.AppendAudit(ctx, 77, request.AuditEntry{Actor: "x", Action: "snoozed"})
		if !errors.Is(err, request.ErrNotFound) {
			t.Errorf("AppendAudit(unknown) = %v, want ErrNotFound", err)
		}
	})
}

// TestFailedCreateReleasesReservation: when the document cannot be written
// (here: a document already sits at the next id, as after a counter reset),
// the external id is free again.
func TestFailedCreateReleasesReservation(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		mustDo(t, s.Client().HSet(ctx, storePrefix(t, s)+"{req:1}:doc", "id", "1"))
		if err := s.Create(ctx, newRequest("alice", "MS-FAIL")); err == nil {
			t.Fatal("Create over an existing document succeeded")
		}
		if h, err := s.ByExternalID(ctx, "MS-FAIL"); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("reservation kept by %d (%v) after a failed create", h, err)
		}
		r := mustCreate(t, s, newRequest("alice", "MS-FAIL"))
		if h, err := s.ByExternalID(ctx, "MS-FAIL"); err != nil || h != r.ID {
			t.Errorf("ByExternalID = %d, %v; want %d", h, err, r.ID)
		}
		if ttl := s.Client().PTTL(ctx, storePrefix(t, s)+"{ids}:extid:MS-FAIL").Val(); ttl >= 0 {
			t.Errorf("reservation of a written request still expires (%s)", ttl)
		}
	})
}

// A server that lost its scripts (a restart, SCRIPT FLUSH, a new cluster
// node) answers the create's EVALSHA with NOSCRIPT: the create still
// writes the document and confirms the external id.
func TestCreateAfterScriptFlush(t *testing.T) {
	t.Parallel()
	rdb := storetest.Miniredis(t)
	s := store.New(rdb, storetest.Prefix(t)).
		WithErrorHandler(func(op string, err error) { t.Errorf("%s: %v", op, err) })
	ctx := context.Background()
	for i, ext := range []string{"EXT-1", "EXT-2"} {
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		r := &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval,
			Requester: "UA", Subject: ext, ExternalID: ext, Spec: []byte(`{}`)}
		if err := s.Create(ctx, r); err != nil {
			t.Fatalf("create %d: %v", i+1, err)
		}
		if _, err := s.Get(ctx, r.ID); err != nil {
			t.Fatalf("create %d wrote no document: %v", i+1, err)
		}
		if holder, err := s.ByExternalID(ctx, ext); err != nil || holder != r.ID {
			t.Fatalf("external id %s: holder %d, %v; want %d", ext, holder, err, r.ID)
		}
	}
}
