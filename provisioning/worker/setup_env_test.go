package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// Sandbox operations the setup tests count.
const (
	opCreateSubscriber = "POST /wholesale/subscribers"
	opUpdateSubscriber = "PUT /wholesale/subscribers/{subscriberId}"
	opDeleteSubscriber = "DELETE /wholesale/subscribers/{subscriberId}"
	opDeleteCustomer   = "DELETE /wholesale/customers/{customerId}"
	opCreateLocation   = "POST /locations"
	opEnableCalling    = "POST /telephony/config/locations"
	opUpdateCalling    = "PUT /telephony/config/locations/{locationId}"
	opAddNumbers       = "POST /telephony/config/locations/{locationId}/numbers"
	opActivateNumbers  = "PUT /telephony/config/locations/{locationId}/numbers"
)

// setupEnv is a sandbox behind a recording proxy, a store, and a worker
// with the setup client; customer is a provisioned customer's done request.
type setupEnv struct {
	sb       *sandbox.Sandbox
	cl       *webex.Client
	s        *store.Store
	w        *worker.Worker
	rec      *recorder
	clock    *offsetClock
	customer *request.Request
	ref      request.CustomerRef

	mu     sync.Mutex
	bodies map[string][]string // "METHOD /path" → request bodies
}

// newSetupEnv serves a sandbox with opts; the worker's client retries fast.
func newSetupEnv(t *testing.T, opts sandbox.Options) *setupEnv {
	t.Helper()
	env := &setupEnv{sb: sandbox.New(opts), rec: &recorder{}, clock: &offsetClock{}, bodies: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			env.mu.Lock()
			key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/v1")
			env.bodies[key] = append(env.bodies[key], string(b))
			env.mu.Unlock()
		}
		env.sb.ServeHTTP(rw, r)
	}))
	t.Cleanup(func() { env.sb.Close(); srv.Close() })
	env.cl = webex.New(webex.Config{
		BaseURL: srv.URL + "/v1", Tokens: webex.StaticToken("setup-test-token"),
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	env.s = store.New(storetest.Client(t), storetest.Prefix(t))
	env.w = env.worker("setup-test", env.cl)
	return env
}

// worker is a worker over env's store with api as its setup client.
func (env *setupEnv) worker(consumer string, api worker.SetupAPI) *worker.Worker {
	w := newWorker(env.s, &worker.WebexCustomers{Client: env.cl}, env.rec, consumer)
	w.Setup, w.Rows, w.Concurrency, w.Now = api, env.s, 4, env.clock.Now
	return w
}

// seedCustomer adds a provisioned, set-up customer (calling and meetings;
// HQ with a non-integrated Cloud Connected PSTN connection and 100 available
// numbers) at the sandbox and its done request in the store.
func (env *setupEnv) seedCustomer(t *testing.T, extID string) {
	t.Helper()
	env.seedCustomerWith(t, extID, 100)
}

// seedCustomerWith is seedCustomer with numbers available numbers at HQ.
func (env *setupEnv) seedCustomerWith(t *testing.T, extID string, numbers int) {
	t.Helper()
	pkgs := []string{"webex_calling", "webex_meetings"}
	customerID, orgID := env.sb.SeedCustomer(sandbox.SeedCustomer{ExternalID: extID, Packages: pkgs, PrimaryEmail: "admin@" + strings.ToLower(extID) + ".example",
		PSTN: "NON_INTEGRATED_CCP", Numbers: numbers})
	r := &request.Request{Kind: request.KindCustomer, State: request.StateDone, Requester: "UALICE",
		Subject: extID, ExternalID: extID,
		Result: request.Result{CustomerID: customerID, OrgID: orgID, Status: request.CustomerProvisioned}}
	if err := env.s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	env.customer = r
	env.ref = request.CustomerRef{RequestID: r.ID, ExternalID: extID, CustomerID: customerID, OrgID: orgID,
		Packages: pkgs, AdminEmail: "admin@" + strings.ToLower(extID) + ".example", Country: "DE"}
}

// submit stores spec as a request of kind in state (approved by bob when
// approved).
func (env *setupEnv) submit(t *testing.T, kind request.Kind, state request.State, spec any) *request.Request {
	t.Helper()
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	hash := request.HashSpec(raw)
	r := &request.Request{Kind: kind, State: state, Requester: "UALICE", Subject: string(kind) + " " + env.ref.ExternalID,
		Spec: raw, Hash: hash, Precheck: request.Precheck{Status: request.PrecheckOK}}
	if state == request.StateApproved {
		r.ApprovedBy, r.ApprovedAt, r.ApprovedHash = "UBOB", time.Now().UTC(), hash
	}
	if err := env.s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// users parses rows as the `users` command does and stores an approved batch.
func (env *setupEnv) users(t *testing.T, rows string) *request.Request {
	t.Helper()
	parsed, errs := input.ParseRows(rows, input.RowsOptions{
		Packages: env.ref.Packages, AdminEmail: env.ref.AdminEmail, DefaultCountry: "DE"})
	if len(errs) > 0 {
		t.Fatalf("rows: %v", errs)
	}
	return env.submit(t, request.KindUsers, request.StateApproved, request.UsersSpec{Customer: env.ref, Rows: parsed})
}

func (env *setupEnv) get(t *testing.T, id int64) *request.Request {
	t.Helper()
	r, err := env.s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (env *setupEnv) commit(t *testing.T, id int64) *request.Request {
	t.Helper()
	if err := env.w.Commit(context.Background(), id); err != nil {
		t.Fatalf("Commit %s: %v", request.FormatID(id), err)
	}
	return env.get(t, id)
}

// sent returns the bodies sent to "METHOD /path" so far.
func (env *setupEnv) sent(key string) []string {
	env.mu.Lock()
	defer env.mu.Unlock()
	return append([]string(nil), env.bodies[key]...)
}

// subscribers lists the customer's subscribers at the sandbox by email and
// fails on a duplicate email.
func (env *setupEnv) subscribers(t *testing.T) map[string]webex.Subscriber {
	t.Helper()
	subs, err := env.cl.ListSubscribers(context.Background(), webex.SubscriberQuery{CustomerID: env.ref.CustomerID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]webex.Subscriber{}
	for _, s := range subs {
		if _, dup := out[strings.ToLower(s.Email)]; dup {
			t.Errorf("subscriber %s exists twice", s.Email)
		}
		out[strings.ToLower(s.Email)] = s
	}
	return out
}

func wantState(t *testing.T, r *request.Request, state request.State, message string) {
	t.Helper()
	if r.State != state || r.Result.Message != message {
		t.Fatalf("%s is %s %q (status %q, wait %q); want %s %q", r.Ref(), r.State, r.Result.Message, r.Result.Status, r.Result.WaitReason, state, message)
	}
}
