package worker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// Sandbox operations the worker tests count.
const (
	opPrecheck = "POST /wholesale/customers/validate"
	opGet      = "GET /wholesale/customers/{customerId}"
)

// recorder is the worker's Events, kept for assertions.
type recorder struct {
	mu       sync.Mutex
	progress []string
	settled  []*request.Request
}

func (r *recorder) Progress(_ context.Context, req *request.Request, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, req.Ref()+": "+text)
}

func (r *recorder) Settled(_ context.Context, req *request.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settled = append(r.settled, req)
}

// events returns how many events were reported and the states settled in.
func (r *recorder) events() (n int, states []request.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.settled {
		states = append(states, s.State)
	}
	return len(r.progress) + len(r.settled), states
}

// serveSandbox serves a sandbox with opts and returns it with the worker's
// adapter over a real Webex client pointed at it.
func serveSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Sandbox, *worker.WebexCustomers) {
	t.Helper()
	return serveSandboxVia(t, opts, nil)
}

// serveSandboxVia is serveSandbox with the client's transport wrapped by wrap
// (nil: unwrapped), for faults between the client and Webex.
func serveSandboxVia(t *testing.T, opts sandbox.Options, wrap func(http.RoundTripper) http.RoundTripper) (*sandbox.Sandbox, *worker.WebexCustomers) {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); srv.Close() })
	var rt http.RoundTripper = http.DefaultTransport
	if wrap != nil {
		rt = wrap(rt)
	}
	cl := webex.New(webex.Config{
		BaseURL: srv.URL + "/v1", Tokens: webex.StaticToken("worker-test-token"),
		HTTPClient:  &http.Client{Transport: rt, Timeout: 10 * time.Second},
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	return sb, &worker.WebexCustomers{Client: cl}
}

// quietSandbox provisions at once and injects nothing.
func quietSandbox() sandbox.Options {
	o := sandbox.DefaultOptions()
	o.Delay = 0
	return o
}

// customerSpec is a valid customer as `new` normalises it.
func customerSpec(t *testing.T, extID, name string) request.CustomerSpec {
	t.Helper()
	spec, missing, errs := input.ParseCustomer(map[string]string{
		"name": name, "email": "it@" + strings.ToLower(extID) + ".example", "external-id": extID,
		"country": "DE", "package": "webex_calling", "provisioning-id": "PROV-DE-1",
		"supported-location": "yes", "address": "Hauptstraße 1", "city": "Berlin", "zip": "10115",
		"timezone": "Europe/Berlin", "language": "de_DE",
	}, input.CustomerOptions{})
	if len(missing) > 0 || len(errs) > 0 {
		t.Fatalf("customer spec: missing %v, errors %v", missing, errs)
	}
	return *spec
}

// approvedRequest stores spec as a customer request approved by bob with the
// hash he saw; mutate adjusts it before it is stored.
func approvedRequest(t *testing.T, s *store.Store, spec request.CustomerSpec, mutate func(r *request.Request)) *request.Request {
	t.Helper()
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	hash := request.HashSpec(raw)
	r := &request.Request{
		Kind: request.KindCustomer, State: request.StateApproved, Requester: "UALICE",
		Subject: spec.ExternalID, ExternalID: spec.ExternalID, Spec: raw, Hash: hash,
		Precheck:   request.Precheck{Status: request.PrecheckOK},
		ApprovedBy: "UBOB", ApprovedAt: time.Now().UTC(), ApprovedHash: hash,
	}
	if mutate != nil {
		mutate(r)
	}
	if err := s.Create(context.Background(), r); err != nil {
		t.Fatalf("create request: %v", err)
	}
	return r
}

// offsetClock is the wall clock moved forward by hand, so a test can make a
// watched request due without waiting for it.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *offsetClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// newWorker is a worker with short intervals; ProvisionDeadline and the watch
// interval are long unless a test shortens them. The claim refresh (and so
// the commit lock's TTL, twice as long) stays well above the 100 ms steps in
// which the embedded miniredis expires keys, with room for a loaded machine.
func newWorker(s *store.Store, api worker.CustomerAPI, ev worker.Events, consumer string) *worker.Worker {
	return &worker.Worker{
		Store: s, Jobs: s, Watch: s, Customers: api, Events: ev, Consumer: consumer,
		PollInterval: 20 * time.Millisecond, ProvisionDeadline: time.Minute,
		ClaimRefresh: 250 * time.Millisecond, WatchInterval: time.Minute,
	}
}

// waitUntil polls cond every 10 ms until it holds or limit passes.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	if !eventually(limit, cond) {
		t.Fatalf("timed out after %s waiting for %s", limit, what)
	}
}

// eventually reports whether cond came to hold within limit.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// workerCase is one sandbox behaviour and what committing must make of it.
type workerCase struct {
	name     string
	sandbox  func(o *sandbox.Options)
	seed     func(sb *sandbox.Sandbox, spec request.CustomerSpec)
	request  func(r *request.Request)
	deadline time.Duration // ProvisionDeadline; 0 = a minute

	state     request.State
	message   []string // substrings of Result.Message, in order
	tracking  bool     // a Webex trackingId is recorded
	creates   int
	prechecks int
	// then runs after Commit returned, for cases that go on from the watch list.
	then func(t *testing.T, env *workerEnv)
}

// workerEnv is what one case runs with.
type workerEnv struct {
	s     *store.Store
	sb    *sandbox.Sandbox
	api   *worker.WebexCustomers
	w     *worker.Worker
	clock *offsetClock
	rec   *recorder
	id    int64
}

func (e *workerEnv) get(t *testing.T) *request.Request {
	t.Helper()
	r, err := e.s.Get(context.Background(), e.id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var workerCases = []workerCase{
	{
		name:    "provisioned",
		state:   request.StateDone,
		creates: 1,
	},
	{
		name:     "create refused for the address",
		sandbox:  func(o *sandbox.Options) { o.RejectAddress = regexp.MustCompile(`^Hauptstraße`) },
		state:    request.StateFailed,
		message:  []string{`The address "Hauptstraße 1" could not be verified.`},
		tracking: true,
	},
	{
		name: "customer with the same external id created elsewhere",
		seed: func(sb *sandbox.Sandbox, spec request.CustomerSpec) {
			sb.SeedCustomer(sandbox.SeedCustomer{ExternalID: spec.ExternalID})
		},
		state:   request.StateFailed,
		message: []string{"already exists", "adopt"},
	},
	{
		name:     "provisioning past the deadline goes to the watch list",
		sandbox:  func(o *sandbox.Options) { o.Delay = 600 * time.Millisecond },
		deadline: 50 * time.Millisecond,
		state:    request.StateWaiting,
		creates:  1,
		then:     finishFromWatchList("provisioning"),
	},
	{
		name: "compliance review goes to the watch list",
		sandbox: func(o *sandbox.Options) {
			o.RPLReview, o.RPLDelay, o.Delay = regexp.MustCompile(`Review`), 400*time.Millisecond, 0
		},
		state:   request.StateWaiting,
		creates: 1,
		then:    finishFromWatchList("compliance review"),
	},
	{
		name:    "request changed after approval",
		request: func(r *request.Request) { r.Hash = "0123456789ab" },
		state:   request.StateFailed,
		message: []string{"changed after it was approved"},
	},
	{
		name: "precheck unavailable at approval is run again",
		request: func(r *request.Request) {
			r.Precheck = request.Precheck{Status: request.PrecheckUnavailable}
		},
		state:     request.StateDone,
		creates:   1,
		prechecks: 1,
	},
	{
		name: "precheck still running at approval is run again",
		request: func(r *request.Request) {
			r.Precheck = request.Precheck{Status: request.PrecheckRunning}
		},
		state:     request.StateDone,
		creates:   1,
		prechecks: 1,
	},
	{
		name:    "precheck unavailable at approval, refused by the worker's",
		sandbox: func(o *sandbox.Options) { o.RejectAddress = regexp.MustCompile(`^Hauptstraße`) },
		request: func(r *request.Request) {
			r.Precheck = request.Precheck{Status: request.PrecheckUnavailable}
		},
		state:     request.StateFailed,
		message:   []string{"precheck failed: ", "could not be verified"},
		tracking:  true,
		prechecks: 1,
	},
}

func TestWorkerCommitCustomer(t *testing.T) {
	t.Parallel()
	for _, c := range workerCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			opts := quietSandbox()
			if c.sandbox != nil {
				c.sandbox(&opts)
			}
			sb, api := serveSandbox(t, opts)
			spec := customerSpec(t, "WT-1", "Review Müller GmbH")
			if c.seed != nil {
				c.seed(sb, spec)
			}
			s := store.New(storetest.Client(t), storetest.Prefix(t))
			r := approvedRequest(t, s, spec, c.request)
			env := &workerEnv{s: s, sb: sb, api: api, clock: &offsetClock{}, rec: &recorder{}, id: r.ID}
			env.w = newWorker(s, api, env.rec, "worker-test")
			env.w.Now = env.clock.Now
			if c.deadline > 0 {
				env.w.ProvisionDeadline = c.deadline
			}

			if err := env.w.Commit(context.Background(), r.ID); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			got := env.get(t)
			if got.State != c.state {
				t.Fatalf("state %s (message %q), want %s", got.State, got.Result.Message, c.state)
			}
			assertMessage(t, got.Result.Message, c.message)
			if c.tracking != (got.Result.TrackingID != "") {
				t.Errorf("trackingId %q; want one: %v", got.Result.TrackingID, c.tracking)
			}
			if c.tracking && !strings.HasPrefix(got.Result.TrackingID, "SANDBOX_") {
				t.Errorf("trackingId %q is not the sandbox's", got.Result.TrackingID)
			}
			if _, states := env.rec.events(); len(states) != 1 || states[0] != c.state {
				t.Errorf("settled events %v, want exactly one %s", states, c.state)
			}
			if c.then != nil {
				c.then(t, env)
				got = env.get(t)
			}
			if got.State == request.StateDone {
				assertProvisioned(t, env, got, spec.ExternalID)
			}
			st := sb.Stats()
			if st.Creates != c.creates {
				t.Errorf("sandbox creates = %d, want %d", st.Creates, c.creates)
			}
			if n := st.Calls[opPrecheck]; n != c.prechecks {
				t.Errorf("precheck calls = %d, want %d", n, c.prechecks)
			}
		})
	}
}

func assertMessage(t *testing.T, msg string, want []string) {
	t.Helper()
	rest := msg
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("message %q lacks %q (in order)", msg, w)
			return
		}
		rest = rest[i+len(w):]
	}
	if len(want) == 0 && msg != "" {
		t.Errorf("unexpected message %q", msg)
	}
}

// assertProvisioned checks that a done request carries the org id Webex
// reports for its external id, and is no longer watched.
func assertProvisioned(t *testing.T, env *workerEnv, r *request.Request, extID string) {
	t.Helper()
	cs, err := env.api.FindCustomer(context.Background(), extID, "")
	if err != nil || cs == nil {
		t.Fatalf("find customer %s: %v, %v", extID, cs, err)
	}
	if r.Result.OrgID == "" || r.Result.OrgID != cs.OrgID || r.Result.CustomerID != cs.ID {
		t.Errorf("result %+v, want org %s of customer %s", r.Result, cs.OrgID, cs.ID)
	}
	if _, watched, err := env.s.WatchDue(context.Background(), r.ID); err != nil || watched {
		t.Errorf("a done request is still watched (%v)", err)
	}
}

// finishFromWatchList checks that the request parked for reason and is on
// the watch list, that a check before it is due leaves it alone, and that
// one check once Webex has finished and the item is due makes it done.
func finishFromWatchList(reason string) func(t *testing.T, env *workerEnv) {
	return func(t *testing.T, env *workerEnv) {
		t.Helper()
		ctx := context.Background()
		r := env.get(t)
		if r.Result.WaitReason != reason || r.Result.WaitingSince.IsZero() || r.Result.CustomerID == "" {
			t.Fatalf("waiting result %+v, want reason %q with a customer id and a start", r.Result, reason)
		}
		due, watched, err := env.s.WatchDue(ctx, env.id)
		if err != nil || !watched {
			t.Fatalf("waiting request not on the watch list (%v)", err)
		}
		if due.Before(env.clock.Now().Add(env.w.WatchInterval - time.Second)) {
			t.Errorf("due %v, want about WatchInterval from now", due)
		}
		gets := env.sb.Stats().Calls[opGet]
		env.w.CheckWatchList(ctx)
		if n := env.sb.Stats().Calls[opGet]; n != gets {
			t.Fatalf("a watch item that is not due was checked (%d status calls, before %d)", n, gets)
		}
		waitUntil(t, "Webex to finish provisioning", 10*time.Second, func() bool {
			cs, err := env.api.GetCustomer(ctx, r.Result.CustomerID)
			return err == nil && cs.Status == request.CustomerProvisioned
		})
		env.clock.Advance(env.w.WatchInterval)
		env.w.CheckWatchList(ctx)
		if got := env.get(t); got.State != request.StateDone {
			t.Fatalf("after the check: state %s (%+v), want done", got.State, got.Result)
		}
		if _, states := env.rec.events(); len(states) != 2 || states[1] != request.StateDone {
			t.Errorf("settled events %v, want waiting then done", states)
		}
	}
}

// TestWatchListTwoReplicas: two workers check the watch list at the same
// time; the per-item lock and the state machine let exactly one of them
// finish the request and report it.
func TestWatchListTwoReplicas(t *testing.T) {
	t.Parallel()
	opts := quietSandbox()
	opts.RPLReview, opts.RPLDelay = regexp.MustCompile(`.`), 300*time.Millisecond
	_, api := serveSandbox(t, opts)
	s := store.New(storetest.Client(t), storetest.Prefix(t))
	r := approvedRequest(t, s, customerSpec(t, "WATCH-1", "Watched GmbH"), nil)
	clock := &offsetClock{}
	recs := []*recorder{{}, {}}
	workers := []*worker.Worker{newWorker(s, api, recs[0], "worker-a"), newWorker(s, api, recs[1], "worker-b")}
	for _, w := range workers {
		w.Now = clock.Now
	}
	ctx := context.Background()
	if err := workers[0].Commit(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the compliance review to clear", 10*time.Second, func() bool {
		got, err := s.Get(ctx, r.ID)
		if err != nil || got.Result.CustomerID == "" {
			return false
		}
		cs, err := api.GetCustomer(ctx, got.Result.CustomerID)
		return err == nil && cs.Status == request.CustomerProvisioned
	})
	clock.Advance(time.Hour)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.CheckWatchList(ctx) })
	}
	wg.Wait()
	if got, err := s.Get(ctx, r.ID); err != nil || got.State != request.StateDone {
		t.Fatalf("after both checks: %+v, %v; want done", got, err)
	}
	var done int
	for _, rec := range recs {
		_, states := rec.events()
		for _, st := range states {
			if st == request.StateDone {
				done++
			}
		}
	}
	if done != 1 {
		t.Fatalf("done reported %d times, want once", done)
	}
}
