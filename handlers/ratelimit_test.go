package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// submitAs saves a valid request of user through createSubmission, as every
// submission flow does; "" when saved, else the refusal.
func submitAs(h *Handler, user string, n int) string {
	ext := fmt.Sprintf("EXT-%s-%d", user, n)
	r := &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval,
		Requester: user, Subject: ext, ExternalID: ext, Spec: []byte(`{}`)}
	if rep := h.createSubmission(context.Background(), caller{id: user}, r); rep != nil {
		return rep.Text
	}
	return ""
}

func TestSubmissionLimiter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		perMinute int
		// attempts by user, in order; want is "" for saved, else a
		// fragment of the refusal.
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
			h := New(Deps{Store: st, Limiter: NewSubmissionLimiter(tt.perMinute), Log: quietLog()})
			for i, user := range tt.attempts {
				why := submitAs(h, user, i)
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
	// Two replicas: two Store values and two handlers over one Redis.
	a := New(Deps{Store: store.New(rdb, prefix), Limiter: NewSubmissionLimiter(2), Log: quietLog()})
	b := New(Deps{Store: store.New(rdb, prefix), Limiter: NewSubmissionLimiter(2), Log: quietLog()})
	for i, h := range []*Handler{a, b, a} {
		if refused := submitAs(h, "UA", i) != ""; refused != (i == 2) {
			t.Fatalf("submission %d: refused %v", i+1, refused)
		}
	}
}

func TestSubmissionWithRedisDownIsSystemFault(t *testing.T) {
	t.Parallel()
	rdb := storetest.Miniredis(t)
	h := New(Deps{Store: store.New(rdb, storetest.Prefix(t)), Limiter: NewSubmissionLimiter(5), Log: quietLog()})
	_ = rdb.Close()
	if why := submitAs(h, "UA", 1); !strings.Contains(why, "could not save — nothing was submitted (ref ") {
		t.Fatalf("reply = %q, want the system-fault answer with a ref", why)
	}
}
