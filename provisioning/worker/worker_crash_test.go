package worker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// killingAPI is worker A's view of Webex: it passes calls through and kills
// A (cancels its context) at the point a case names, as a crash would.
type killingAPI struct {
	worker.CustomerAPI
	kill func()
	crashPoint
	polls atomic.Int64
}

// crashPoint is where worker A dies.
type crashPoint struct {
	beforeCreate bool // before the create is sent
	afterCreate  int  // after the create: 1 with its answer, 2 with the answer lost
	afterPolls   int  // after this many status polls (0: never)
}

func (k *killingAPI) CreateCustomer(ctx context.Context, c *request.CustomerSpec) (string, error) {
	if k.beforeCreate {
		k.kill()
		return "", ctx.Err()
	}
	id, err := k.CustomerAPI.CreateCustomer(ctx, c)
	switch k.afterCreate {
	case 1:
		k.kill()
	case 2:
		k.kill()
		return "", ctx.Err()
	}
	return id, err
}

func (k *killingAPI) GetCustomer(ctx context.Context, id string) (*request.CustomerState, error) {
	cs, err := k.CustomerAPI.GetCustomer(ctx, id)
	if k.afterPolls > 0 && k.polls.Add(1) == int64(k.afterPolls) {
		k.kill()
	}
	return cs, err
}

// aliveCheck is worker B's view of Webex: any call B makes while A still
// lives means B took over a job whose owner was alive and refreshing it.
type aliveCheck struct {
	worker.CustomerAPI
	t     *testing.T
	aLive func() bool
}

func (a *aliveCheck) check(op string) {
	if a.aLive() {
		a.t.Errorf("worker B called %s while worker A was alive and holding the job", op)
	}
}

func (a *aliveCheck) PrecheckCustomer(ctx context.Context, c *request.CustomerSpec) (request.Precheck, error) {
	a.check("precheck")
	return a.CustomerAPI.PrecheckCustomer(ctx, c)
}

func (a *aliveCheck) CreateCustomer(ctx context.Context, c *request.CustomerSpec) (string, error) {
	a.check("create")
	return a.CustomerAPI.CreateCustomer(ctx, c)
}

func (a *aliveCheck) GetCustomer(ctx context.Context, id string) (*request.CustomerState, error) {
	a.check("get")
	return a.CustomerAPI.GetCustomer(ctx, id)
}

func (a *aliveCheck) FindCustomer(ctx context.Context, extID, orgID string) (*request.CustomerState, error) {
	a.check("find")
	return a.CustomerAPI.FindCustomer(ctx, extID, orgID)
}

// reviewAll sends every customer to compliance review.
var reviewAll = regexp.MustCompile(`.`)

// claimTimeout is short so that B takes over quickly, yet longer than the
// commit lock's TTL (twice newWorker's ClaimRefresh) plus miniredis's expiry
// tick: when B claims a dead worker's job, the dead worker's lock is gone.
const claimTimeout = 1200 * time.Millisecond

// TestWorkerStoppedMidJob: worker A takes the job and dies at some point
// without acknowledging it; worker B, running all along with another consumer
// name, takes it over through XAUTOCLAIM once A's claim lapses and finishes
// it with exactly one create at Webex.
func TestWorkerStoppedMidJob(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		delay time.Duration // sandbox provisioning time
		crash crashPoint
	}{
		// A polls for over a claim timeout first (70 polls of at least
		// 20 ms), so B must leave the job alone while A refreshes its claim.
		{"while polling", 3 * time.Second, crashPoint{afterPolls: 70}},
		{"after the create, answer kept", 100 * time.Millisecond, crashPoint{afterCreate: 1}},
		{"after the create, answer lost", 100 * time.Millisecond, crashPoint{afterCreate: 2}},
		{"before the create was sent", 100 * time.Millisecond, crashPoint{beforeCreate: true}},
	}
	for _, b := range storetest.Backends(t) {
		for _, c := range cases {
			t.Run(b.Name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				opts := quietSandbox()
				opts.Delay = c.delay
				sb, api := serveSandbox(t, opts)
				prefix := storetest.Prefix(t)
				s := store.New(b.Client, prefix).WithClaimTimeout(claimTimeout)
				spec := customerSpec(t, "CRASH-1", "Crash Test GmbH")
				r := approvedRequest(t, s, spec, nil)
				ctx := context.Background()
				if err := s.EnqueueJob(ctx, r.ID); err != nil {
					t.Fatal(err)
				}

				ctxA, killA := context.WithCancel(ctx)
				ctxB, stopB := context.WithCancel(ctx)
				var wg sync.WaitGroup
				defer func() { killA(); stopB(); wg.Wait() }()
				apiA := &killingAPI{CustomerAPI: api, kill: killA, crashPoint: c.crash}
				recA, recB := &recorder{}, &recorder{}
				a := newWorker(s, apiA, recA, "worker-a")
				wg.Go(func() { a.Run(ctxA) })
				waitUntil(t, "worker A to take the job", 10*time.Second, func() bool {
					n, _ := recA.events()
					return n > 0
				})

				apiB := &aliveCheck{CustomerAPI: api, t: t, aLive: func() bool { return ctxA.Err() == nil }}
				bw := newWorker(s, apiB, recB, "worker-b")
				wg.Go(func() { bw.Run(ctxB) })

				settled := eventually(15*time.Second, func() bool {
					_, a := recA.events()
					_, b := recB.events()
					return len(a)+len(b) > 0 // reported after the store moved
				})
				if !settled {
					got, err := s.Get(ctx, r.ID)
					p, perr := b.Client.XPending(ctx, prefix+"jobs", store.JobGroup).Result()
					t.Fatalf("nobody finished the job A left: request %+v (%v), jobs pending %+v (%v)", got, err, p, perr)
				}
				got, err := s.Get(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if _, states := recA.events(); len(states) != 0 {
					t.Fatalf("worker A settled %v: the sandbox finished before A died; the case needs a longer delay", states)
				}
				if got.State != request.StateDone {
					t.Fatalf("state %s (%+v), want done", got.State, got.Result)
				}
				if _, states := recB.events(); len(states) != 1 || states[0] != request.StateDone {
					t.Errorf("worker B settled %v, want done once", states)
				}
				if n := sb.Stats().Creates; n != 1 {
					t.Errorf("sandbox creates = %d, want exactly 1", n)
				}
				cs, err := api.FindCustomer(ctx, spec.ExternalID, "")
				if err != nil || cs == nil || got.Result.CustomerID != cs.ID || got.Result.OrgID != cs.OrgID {
					t.Errorf("result %+v, Webex has %+v (%v)", got.Result, cs, err)
				}
				assertJobAcked(t, b, prefix)
			})
		}
	}
}

// assertJobAcked checks that the job left the stream: acknowledged and
// deleted, nothing pending.
func assertJobAcked(t *testing.T, b storetest.Backend, prefix string) {
	t.Helper()
	ctx := context.Background()
	key := prefix + "jobs" // the store's job stream (store.go's key list)
	waitUntil(t, "the job to be acknowledged", 5*time.Second, func() bool {
		p, err := b.Client.XPending(ctx, key, store.JobGroup).Result()
		return err == nil && p.Count == 0
	})
	if n, err := b.Client.XLen(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("job stream holds %d entries (%v), want 0", n, err)
	}
}

// parkKillingWatch is worker A's watch list: A dies when it puts the request
// on the watch list, after the request moved to waiting.
type parkKillingWatch struct {
	worker.WatchList
	kill func()
}

func (p *parkKillingWatch) Watch(ctx context.Context, id int64, next time.Time) error {
	p.kill()
	return errors.Join(ctx.Err(), errors.New("worker A died before watching"))
}

// TestWorkerStoppedWhileParking: A moves the request to waiting (compliance
// review) and dies before it is on the watch list, without acknowledging the
// job. The job is redelivered to B; the request must still end up watched
// and done, not waiting forever.
func TestWorkerStoppedWhileParking(t *testing.T) {
	t.Parallel()
	opts := quietSandbox()
	opts.RPLReview, opts.RPLDelay = reviewAll, 300*time.Millisecond
	sb, api := serveSandbox(t, opts)
	prefix := storetest.Prefix(t)
	s := store.New(storetest.Client(t), prefix).WithClaimTimeout(claimTimeout)
	spec := customerSpec(t, "PARK-1", "Parked GmbH")
	r := approvedRequest(t, s, spec, nil)
	ctx := context.Background()
	if err := s.EnqueueJob(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	ctxA, killA := context.WithCancel(ctx)
	defer killA()
	a := newWorker(s, api, &recorder{}, "worker-a")
	a.Watch = &parkKillingWatch{WatchList: s, kill: killA}
	a.WatchInterval = 50 * time.Millisecond
	a.Run(ctxA) // returns once A died
	if got, err := s.Get(ctx, r.ID); err != nil || got.State != request.StateWaiting {
		t.Fatalf("after A died: %+v, %v; want waiting", got, err)
	}

	b := newWorker(s, api, &recorder{}, "worker-b")
	b.WatchInterval = 50 * time.Millisecond
	ctxB, stopB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { runWithWatch(ctxB, b) })
	defer wg.Wait()
	defer stopB()
	done := eventually(5*time.Second, func() bool {
		got, err := s.Get(ctx, r.ID)
		return err == nil && got.State == request.StateDone
	})
	if !done {
		got, err := s.Get(ctx, r.ID)
		_, watched, werr := s.WatchDue(ctx, r.ID)
		p, perr := s.Client().XPending(ctx, prefix+"jobs", store.JobGroup).Result()
		t.Fatalf("the request stays %s (%q, %v) and is on the watch list: %v (%v); jobs pending: %+v (%v): "+
			"the redelivered job of a waiting request was acknowledged without watching it",
			got.State, got.Result.WaitReason, err, watched, werr, p, perr)
	}
	if n := sb.Stats().Creates; n != 1 {
		t.Errorf("sandbox creates = %d, want 1", n)
	}
}

// faultyCreate lets the first create reach Webex and then spoils its answer,
// as a gateway timeout or a dropped connection does.
type faultyCreate struct {
	next  http.RoundTripper
	spoil func(resp *http.Response) (*http.Response, error)
	done  atomic.Bool
}

func (f *faultyCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/wholesale/customers") || !f.done.CompareAndSwap(false, true) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return f.spoil(resp)
}

// TestWorkerCreateAnswerLost: Webex created the customer but the worker never
// saw the 202. Whatever the client does next (retry, look up), the request
// must end done with the one customer that exists, not fail as a conflict
// with its own create.
func TestWorkerCreateAnswerLost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		spoil func(resp *http.Response) (*http.Response, error)
	}{
		{"timeout", func(*http.Response) (*http.Response, error) {
			return nil, fmt.Errorf("answer lost: %w", context.DeadlineExceeded)
		}},
		{"503 from a gateway", func(resp *http.Response) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
				Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("gateway timeout")),
				Request: resp.Request, Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor}, nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sb, api := serveSandboxVia(t, quietSandbox(), func(next http.RoundTripper) http.RoundTripper {
				return &faultyCreate{next: next, spoil: c.spoil}
			})
			s := store.New(storetest.Client(t), storetest.Prefix(t))
			r := approvedRequest(t, s, customerSpec(t, "LOST-1", "Lost Answer GmbH"), nil)
			w := newWorker(s, api, &recorder{}, "worker-a")
			if err := w.Commit(context.Background(), r.ID); err != nil {
				t.Logf("Commit: %v (the job would be redelivered)", err)
				if err := w.Commit(context.Background(), r.ID); err != nil {
					t.Fatalf("Commit of the redelivered job: %v", err)
				}
			}
			got, err := s.Get(context.Background(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != request.StateDone {
				t.Errorf("state %s: %q; want done with the customer the lost create made", got.State, got.Result.Message)
			}
			if n := sb.Stats().Creates; n != 1 {
				t.Errorf("sandbox creates = %d, want 1", n)
			}
		})
	}
}
