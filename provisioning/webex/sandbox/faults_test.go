package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

func TestRateLimitAndEarlyRetries(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.Rate = 2
	e := newEnv(t, opts, nil)
	get := func() result { return e.do("GET", "/v1/wholesale/customers", nil) }
	e.must(200, get())
	e.must(200, get()) // burst = rate = 2
	r := e.must(429, get())
	checkErrorBody(t, r, "Too many requests")
	if ra := r.header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want whole seconds (1)", ra)
	}
	e.clock.Add(300 * time.Millisecond)
	get() // early: 700 ms before the deadline
	if st := e.sb.Stats(); st.EarlyRetries != 1 || st.RateLimited < 1 {
		t.Fatalf("after an early retry: %+v", st)
	}
	// Another token is not bound by this token's deadline.
	e.doAs("other", "GET", "/v1/wholesale/customers", nil)
	// The early retry was refused too, with a new deadline 1 s after it; a call within
	// the 50 ms tolerance of that deadline is not early.
	e.clock.Add(960 * time.Millisecond)
	get()
	e.clock.Add(2 * time.Second)
	e.must(200, get())
	st := e.sb.Stats()
	if st.EarlyRetries != 1 {
		t.Errorf("early retries = %d, want 1", st.EarlyRetries)
	}
	if st.EarlyRetriesByToken[tokenLabel(e.token)] != 1 || len(st.EarlyRetriesByToken) != 1 {
		t.Errorf("by token: %v", st.EarlyRetriesByToken)
	}
}

// TestEarlyRetriesSpareCallsInFlight: calls that were on the wire when another call's
// Retry-After was given are not early retries; calls sent after it, before the deadline,
// are. A Retry-After given while another runs extends that wait without restarting it.
func TestEarlyRetriesSpareCallsInFlight(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		arrived time.Duration // relative to the 503 that set the deadline
		early   bool
	}{
		{"sent before the 503 was answered", -3 * time.Millisecond, false},
		{"sent while the answer was on its way back", 10 * time.Millisecond, false},
		{"sent while the client was still reading the answer", 200 * time.Millisecond, false},
		{"sent after the answer arrived", 300 * time.Millisecond, true},
		{"sent just before the deadline", 990 * time.Millisecond, false},
		{"sent after the deadline", 1500 * time.Millisecond, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := New(DefaultOptions())
			defer sb.Close()
			c := &call{token: "tok", now: t0, arrived: t0}
			sb.setRetryAfter(c, c.fail(http.StatusServiceUnavailable, "busy"), 1)
			sb.countEarlyRetry(&call{token: "tok", arrived: t0.Add(tc.arrived)})
			if got := sb.stats.EarlyRetries == 1; got != tc.early {
				t.Errorf("early retries %d, want early=%v", sb.stats.EarlyRetries, tc.early)
			}
		})
	}

	// A second 503 while the first wait runs moves the deadline, not the start: a call
	// sent after the first answer is early even if it arrived before the second one.
	sb := New(DefaultOptions())
	defer sb.Close()
	first := &call{token: "tok", now: t0, arrived: t0}
	sb.setRetryAfter(first, first.fail(http.StatusServiceUnavailable, "busy"), 1)
	second := &call{token: "tok", now: t0.Add(400 * time.Millisecond), arrived: t0.Add(400 * time.Millisecond)}
	sb.setRetryAfter(second, second.fail(http.StatusServiceUnavailable, "busy"), 1)
	sb.countEarlyRetry(&call{token: "tok", arrived: t0.Add(300 * time.Millisecond)})
	sb.countEarlyRetry(&call{token: "tok", arrived: t0.Add(1200 * time.Millisecond)})
	if sb.stats.EarlyRetries != 2 {
		t.Errorf("early retries %d, want 2 (both before the extended deadline)", sb.stats.EarlyRetries)
	}
}

// statuses runs n calls on a sandbox with opts and returns their statuses.
func statuses(t *testing.T, opts Options, n int) []int {
	e := newEnv(t, opts, nil)
	var out []int
	for i := 0; i < n; i++ {
		r := e.do("POST", "/v1/wholesale/customers", customerBody("MS-"+string(rune('A'+i))))
		out = append(out, r.status)
		e.clock.Add(2 * time.Second) // past every Retry-After: none of these is early
	}
	if st := e.sb.Stats(); st.EarlyRetries != 0 || st.Creates != countOf(out, 202) {
		t.Errorf("stats %+v for %v: 503s must have no effect", st, out)
	}
	return out
}

func countOf(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

func TestP5xxIsSeeded(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.P5xx, opts.Seed = 0.5, 42
	a, b := statuses(t, opts, 30), statuses(t, opts, 30)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if n := countOf(a, 503); n == 0 || n == len(a) {
		t.Errorf("p5xx=0.5 gave %d of %d 503s", n, len(a))
	}
	opts.Seed = 43
	if c := statuses(t, opts, 30); slices.Equal(a, c) {
		t.Errorf("another seed gave the same faults: %v", c)
	}
}

func TestServiceUnavailableCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.P5xx = 1
	e := newEnv(t, opts, nil)
	r := e.must(503, e.do("GET", "/v1/wholesale/customers", nil))
	checkErrorBody(t, r, "retry later")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	e.clock.Add(300 * time.Millisecond) // read the answer, then retried well before 1 s
	e.do("GET", "/v1/wholesale/customers", nil)
	if st := e.sb.Stats(); st.EarlyRetries != 1 || st.Injected5xx != 2 {
		t.Errorf("stats %+v", st)
	}
}

// holdingServer serves a sandbox that holds every call for an hour (until Close).
func holdingServer(t *testing.T) (*Sandbox, *httptest.Server) {
	opts := DefaultOptions()
	opts.PTimeout, opts.HoldTimeout = 1, time.Hour
	sb := New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close) // runs first: releases held calls before the server waits for them
	return sb, srv
}

// createOn posts a customer create and returns the status or the client's error.
func createOn(ctx context.Context, t *testing.T, base string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/wholesale/customers", jsonReader(t, customerBody("MS-1")))
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestTimeoutHoldsTheAnswer: a p-timeout call does its work but answers only after
// HoldTimeout, so the client's own timeout fires first.
func TestTimeoutHoldsTheAnswer(t *testing.T) {
	t.Parallel()
	sb, srv := holdingServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	code, err := createOn(ctx, t, srv.URL)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("status %d, err %v; want the client's deadline", code, err)
	}
	if st := sb.Stats(); st.InjectedTimeouts != 1 || st.Creates != 1 {
		t.Errorf("stats %+v: the held create must have happened", st)
	}
}

func TestCloseReleasesHeldCalls(t *testing.T) {
	t.Parallel()
	sb, srv := holdingServer(t)
	done := make(chan int)
	go func() {
		code, _ := createOn(context.Background(), t, srv.URL)
		done <- code
	}()
	deadline := time.Now().Add(10 * time.Second)
	for sb.Stats().InjectedTimeouts == 0 {
		if time.Now().After(deadline) {
			t.Fatal("call never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	sb.Close()
	if code := <-done; code != http.StatusAccepted {
		t.Errorf("released call answered %d", code)
	}
}

func TestClientGoneDuringLatency(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.Latency = time.Hour
	sb := New(opts)
	defer sb.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/v1/wholesale/customers", nil)
	req.Header.Set("Authorization", "Bearer x")
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, req) // returns at once: the client left
	if st := sb.Stats(); st.Calls["GET /wholesale/customers"] != 0 {
		t.Errorf("a call whose client left during latency was served: %v", st.Calls)
	}
}
