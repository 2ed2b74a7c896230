package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning"
	"github.com/onboardbot/onboardbot/provisioning/sandbox"
	"github.com/onboardbot/onboardbot/store"
)

// TestGracefulShutdownHandsBackJob closes an instance while its worker is
// polling a customer that Webex is still provisioning: Close returns (it is
// bounded), the instance takes no more requests, the job is left pending in
// the stream (not acked, the request still committing), and a second
// instance takes it over and finishes it without a second create.
func TestGracefulShutdownHandsBackJob(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.useSandbox(func(o *sandbox.Options) { o.Delay = 3 * time.Second })
	// A short claim timeout lets the second instance take the job over in
	// a second rather than store.DefaultClaimTimeout's 30 s.
	short := func(o *Options) { o.ClaimTimeout = 500 * time.Millisecond }
	a := startInstance(e, nil, short)
	value := pendingCustomer(t, e, a.URL)
	postSigned(t, a.URL+"/slack/interactions", testSecret, clickBody("UBOB", "approve", value), time.Now())
	ctx := context.Background()
	st := e.store()
	waitFor(t, "the worker to hold the job (customer created, provisioning)", 10*time.Second, func() bool {
		r, err := st.Get(ctx, 1)
		return err == nil && r.State == provisioning.StateCommitting && r.Result.CustomerID != ""
	})

	closing := time.Now()
	a.app.Close()
	t.Logf("figure: Close returned after %s with a job in hand", time.Since(closing).Round(time.Millisecond))
	if _, err := http.Post(a.URL+"/slack/commands", "application/x-www-form-urlencoded", nil); err == nil {
		t.Error("the closed instance still accepts requests")
	}
	r, err := st.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != provisioning.StateCommitting {
		t.Fatalf("after shutdown the request is %s (%s), want committing: the job was not handed back", r.State, r.Result.Message)
	}
	pending, err := e.rdb.XPending(ctx, e.prefix+"jobs", store.JobGroup).Result()
	if err != nil {
		t.Fatal(err)
	}
	if pending.Count != 1 {
		t.Fatalf("%d jobs pending after shutdown, want 1 (handed back, not acked)", pending.Count)
	}

	startInstance(e, nil, short)
	waitFor(t, "the second instance to finish the job", 20*time.Second, func() bool {
		r, err := st.Get(ctx, 1)
		return err == nil && r.State == provisioning.StateDone
	})
	if got := e.sandbox.Stats().Creates; got != 1 {
		t.Fatalf("sandbox creates = %d, want 1", got)
	}
	waitFor(t, "the job acked", 5*time.Second, func() bool {
		p, err := e.rdb.XPending(ctx, e.prefix+"jobs", store.JobGroup).Result()
		return err == nil && p.Count == 0
	})
}
