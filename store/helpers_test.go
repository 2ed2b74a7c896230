package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// clock is a time source tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// onEachBackend runs fn as a parallel subtest on every backend, each with a
// store of its own key prefix and clock.
func onEachBackend(t *testing.T, fn func(t *testing.T, s *store.Store, clk *clock)) {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			s := store.New(b.Client, storetest.Prefix(t)).WithClock(clk.Now).
				WithErrorHandler(func(op string, err error) { t.Errorf("%s: %v", op, err) })
			fn(t, s, clk)
		})
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func storePrefix(t *testing.T, s *store.Store) string {
	t.Helper()
	return s.Prefix()
}
