package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// Approved and committing requests left longer than the grace period get a
// job again; fresh ones, and requests in other states, do not.
func TestRequeueLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	clock := at
	s := store.New(storetest.Client(t), storetest.Prefix(t)).WithClock(func() time.Time { return clock })
	create := func(state request.State, ago time.Duration) int64 {
		clock = at.Add(-ago)
		r := &request.Request{Kind: request.KindLocation, State: state, Requester: "UALICE", Subject: "S"}
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	lostApproved := create(request.StateApproved, 10*time.Minute)
	lostCommitting := create(request.StateCommitting, 5*time.Minute)
	create(request.StateApproved, 10*time.Second)
	create(request.StatePendingApproval, time.Hour)
	create(request.StateDone, time.Hour)
	clock = at
	w := &worker.Worker{Store: s, Jobs: s, Watch: s, Consumer: "c1", Now: func() time.Time { return at }}
	w.RequeueLost(ctx, s, time.Minute)
	var got []int64
	for {
		job, err := s.NextJob(ctx, "c1", 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if job == nil {
			break
		}
		got = append(got, job.RequestID)
		if err := s.AckJob(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != lostApproved || got[1] != lostCommitting {
		t.Fatalf("requeued %v, want [%d %d]", got, lostApproved, lostCommitting)
	}
}
