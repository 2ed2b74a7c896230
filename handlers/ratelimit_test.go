package handlers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// brokenCounter is a Redis that does not answer.
type brokenCounter struct{}

func (brokenCounter) Allow(context.Context, string, int, time.Duration) (bool, error) {
	return false, errors.New("redis: i/o timeout")
}

func TestSubmissionLimiter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		perMinute int
		// attempts by user, in order; want is "" for allowed, else a
		// fragment of the refusal ("!" for a system error).
		attempts []string
		want     []string
	}{
		{"no limit configured", 0, []string{"UA", "UA", "UA"}, []string{"", "", ""}},
		{"third in a minute refused", 2, []string{"UA", "UA", "UA"}, []string{"", "", "try again in a minute"}},
		{"users have their own budget", 1, []string{"UA", "UB", "UA", "UB"}, []string{"", "", "submitted 1 requests", "submitted 1 requests"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := store.New(storetest.Miniredis(t), storetest.Prefix(t))
			l := NewSubmissionLimiter(st, tt.perMinute)
			for i, user := range tt.attempts {
				why, err := l.AllowSubmission(context.Background(), user)
				if err != nil {
					t.Fatalf("attempt %d: %v", i+1, err)
				}
				if (why == "") != (tt.want[i] == "") || !strings.Contains(why, tt.want[i]) {
					t.Fatalf("attempt %d by %s: got %q, want %q", i+1, user, why, tt.want[i])
				}
				if why != "" && !strings.HasPrefix(why, "⛔ ") {
					t.Fatalf("refusal %q does not start with ⛔", why)
				}
			}
		})
	}
}

func TestSubmissionLimiterSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	rdb := storetest.Miniredis(t)
	prefix := storetest.Prefix(t)
	// Two replicas: two Store values and two limiters over one Redis.
	a := NewSubmissionLimiter(store.New(rdb, prefix), 2)
	b := NewSubmissionLimiter(store.New(rdb, prefix), 2)
	for i, l := range []Limiter{a, b, a} {
		why, err := l.AllowSubmission(context.Background(), "UA")
		if err != nil {
			t.Fatal(err)
		}
		if refused := why != ""; refused != (i == 2) {
			t.Fatalf("submission %d: refusal %q", i+1, why)
		}
	}
}

func TestSubmissionLimiterFaultIsSystemFault(t *testing.T) {
	t.Parallel()
	h := New(Deps{Limiter: NewSubmissionLimiter(brokenCounter{}, 5)})
	rep := h.admitSubmission(context.Background(), caller{id: "UA"})
	if rep == nil || !strings.Contains(rep.Text, "could not save — nothing was submitted (ref ") {
		t.Fatalf("reply = %+v, want the system-fault answer with a ref", rep)
	}
}
