package webex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is the Now and Sleep seam: sleeping moves the clock, so no test
// waits for real.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []sleepRec
	hook   func(ctx context.Context, d time.Duration) // runs before the clock moves; may block
}

type sleepRec struct {
	label string
	d     time.Duration
}

type labelKey struct{}

func withLabel(ctx context.Context, l string) context.Context {
	return context.WithValue(ctx, labelKey{}, l)
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if f.hook != nil {
		f.hook(ctx, d)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	label, _ := ctx.Value(labelKey{}).(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, sleepRec{label, d})
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeClock) slept(label string) (total time.Duration, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sleeps {
		if s.label == label {
			total += s.d
			n++
		}
	}
	return total, n
}

// reply is one canned answer of a scripted server.
type reply struct {
	status int
	header map[string]string
	body   string
	hang   bool // hold the request until the client gives up (a timeout)
}

// scripted serves replies in order, repeating the last one, and records
// every request.
type scripted struct {
	mu      sync.Mutex
	replies []reply
	reqs    []*http.Request
	bodies  []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := len(s.reqs)
	s.reqs = append(s.reqs, r)
	s.bodies = append(s.bodies, string(b))
	rep := s.replies[min(i, len(s.replies)-1)]
	s.mu.Unlock()
	if rep.hang {
		<-r.Context().Done()
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func (s *scripted) auth(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[i].Header.Get("Authorization")
}

// countingTokens hands out "tok-0" and, on each Refresh, "tok-<n>".
type countingTokens struct {
	mu        sync.Mutex
	cur       string
	refreshes int
	fail      error
}

func (c *countingTokens) Token(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == "" {
		c.cur = "tok-0"
	}
	return c.cur, nil
}

func (c *countingTokens) Refresh(_ context.Context, stale string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return "", c.fail
	}
	if stale != c.cur {
		return c.cur, nil
	}
	c.refreshes++
	c.cur = fmt.Sprintf("tok-%d", c.refreshes)
	return c.cur, nil
}

func newTestClient(t *testing.T, h http.Handler, clk *fakeClock, tokens TokenSource, opts ...func(*Config)) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if tokens == nil {
		tokens = StaticToken("static-token-value")
	}
	cfg := Config{
		BaseURL: srv.URL + "/v1", Tokens: tokens, Sleep: clk.Sleep, Now: clk.Now,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	for _, o := range opts {
		o(&cfg)
	}
	return New(cfg)
}

const okCustomer = `{"id":"c1","status":"provisioned","address":{"addressLine1":"a","city":"b","country":"DE"}}`

func TestRetryMatrix(t *testing.T) {
	t.Parallel()
	webexErr := func(msg string) string {
		return `{"message":"` + msg + `","errors":[{"description":"` + msg + `"}],"trackingId":"ROUTER_1"}`
	}
	tests := []struct {
		name      string
		replies   []reply
		wantCalls int
		wantErr   int // final status; 0 = success
		retryable bool
		minSleep  time.Duration // total fake sleep at least
		maxSleep  time.Duration // and at most (0: unchecked)
	}{
		{name: "429 with Retry-After waits it out", replies: []reply{{status: 429, header: map[string]string{"Retry-After": "3"}}, {status: 200, body: okCustomer}},
			wantCalls: 2, minSleep: 3 * time.Second, maxSleep: 3*time.Second + 100*time.Millisecond},
		{name: "429 without Retry-After waits a few seconds", replies: []reply{{status: 429}, {status: 200, body: okCustomer}},
			wantCalls: 2, minSleep: minFallbackRetryAfter, maxSleep: 3 * time.Second},
		{name: "423 without Retry-After backs off", replies: []reply{{status: 423}, {status: 423}, {status: 200, body: okCustomer}},
			wantCalls: 3, maxSleep: 2 * time.Second},
		{name: "423 with Retry-After", replies: []reply{{status: 423, header: map[string]string{"Retry-After": "2"}}, {status: 200, body: okCustomer}},
			wantCalls: 2, minSleep: 2 * time.Second},
		{name: "500 retried", replies: []reply{{status: 500, body: webexErr("boom")}, {status: 200, body: okCustomer}}, wantCalls: 2},
		{name: "502 retried", replies: []reply{{status: 502, body: "<html>bad gateway</html>"}, {status: 200, body: okCustomer}}, wantCalls: 2},
		{name: "503 retried", replies: []reply{{status: 503}, {status: 503}, {status: 200, body: okCustomer}}, wantCalls: 3},
		{name: "504 retried", replies: []reply{{status: 504}, {status: 200, body: okCustomer}}, wantCalls: 2},
		{name: "timeout retried", replies: []reply{{hang: true}, {status: 200, body: okCustomer}}, wantCalls: 2},
		{name: "503 forever gives up after MaxAttempts", replies: []reply{{status: 503, body: webexErr("busy")}},
			wantCalls: defaultMaxAttempts, wantErr: 503, retryable: true},
		{name: "400 final", replies: []reply{{status: 400, body: webexErr("bad")}}, wantCalls: 1, wantErr: 400},
		{name: "403 final", replies: []reply{{status: 403, body: webexErr("forbidden")}}, wantCalls: 1, wantErr: 403},
		{name: "404 final", replies: []reply{{status: 404}}, wantCalls: 1, wantErr: 404},
		{name: "409 final", replies: []reply{{status: 409, body: webexErr("conflict")}}, wantCalls: 1, wantErr: 409},
		{name: "415 final", replies: []reply{{status: 415}}, wantCalls: 1, wantErr: 415},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			srv := &scripted{replies: tc.replies}
			cl := newTestClient(t, srv, clk, nil, func(c *Config) {
				if tc.replies[0].hang {
					c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
				}
			})
			c, err := cl.GetCustomer(context.Background(), "c1")
			if got := srv.count(); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			slept, _ := clk.slept("")
			if slept < tc.minSleep || (tc.maxSleep > 0 && slept > tc.maxSleep) {
				t.Errorf("slept %v, want in [%v, %v]", slept, tc.minSleep, tc.maxSleep)
			}
			if tc.wantErr == 0 {
				if err != nil || c.ID != "c1" {
					t.Fatalf("GetCustomer = %+v, %v; want c1", c, err)
				}
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Status != tc.wantErr || apiErr.Retryable != tc.retryable || IsRetryable(err) != tc.retryable {
				t.Errorf("err = %+v; want status %d retryable %v", apiErr, tc.wantErr, tc.retryable)
			}
			if apiErr.Attempts != tc.wantCalls {
				t.Errorf("Attempts = %d, want %d", apiErr.Attempts, tc.wantCalls)
			}
			if IsNotFound(err) != (tc.wantErr == 404) {
				t.Errorf("IsNotFound = %v", IsNotFound(err))
			}
		})
	}
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		replies    []reply
		wantCalls  int
		wantErr    bool
		refreshErr error
		wantRetry  bool
	}{
		{name: "401 then ok", replies: []reply{{status: 401}, {status: 200, body: okCustomer}}, wantCalls: 2},
		{name: "second 401 is final", replies: []reply{{status: 401}}, wantCalls: 2, wantErr: true},
		{name: "refresh fails", replies: []reply{{status: 401}}, wantCalls: 1, wantErr: true, refreshErr: errors.New("store down")},
		{name: "token endpoint busy", replies: []reply{{status: 401}}, wantCalls: 1, wantErr: true,
			refreshErr: &APIError{Op: "refresh access token", Status: 503, Message: "Service Unavailable", Retryable: true}, wantRetry: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &scripted{replies: tc.replies}
			toks := &countingTokens{fail: tc.refreshErr}
			cl := newTestClient(t, srv, newFakeClock(), toks)
			_, err := cl.GetCustomer(context.Background(), "c1")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if srv.count() != tc.wantCalls {
				t.Fatalf("calls = %d, want %d", srv.count(), tc.wantCalls)
			}
			if tc.refreshErr == nil && toks.refreshes != 1 {
				t.Errorf("refreshes = %d, want 1", toks.refreshes)
			}
			if srv.auth(0) != "Bearer tok-0" || (tc.wantCalls > 1 && srv.auth(1) != "Bearer tok-1") {
				t.Errorf("tokens sent: %q then %q", srv.auth(0), srv.auth(tc.wantCalls-1))
			}
			if tc.wantErr && IsRetryable(err) != tc.wantRetry {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, IsRetryable(err), tc.wantRetry)
			}
			var apiErr *APIError
			if tc.wantErr && (!errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized) {
				t.Errorf("err = %v, want a 401 *APIError", err)
			}
			if tc.refreshErr != nil && !errors.Is(err, tc.refreshErr) {
				t.Errorf("err = %v, want it to wrap the refresh failure", err)
			}
		})
	}
}

// TestRetryAfterGateShared: a Retry-After answered to one goroutine holds
// back the other goroutine's call made with the same token.
func TestRetryAfterGateShared(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	var deadline atomic.Value // time.Time: when the 429's Retry-After ends
	var bAt atomic.Value      // fake time at which B's request arrived
	var aCalls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/wholesale/customers/a", func(w http.ResponseWriter, r *http.Request) {
		if aCalls.Add(1) == 1 {
			deadline.Store(clk.Now().Add(time.Second))
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = io.WriteString(w, `{"id":"a","status":"provisioned"}`)
	})
	mux.HandleFunc("/v1/wholesale/customers/b", func(w http.ResponseWriter, r *http.Request) {
		bAt.Store(clk.Now())
		_, _ = io.WriteString(w, `{"id":"b","status":"provisioned"}`)
	})
	aSleeping := make(chan struct{})
	bDone := make(chan struct{})
	var once sync.Once
	clk.hook = func(ctx context.Context, d time.Duration) {
		if ctx.Value(labelKey{}) == "A" {
			once.Do(func() { close(aSleeping) })
			<-bDone // A stays asleep until B is through: B must wait on its own
		}
	}
	cl := newTestClient(t, mux, clk, nil)

	aErr := make(chan error, 1)
	go func() {
		_, err := cl.GetCustomer(withLabel(context.Background(), "A"), "a")
		aErr <- err
	}()
	<-aSleeping
	_, err := cl.GetCustomer(withLabel(context.Background(), "B"), "b")
	close(bDone)
	if err != nil {
		t.Fatalf("B: %v", err)
	}
	if err := <-aErr; err != nil {
		t.Fatalf("A: %v", err)
	}
	waited, n := clk.slept("B")
	if n == 0 || waited < time.Second {
		t.Errorf("B slept %v in %d sleeps, want ≥ 1s", waited, n)
	}
	at, _ := bAt.Load().(time.Time)
	if dl := deadline.Load().(time.Time); at.Before(dl) {
		t.Errorf("B called at %v, before the Retry-After deadline %v", at, dl)
	}
}

func TestLongRetryAfterReturnsToCaller(t *testing.T) {
	t.Parallel()
	srv := &scripted{replies: []reply{{status: 429, header: map[string]string{"Retry-After": "3600"}}}}
	cl := newTestClient(t, srv, newFakeClock(), nil)
	_, err := cl.GetCustomer(context.Background(), "c1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !apiErr.Retryable || apiErr.RetryAfter != time.Hour || srv.count() != 1 {
		t.Fatalf("err = %#v after %d calls; want retryable 429 with RetryAfter 1h after 1 call", err, srv.count())
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	t.Parallel()
	srv := &scripted{replies: []reply{{status: 503}}}
	clk := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	clk.hook = func(context.Context, time.Duration) { cancel() }
	cl := newTestClient(t, srv, clk, nil)
	_, err := cl.GetCustomer(ctx, "c1")
	if !errors.Is(err, context.Canceled) || srv.count() != 1 {
		t.Fatalf("err = %v after %d calls, want context.Canceled after 1", err, srv.count())
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	clk := newFakeClock()
	cl := New(Config{BaseURL: base, Tokens: StaticToken("t0k3n-abc"), Sleep: clk.Sleep, Now: clk.Now})
	_, err := cl.GetCustomer(context.Background(), "c1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 0 || !IsRetryable(err) || apiErr.Attempts != defaultMaxAttempts {
		t.Fatalf("err = %#v, want retryable no-response error after %d attempts", err, defaultMaxAttempts)
	}
}

func TestNoTokenInErrors(t *testing.T) {
	t.Parallel()
	const secret = "very-secret-token-4711"
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		auth := r.Header.Get("Authorization")
		fmt.Fprintf(w, `{"message":"rejected %s","errors":[{"description":"%s"}],"trackingId":"%s"}`, auth, auth, auth)
	})
	cl := newTestClient(t, echo, newFakeClock(), StaticToken(secret))
	_, err := cl.GetCustomer(context.Background(), "c1")
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error leaks the token: %v", err)
	}
	// And a 401 that cannot be refreshed.
	srv := &scripted{replies: []reply{{status: 401, body: `{"message":"bad token ` + secret + `"}`}}}
	cl = newTestClient(t, srv, newFakeClock(), StaticToken(secret))
	_, err = cl.GetCustomer(context.Background(), "c1")
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error leaks the token: %v", err)
	}
}

func TestSubPartnerAndPathEscaping(t *testing.T) {
	t.Parallel()
	srv := &scripted{replies: []reply{{status: 200, body: okCustomer}}}
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	cl := New(Config{BaseURL: h.URL + "/v1/", Tokens: StaticToken("tkn1"), SubPartnerOrgID: "SUB/1="})
	if _, err := cl.GetCustomer(context.Background(), "a/b="); err != nil {
		t.Fatal(err)
	}
	r := srv.reqs[0]
	if r.URL.EscapedPath() != "/v1/wholesale/customers/a%2Fb=" {
		t.Errorf("path = %q", r.URL.EscapedPath())
	}
	if got := r.URL.Query().Get("onBehalfOfSubPartnerOrgId"); got != "SUB/1=" {
		t.Errorf("onBehalfOfSubPartnerOrgId = %q", got)
	}
	if _, err := cl.GetCustomer(context.Background(), ""); err == nil {
		t.Error("empty id must not turn into the list operation")
	}
}

func TestLocationCallsCarryNoSubPartner(t *testing.T) {
	t.Parallel()
	srv := &scripted{replies: []reply{{status: 200, body: `{"items":[]}`}}}
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	cl := New(Config{BaseURL: h.URL, Tokens: StaticToken("tkn1"), SubPartnerOrgID: "SUB"})
	if _, err := cl.ListLocations(context.Background(), "ORG"); err != nil {
		t.Fatal(err)
	}
	q := srv.reqs[0].URL.Query()
	if q.Get("orgId") != "ORG" || q.Has("onBehalfOfSubPartnerOrgId") {
		t.Errorf("query = %v", q)
	}
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	big := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":"`+strings.Repeat("x", maxResponseBody)+`"}`)
	})
	cl := newTestClient(t, big, newFakeClock(), nil)
	_, err := cl.GetCustomer(context.Background(), "c1")
	if err == nil || IsRetryable(err) {
		t.Fatalf("err = %v, want a final error", err)
	}
}

func TestBackoffFullJitterBounds(t *testing.T) {
	t.Parallel()
	cl := New(Config{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for attempt := 1; attempt <= 40; attempt++ {
		ceiling := min(time.Second, 100*time.Millisecond<<min(attempt-1, 20))
		for range 50 {
			if d := cl.backoff(attempt); d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want in [0, %v]", attempt, d, ceiling)
			}
		}
	}
	if New(Config{MaxAttempts: 3}).maxAttempts != defaultMaxAttempts {
		t.Error("MaxAttempts below 10 must become 10")
	}
}

func TestOperationsMatchRoutes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, op := range Operations {
		if seen[op] {
			t.Errorf("duplicate operation %q", op)
		}
		seen[op] = true
		method, path, ok := strings.Cut(op, " ")
		if !ok || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") {
			t.Errorf("malformed operation %q", op)
		}
	}
}
