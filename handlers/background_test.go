package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// A burst of background work runs on backgroundWorkers goroutines,
// and Wait and Busy see queued tasks as well as running ones.
func TestBackgroundRunsOnBoundedWorkers(t *testing.T) {
	t.Parallel()
	h := New(Deps{Log: quietLog()})
	release := make(chan struct{})
	var running, most, done atomic.Int32
	const tasks = 3 * backgroundWorkers
	for range tasks {
		h.background(context.Background(), "test", func(context.Context) error {
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
	if got := h.Backlog(); got != tasks-backgroundWorkers {
		t.Fatalf("backlog = %d, want %d waiting behind %d running", got, tasks-backgroundWorkers, backgroundWorkers)
	}
	if !h.Busy() {
		t.Fatal("Busy() = false with tasks queued")
	}
	close(release)
	h.Wait()
	if done.Load() != tasks || most.Load() != backgroundWorkers {
		t.Fatalf("ran %d of %d tasks, at most %d at once (want %d)", done.Load(), tasks, most.Load(), backgroundWorkers)
	}
	if h.Busy() || h.Backlog() != 0 {
		t.Fatalf("after Wait: Busy %v, backlog %d", h.Busy(), h.Backlog())
	}
}

// A task waits while a Slack request is being answered, and starts when
// the answer is out.
func TestBackgroundGivesWayToAcks(t *testing.T) {
	t.Parallel()
	h := New(Deps{Log: quietLog()})
	h.backlog.yield = time.Minute // longer than the test: only the ack's end lets the task start
	done := h.answering()
	ran := make(chan struct{})
	h.background(context.Background(), "after the ack", func(context.Context) error { close(ran); return nil })
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
	h.Wait()
}

// When backgroundBacklog tasks wait, spare drops its task and background
// still queues: the dropped work is what the publish sweep makes up for.
func TestSpareShedsOnlyWhenTheBacklogIsFull(t *testing.T) {
	t.Parallel()
	h := New(Deps{Log: quietLog()})
	release := make(chan struct{})
	var ran atomic.Int32
	block := func(context.Context) error { <-release; ran.Add(1); return nil }
	count := func(context.Context) error { ran.Add(1); return nil }
	for range backgroundWorkers {
		h.background(context.Background(), "block", block)
	}
	waitUntil(t, func() bool { return h.Backlog() == 0 })
	for range backgroundBacklog - 1 {
		h.background(context.Background(), "fill", count)
	}
	if !h.spare(context.Background(), "last place", count) {
		t.Fatal("spare refused with one place left")
	}
	if h.spare(context.Background(), "over", count) {
		t.Fatal("spare queued past backgroundBacklog")
	}
	h.background(context.Background(), "must run", count)
	close(release)
	h.Wait()
	if h.Shed() != 1 {
		t.Fatalf("Shed() = %d, want 1", h.Shed())
	}
	if want := int32(backgroundWorkers + backgroundBacklog + 1); ran.Load() != want {
		t.Fatalf("ran %d tasks, want %d (only the shed one missing)", ran.Load(), want)
	}
}

// publish posts a summary once however often it is asked — a late queued
// task, the sweep, a second replica — and Republish makes up for a shed task
// with the precheck rebuilt from the stored request.
func TestPublishPostsOnceAndRepublishHeals(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	f.h.locks = f.st
	ctx := context.Background()

	// A request saved as a submission saves it, whose task never ran.
	r := &request.Request{
		Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "alice",
		Subject: "MS-001", ExternalID: "MS-001",
		Spec:     []byte(`{"name":"Müller","email":"it@mueller.example","externalId":"MS-001","country":"DE","packages":["webex_calling"]}`),
		Precheck: request.Precheck{Status: request.PrecheckRunning},
	}
	if err := f.st.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if Unpublished(r, now) {
		t.Fatal("a request just saved counts as unpublished: the sweep would race its own task")
	}
	if !Unpublished(r, now.Add(PublishAfter)) {
		t.Fatal("a request without summary past PublishAfter is not unpublished")
	}

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if !f.h.Republish(ctx, r) {
				t.Error("Republish refused with an empty queue")
			}
		})
	}
	wg.Wait()
	f.h.Wait()
	if n := len(f.msg.of("post")); n != 1 {
		t.Fatalf("%d summaries posted for five publishes, want 1", n)
	}
	got, err := f.st.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary.TS == "" || got.Precheck.Status != request.PrecheckOK {
		t.Fatalf("after Republish: summary %+v, precheck %q; want posted and ok", got.Summary, got.Precheck.Status)
	}
	if Unpublished(got, now.Add(time.Hour)) {
		t.Fatal("a published request still counts as unpublished")
	}
	// Published: another publish changes nothing.
	f.h.Republish(ctx, got)
	f.h.Wait()
	if n := len(f.msg.of("post")); n != 1 {
		t.Fatalf("%d summaries after publishing a published request, want 1", n)
	}
}

// A command's ack does not wait for the summary: it is queued, and posted.
func TestSubmissionQueuesItsSummary(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	rep := f.h.Command(context.Background(), slack.SlashCommand{UserID: "alice", ChannelID: "C1", Text: msCommandText})
	if rep == nil || rep.Text == "" || rep.Text[:len("📨 R-1")] != "📨 R-1" {
		t.Fatalf("reply %+v", rep)
	}
	f.h.Wait()
	if n := len(f.msg.of("post")); n != 1 {
		t.Fatalf("%d summaries posted, want 1", n)
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
