package background

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// waitUntil polls ok until it holds, failing after 5 s.
func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// A burst of background work runs on backgroundWorkers goroutines,
// and Wait and Busy see queued tasks as well as running ones.
func TestBackgroundRunsOnBoundedWorkers(t *testing.T) {
	t.Parallel()
	q := New(nil)
	release := make(chan struct{})
	var running, most, done atomic.Int32
	const tasks = 3 * backgroundWorkers
	for range tasks {
		q.Go(context.Background(), "test", func(context.Context) error {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			running.Add(-1)
			done.Add(1)
			return nil
		})
	}
	waitUntil(t, func() bool { return running.Load() == backgroundWorkers })
	if got := q.Backlog(); got != tasks-backgroundWorkers {
		t.Fatalf("backlog = %d, want %d waiting behind %d running", got, tasks-backgroundWorkers, backgroundWorkers)
	}
	if !q.Busy() {
		t.Fatal("Busy() = false with tasks queued")
	}
	close(release)
	q.Wait()
	if done.Load() != tasks || most.Load() != backgroundWorkers {
		t.Fatalf("ran %d of %d tasks, at most %d at once (want %d)", done.Load(), tasks, most.Load(), backgroundWorkers)
	}
	if q.Busy() || q.Backlog() != 0 {
		t.Fatalf("after Wait: Busy %v, backlog %d", q.Busy(), q.Backlog())
	}
}

// A task waits while a Slack request is being answered, and starts when
// the answer is out.
func TestBackgroundGivesWayToAcks(t *testing.T) {
	t.Parallel()
	q := New(nil)
	q.yield = time.Minute // longer than the test: only the ack's end lets the task start
	done := q.Answering()
	ran := make(chan struct{})
	q.Go(context.Background(), "after the ack", func(context.Context) error { close(ran); return nil })
	select {
	case <-ran:
		t.Fatal("a background task started while a Slack request was being answered")
	case <-time.After(50 * time.Millisecond):
	}
	done()
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the task did not start once the answer was out")
	}
	q.Wait()
}

// When backgroundBacklog tasks wait, spare drops its task and background
// still queues: the dropped work is what the publish sweep makes up for.
func TestSpareShedsOnlyWhenTheBacklogIsFull(t *testing.T) {
	t.Parallel()
	q := New(nil)
	release := make(chan struct{})
	var ran atomic.Int32
	block := func(context.Context) error { <-release; ran.Add(1); return nil }
	count := func(context.Context) error { ran.Add(1); return nil }
	for range backgroundWorkers {
		q.Go(context.Background(), "block", block)
	}
	waitUntil(t, func() bool { return q.Backlog() == 0 })
	for range backgroundBacklog - 1 {
		q.Go(context.Background(), "fill", count)
	}
	if !q.Spare(context.Background(), "last place", count) {
		t.Fatal("spare refused with one place left")
	}
	if q.Spare(context.Background(), "over", count) {
		t.Fatal("spare queued past backgroundBacklog")
	}
	q.Go(context.Background(), "must run", count)
	close(release)
	q.Wait()
	if q.Shed() != 1 {
		t.Fatalf("Shed() = %d, want 1", q.Shed())
	}
	if want := int32(backgroundWorkers + backgroundBacklog + 1); ran.Load() != want {
		t.Fatalf("ran %d tasks, want %d (only the shed one missing)", ran.Load(), want)
	}
}
