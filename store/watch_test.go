package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

func TestWatchListDueOrder(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		now := clk.Now()
		for id, at := range map[int64]time.Time{
			1: now.Add(time.Minute), 2: now.Add(-time.Hour), 3: now, 4: now.Add(-time.Minute), 5: now.Add(time.Hour),
		} {
			if err := s.Watch(ctx, id, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Watch(ctx, 5, now.Add(-2*time.Hour)); err != nil { // moved earlier
			t.Fatal(err)
		}
		if err := s.Unwatch(ctx, 4); err != nil {
			t.Fatal(err)
		}
		if err := s.Unwatch(ctx, 99); err != nil {
			t.Errorf("unwatch of an unknown id: %v", err)
		}
		for _, c := range []struct {
			at   time.Time
			max  int
			want []int64
		}{
			{now, 10, []int64{5, 2, 3}},
			{now, 2, []int64{5, 2}},
			{now.Add(time.Minute), 10, []int64{5, 2, 3, 1}},
			{now.Add(-3 * time.Hour), 10, nil},
			{now, 0, nil},
		} {
			got, err := s.DueWatches(ctx, c.at, c.max)
			if err != nil || !equalIDs(got, c.want) {
				t.Errorf("DueWatches(%s, %d) = %v, %v; want %v", c.at.Sub(now), c.max, got, err, c.want)
			}
		}
		if at, ok, err := s.WatchDue(ctx, 1); err != nil || !ok || !at.Equal(now.Add(time.Minute)) {
			t.Errorf("WatchDue(1) = %s %v %v", at, ok, err)
		}
		if _, ok, err := s.WatchDue(ctx, 4); err != nil || ok {
			t.Errorf("WatchDue(unwatched) = %v %v", ok, err)
		}
	})
}

func TestLocks(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		lock := func(name, owner string) bool {
			t.Helper()
			ok, err := s.TryLock(ctx, name, owner, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !lock("watch:7", "replica-a") {
			t.Fatal("first TryLock failed")
		}
		if lock("watch:7", "replica-b") || lock("watch:7", "replica-a") {
			t.Error("a held lock was taken again")
		}
		// Unlock by a non-owner leaves the lock alone.
		if err := s.Unlock(ctx, "watch:7", "replica-b"); err != nil {
			t.Fatal(err)
		}
		if lock("watch:7", "replica-b") {
			t.Error("non-owner's Unlock released the lock")
		}
		if !lock("digest:alice", "replica-b") {
			t.Fatal("second lock")
		}
		locks, err := s.Locks(ctx)
		if err != nil || len(locks) != 2 {
			t.Fatalf("Locks = %+v, %v", locks, err)
		}
		for i, want := range []store.Lock{{Name: "digest:alice", Owner: "replica-b"}, {Name: "watch:7", Owner: "replica-a"}} {
			if locks[i].Name != want.Name || locks[i].Owner != want.Owner || locks[i].TTL <= 0 || locks[i].TTL > time.Minute {
				t.Errorf("lock %d = %+v, want %s held by %s", i, locks[i], want.Name, want.Owner)
			}
		}
		if err := s.Unlock(ctx, "watch:7", "replica-a"); err != nil {
			t.Fatal(err)
		}
		if !lock("watch:7", "replica-b") {
			t.Error("owner's Unlock did not release the lock")
		}
		if err := s.ForceUnlock(ctx, "watch:7"); err != nil {
			t.Fatal(err)
		}
		if err := s.ForceUnlock(ctx, "watch:7"); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("ForceUnlock of a free lock = %v, want ErrNotFound", err)
		}
		if locks, _ := s.Locks(ctx); len(locks) != 1 || locks[0].Name != "digest:alice" {
			t.Errorf("Locks after releases = %+v", locks)
		}
		for _, bad := range []struct {
			name, owner string
			ttl         time.Duration
		}{{"", "a", time.Second}, {"x", "", time.Second}, {"x", "a", 0}} {
			if _, err := s.TryLock(ctx, bad.name, bad.owner, bad.ttl); err == nil {
				t.Errorf("TryLock(%q, %q, %s) succeeded", bad.name, bad.owner, bad.ttl)
			}
		}
	})
}

func TestLockHasOneHolder(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		held := 0
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.TryLock(ctx, "digest:2026-03-02T09:00:bob", fmt.Sprintf("replica-%d", i), time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					held++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if held != 1 {
			t.Errorf("%d holders, want 1", held)
		}
	})
}

func TestOnce(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		for i, want := range []bool{true, false, false} {
			got, err := s.Once(ctx, "slack-retry:Ev123", time.Hour)
			if err != nil || got != want {
				t.Errorf("call %d: Once = %v, %v; want %v", i+1, got, err, want)
			}
		}
		if ok, _ := s.Once(ctx, "slack-retry:Ev124", time.Hour); !ok {
			t.Error("another key was deduped")
		}
		if _, err := s.Once(ctx, "k", 0); err == nil {
			t.Error("Once with no ttl succeeded")
		}
	})
}

// TestBudgetWindowSlides: a submission budget is a sliding window shared by
// replicas: each submission leaves it a window after it was made, one by one.
func TestBudgetWindowSlides(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		replicas := []*store.Store{s, store.New(s.Client(), s.Prefix()).WithClock(clk.Now)}
		budget := store.Budget{Key: "new:alice", Limit: 3, Window: time.Minute}
		fits := func(i int) bool {
			t.Helper()
			err := replicas[i%2].CreateWithin(ctx, newRequest("alice", ""), budget)
			var over *store.OverBudget
			if err != nil && !errors.As(err, &over) {
				t.Fatal(err)
			}
			return err == nil
		}
		for i := range 3 {
			if !fits(i) {
				t.Fatalf("submission %d refused", i+1)
			}
			clk.Advance(10 * time.Second)
		}
		if fits(3) {
			t.Fatal("4th submission within the window accepted")
		}
		if err := s.CreateWithin(ctx, newRequest("bob", ""), store.Budget{Key: "new:bob", Limit: 3, Window: time.Minute}); err != nil {
			t.Errorf("another key shares the budget: %v", err)
		}
		clk.Advance(31 * time.Second) // the first submission leaves the window
		if !fits(4) {
			t.Error("submission after the window slid refused")
		}
		if fits(5) {
			t.Error("window slid by more than one submission")
		}
	})
}

// TestKeysExpire: locks and dedupe keys run out on every backend, the
// embedded one included.
func TestKeysExpire(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		if ok, err := s.Once(ctx, "short", 50*time.Millisecond); !ok || err != nil {
			t.Fatalf("Once = %v, %v", ok, err)
		}
		if ok, err := s.TryLock(ctx, "short", "a", 50*time.Millisecond); !ok || err != nil {
			t.Fatalf("TryLock = %v, %v", ok, err)
		}
		waitFor(t, "the dedupe key to expire", func() bool {
			ok, err := s.Once(ctx, "short", time.Minute)
			return err == nil && ok
		})
		waitFor(t, "the lock to expire", func() bool {
			ok, err := s.TryLock(ctx, "short", "b", time.Minute)
			return err == nil && ok
		})
		if locks, err := s.Locks(ctx); err != nil || len(locks) != 1 || locks[0].Owner != "b" {
			t.Errorf("Locks = %+v, %v; want the lock of b only", locks, err)
		}
	})
}
