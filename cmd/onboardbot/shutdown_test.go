package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
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
		return err == nil && r.State == request.StateCommitting && r.Result.CustomerID != ""
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
	if r.State != request.StateCommitting {
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
		return err == nil && r.State == request.StateDone
	})
	if got := e.sandbox.Stats().Creates; got != 1 {
		t.Fatalf("sandbox creates = %d, want 1", got)
	}
	waitFor(t, "the job acked", 5*time.Second, func() bool {
		p, err := e.rdb.XPending(ctx, e.prefix+"jobs", store.JobGroup).Result()
		return err == nil && p.Count == 0
	})
}

// childEnv marks the test binary run as a bot process (see
// TestWorkerChildProcess).
const childEnv = "ONBOARDBOT_TEST_CHILD"

// TestWorkerChildProcess is the bot process that
// TestUsersBatchWorkerKilled starts and kills -9: the test binary itself,
// running the program's run function with the environment it was given. In
// a normal test run it does nothing.
func TestWorkerChildProcess(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		return
	}
	os.Exit(run(context.Background(), nil, os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// TestUsersBatchWorkerKilled: a 200-user batch is being committed by a bot
// process that is killed (SIGKILL) mid-way; a new instance takes the job
// over and every user exists at Webex exactly once, the batch done 200/200.
func TestUsersBatchWorkerKilled(t *testing.T) {
	t.Parallel()
	rs := startRedisServer(t, t.TempDir(), 0)
	e := newE2E(t, "REDIS_URL", rs.url(), "LOG_LEVEL", "info")
	// Latency spreads the batch over a second or two: time to kill it.
	e.useSandbox(func(o *sandbox.Options) { o.Latency = 20 * time.Millisecond })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	child := exec.Command(os.Args[0], "-test.run=^TestWorkerChildProcess$")
	// Only the test's configuration: a SLACK_APP_TOKEN or ONBOARDBOT_MODE in
	// the developer's environment must not change the child's run mode.
	child.Env = []string{childEnv + "=1", "HTTP_ADDR=" + addr, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}
	for k, v := range e.env {
		child.Env = append(child.Env, k+"="+v)
	}
	child.Stderr = testLogWriter{t}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = child.Wait(); close(exited) }()
	t.Cleanup(func() { _ = child.Process.Kill(); <-exited })
	url := "http://" + addr
	waitFor(t, "the bot process to listen", 20*time.Second, func() bool {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: rs.addr()})
	t.Cleanup(func() { rdb.Close() })
	st := store.New(rdb, e.prefix)
	value := pendingCustomer(t, e, url)
	postSigned(t, url+"/slack/interactions", testSecret, clickBody("UBOB", "approve", value), time.Now())
	waitFor(t, "the customer provisioned", 20*time.Second, func() bool {
		r, err := st.Get(ctx, 1)
		return err == nil && r.State == request.StateDone
	})
	const users = 200
	rows := make([]string, users)
	for i := range rows {
		rows[i] = fmt.Sprintf("User,%03d,user%03d@mueller.example,webex_calling,,%d", i, i, 2000+i)
	}
	_, body := postSignedBody(t, url+"/slack/commands", testSecret, commandBody("UALICE", `users R-1 rows="`+strings.Join(rows, ";")+`"`), time.Now())
	if got := ackText(t, body); !strings.HasPrefix(got, "📨 R-2 submitted") {
		t.Fatalf("users: %q", got)
	}
	waitFor(t, "the batch's precheck", 20*time.Second, func() bool {
		r, err := st.Get(ctx, 2)
		return err == nil && r.Precheck.Status == request.PrecheckOK
	})
	postSigned(t, url+"/slack/interactions", testSecret, clickBody("UCAROL", "approve", approveValues(e)[2]), time.Now())
	waitFor(t, "the batch under way", 30*time.Second, func() bool { return e.sandbox.Stats().SubscriberCreates >= users/4 })
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	atKill := e.sandbox.Stats().SubscriberCreates
	t.Logf("figure: bot process killed with %d of %d users created", atKill, users)
	if atKill >= users {
		t.Fatal("the batch finished before the kill: the test proves nothing")
	}

	// The dead process's claim lapses after the claim timeout, which must
	// outlast its commit lock (twice its 5 s claim refresh) as in production
	// (30 s against 10 s): 16 s here.
	startInstance(e, nil, func(o *Options) { o.Redis = nil; o.ClaimTimeout = 16 * time.Second })
	waitFor(t, "the batch finished by the new instance", 60*time.Second, func() bool {
		r, err := st.Get(ctx, 2)
		return err == nil && r.State == request.StateDone
	})
	s := e.sandbox.Stats()
	if s.SubscriberCreates != users || s.Subscribers != users {
		t.Fatalf("Webex holds %d subscribers after %d creates, want %d and %d: a row was lost or repeated", s.Subscribers, s.SubscriberCreates, users, users)
	}
	outcomes, err := st.RowOutcomes(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != users {
		t.Fatalf("%d row outcomes recorded, want %d", len(outcomes), users)
	}
	t.Logf("figure: %d users, %d created before the kill, %d after; %d subscribers at Webex", users, atKill, s.SubscriberCreates-atKill, s.Subscribers)
}
