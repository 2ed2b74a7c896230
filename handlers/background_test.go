package handlers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// publish posts a summary once however often it is asked — a late queued
// task, the sweep, a second replica — and Republish makes up for a shed task
// with the precheck rebuilt from the stored request.
func TestPublishPostsOnceAndRepublishHeals(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	f.h.locks = f.st
	ctx := context.Background()

	// A request saved as a submission saves it, whose task never ran.
	r := savedSubmission(t, f)
	now := time.Now()
	if unpublished(r, now) {
		t.Fatal("a request just saved counts as unpublished: the sweep would race its own task")
	}
	if !unpublished(r, now.Add(publishAfter)) {
		t.Fatal("a request without summary past publishAfter is not unpublished")
	}

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if !f.h.republish(ctx, r) {
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
	if unpublished(got, now.Add(time.Hour)) {
		t.Fatal("a published request still counts as unpublished")
	}
	// Published: another publish changes nothing.
	f.h.republish(ctx, got)
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

// The publish round finds a pending request whose summary never came, once
// it has waited publishAfter, and posts it; the next round posts nothing.
func TestRepublishPending(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	f.h.locks = f.st
	ctx := context.Background()
	r := savedSubmission(t, f)
	at := r.UpdatedAt
	f.h.now = func() time.Time { return at.Add(publishAfter - time.Second) }
	f.h.RepublishPending(ctx)
	f.h.Wait()
	if n := len(f.msg.of("post")); n != 0 {
		t.Fatalf("%d summaries posted before publishAfter, want 0", n)
	}
	f.h.now = func() time.Time { return at.Add(publishAfter) }
	for range 2 {
		f.h.RepublishPending(ctx)
		f.h.Wait()
	}
	if n := len(f.msg.of("post")); n != 1 {
		t.Fatalf("%d summaries posted by two rounds, want 1", n)
	}
}

// savedSubmission stores a customer request as a submission saves it, with
// its precheck still running and no summary posted.
func savedSubmission(t *testing.T, f *formHarness) *request.Request {
	t.Helper()
	r := &request.Request{
		Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "alice",
		Subject: "MS-001", ExternalID: "MS-001",
		Spec:     []byte(`{"name":"Müller","email":"it@mueller.example","externalId":"MS-001","country":"DE","packages":["webex_calling"]}`),
		Precheck: request.Precheck{Status: request.PrecheckRunning},
	}
	if err := f.st.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}
