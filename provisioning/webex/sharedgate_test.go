package webex

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memGate is a SharedGate in memory, standing in for the Redis one.
type memGate struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (g *memGate) HoldUntil(_ context.Context, key string, t time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.After(g.until[key]) {
		g.until[key] = t
	}
	return nil
}

func (g *memGate) Until(_ context.Context, key string) (time.Time, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until[key], nil
}

// TestSharedGateAcrossReplicas: a 429 one replica gets makes another replica
// using the same token wait out the Retry-After before its own call.
func TestSharedGateAcrossReplicas(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{"id":"c1","status":"provisioned"}`))
	}))
	defer srv.Close()

	gate := &memGate{until: map[string]time.Time{}}
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	replica := func(slept *[]time.Duration) *Client {
		return New(Config{BaseURL: srv.URL, Tokens: StaticToken("tok-shared"), SharedGate: gate, Now: clock,
			Sleep: func(_ context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				*slept = append(*slept, d)
				now = now.Add(d)
				return nil
			}})
	}
	var sleptA, sleptB []time.Duration
	a, b := replica(&sleptA), replica(&sleptB)

	// A gets the 429, then retries after its wait; its wait is shared.
	if _, err := a.GetCustomer(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	// Rewind the clock to the moment of the 429: B starts inside A's wait.
	mu.Lock()
	now = time.Unix(1_700_000_000, 0)
	mu.Unlock()
	if _, err := b.GetCustomer(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	if len(sleptB) == 0 || sleptB[0] < 2*time.Second {
		t.Fatalf("replica B did not wait out A's Retry-After: slept %v", sleptB)
	}
	if k := gateKey("tok-shared"); len(k) != 16 || k == "tok-shared" {
		t.Fatalf("gate key %q must be a digest of the token", k)
	}
}
