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

func TestJobsEnqueueNextAck(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		if job, err := s.NextJob(ctx, "w1", 0); job != nil || err != nil {
			t.Fatalf("NextJob on an empty stream = %+v, %v", job, err)
		}
		for _, id := range []int64{7, 8} {
			if err := s.EnqueueJob(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		a, err := s.NextJob(ctx, "w1", 10*time.Millisecond)
		if err != nil || a == nil || a.RequestID != 7 || a.Deliveries != 1 {
			t.Fatalf("first job = %+v, %v", a, err)
		}
		b, err := s.NextJob(ctx, "w2", 10*time.Millisecond)
		if err != nil || b == nil || b.RequestID != 8 || b.Deliveries != 1 {
			t.Fatalf("second job = %+v, %v", b, err)
		}
		if job, err := s.NextJob(ctx, "w3", 10*time.Millisecond); job != nil || err != nil {
			t.Fatalf("third job = %+v, %v; want none", job, err)
		}
		for _, j := range []*request.Job{a, b} {
			if err := s.AckJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.Client().XLen(ctx, storePrefix(t, s)+"jobs").Val(); n != 0 {
			t.Errorf("%d entries left in the stream after ack", n)
		}
		if err := s.RefreshJob(ctx, "w1", a); !errors.Is(err, store.ErrJobLost) {
			t.Errorf("refresh of an acked job = %v, want ErrJobLost", err)
		}
	})
}

// The bulk lane is a stream of its own: its jobs are not handed to NextJob,
// the others not to NextBulkJob, and a bulk job is refreshed and acked in
// its lane.
func TestJobLanes(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		if err := s.EnqueueBulkJob(ctx, 9); err != nil {
			t.Fatal(err)
		}
		if job, err := s.NextJob(ctx, "w1", 10*time.Millisecond); job != nil || err != nil {
			t.Fatalf("NextJob with only a bulk job = %+v, %v; want none", job, err)
		}
		if err := s.EnqueueJob(ctx, 10); err != nil {
			t.Fatal(err)
		}
		bulk, err := s.NextBulkJob(ctx, "w1", 10*time.Millisecond)
		if err != nil || bulk == nil || bulk.RequestID != 9 || !bulk.Bulk {
			t.Fatalf("bulk job = %+v, %v", bulk, err)
		}
		if job, err := s.NextBulkJob(ctx, "w2", 10*time.Millisecond); job != nil || err != nil {
			t.Fatalf("second bulk job = %+v, %v; want none (R-10 is in the other lane)", job, err)
		}
		other, err := s.NextJob(ctx, "w2", 10*time.Millisecond)
		if err != nil || other == nil || other.RequestID != 10 || other.Bulk {
			t.Fatalf("job = %+v, %v", other, err)
		}
		if err := s.RefreshJob(ctx, "w1", bulk); err != nil {
			t.Fatalf("refresh of a held bulk job: %v", err)
		}
		for _, j := range []*request.Job{bulk, other} {
			if err := s.AckJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		for _, key := range []string{"jobs", "jobs:bulk"} {
			if n := s.Client().XLen(ctx, storePrefix(t, s)+key).Val(); n != 0 {
				t.Errorf("%s: %d entries left after ack", key, n)
			}
		}
		if n, _, err := s.JobStream(ctx); err != nil || n != 0 {
			t.Errorf("JobStream = %d, %v; want 0", n, err)
		}
	})
}

// TestJobOfDeadConsumerIsClaimed: a consumer that takes a job and never acks
// it loses it to another consumer once the claim timeout has passed.
func TestJobOfDeadConsumerIsClaimed(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		s = s.WithClaimTimeout(100 * time.Millisecond)
		if err := s.EnqueueJob(ctx, 3); err != nil {
			t.Fatal(err)
		}
		dead, err := s.NextJob(ctx, "dead", 0)
		if err != nil || dead == nil {
			t.Fatalf("NextJob = %+v, %v", dead, err)
		}
		var taken *request.Job
		waitFor(t, "the abandoned job to be claimed", func() bool {
			taken, err = s.NextJob(ctx, "alive", 0)
			if err != nil {
				t.Fatal(err)
			}
			return taken != nil
		})
		if taken.ID != dead.ID || taken.RequestID != 3 || taken.Deliveries != 2 {
			t.Errorf("claimed %+v, want entry %s of R-3 on its 2nd delivery", taken, dead.ID)
		}
		// The dead consumer, back to life, must learn that it lost the job.
		if err := s.RefreshJob(ctx, "dead", dead); !errors.Is(err, store.ErrJobLost) {
			t.Errorf("refresh by the former owner = %v, want ErrJobLost", err)
		}
		if err := s.RefreshJob(ctx, "alive", taken); err != nil {
			t.Errorf("refresh by the new owner: %v", err)
		}
		if err := s.AckJob(ctx, taken); err != nil {
			t.Fatal(err)
		}
		if job, err := s.NextJob(ctx, "alive", 0); job != nil || err != nil {
			t.Errorf("after ack: %+v, %v", job, err)
		}
	})
}

// TestRefreshKeepsClaim: a job whose owner refreshes it is not taken over,
// even after it has been idle long enough to be claimable.
func TestRefreshKeepsClaim(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		// Long enough that the NextJob right after the refresh cannot miss
		// it on a slow machine; short enough to keep the suite quick.
		const timeout = time.Second
		s = s.WithClaimTimeout(timeout)
		if err := s.EnqueueJob(ctx, 5); err != nil {
			t.Fatal(err)
		}
		job, err := s.NextJob(ctx, "worker", 0)
		if err != nil || job == nil {
			t.Fatalf("NextJob = %+v, %v", job, err)
		}
		waitFor(t, "the job to become claimable", func() bool {
			p, err := s.Client().XPendingExt(ctx, &redis.XPendingExtArgs{
				Stream: storePrefix(t, s) + "jobs", Group: store.JobGroup, Start: "-", End: "+", Count: 1,
			}).Result()
			return err == nil && len(p) == 1 && p[0].Idle > timeout
		})
		if err := s.RefreshJob(ctx, "worker", job); err != nil {
			t.Fatal(err)
		}
		if other, err := s.NextJob(ctx, "other", 0); other != nil || err != nil {
			t.Errorf("a refreshed job was handed out again: %+v, %v", other, err)
		}
	})
}

func TestJobWithoutRequestIDIsDropped(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		if err := s.EnqueueJob(ctx, 1); err != nil { // creates the group
			t.Fatal(err)
		}
		first, _ := s.NextJob(ctx, "w", 0)
		mustDo(t, s.Client().XAdd(ctx, &redis.XAddArgs{Stream: storePrefix(t, s) + "jobs", Values: []any{"request", "nope"}}))
		if job, err := s.NextJob(ctx, "w", 0); err == nil || job != nil {
			t.Errorf("malformed job = %+v, %v; want an error", job, err)
		}
		if job, err := s.NextJob(ctx, "w", 0); job != nil || err != nil {
			t.Errorf("malformed job was handed out again: %+v, %v", job, err)
		}
		_ = s.AckJob(ctx, first)
	})
}
