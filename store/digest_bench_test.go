package store_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// BenchmarkDigestBuild builds every digest of one occurrence over 100k and
// over 1M stored requests, 1,000 of them due in each: the digest reads
// index ranges, so the two should cost about the same. It needs a real
// Redis (miniredis sorts a whole sorted set for every range):
//
//	scripts/with-redis.sh go test -run '^$' -bench DigestBuild -benchtime 3x ./store/
func BenchmarkDigestBuild(b *testing.B) {
	if os.Getenv(storetest.EnvSingle) == "" {
		b.Skip("needs a real Redis: run under scripts/with-redis.sh (TEST_REDIS_URL)")
	}
	rdb := storetest.Client(b)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s := store.New(rdb, storetest.Prefix(b))
			seedStart := time.Now()
			if err := s.SeedRequests(ctx, benchRequests(n, at)); err != nil {
				b.Fatal(err)
			}
			b.Logf("seeded %d requests in %s", n, time.Since(seedStart).Round(time.Millisecond))
			b.Cleanup(func() {
				if err := s.DropSeeded(context.Background(), int64(n)); err != nil {
					b.Errorf("drop seeded keys: %v", err)
				}
			})
			g := digest.New(digest.Deps{Store: s, Drafts: s.Drafts(time.Hour), Subscribers: noUsers{},
				Settings: digest.Settings{Channel: "#approvals",
					StaleApprovalAfter: 4 * time.Hour, IdleDraftAfter: 24 * time.Hour, StuckAfter: time.Hour, ConsentWaitAfter: 72 * time.Hour}})
			b.ResetTimer()
			for b.Loop() {
				d, err := g.Build(ctx, at, "")
				if err != nil {
					b.Fatal(err)
				}
				if due := countItems(d); due != benchDue {
					b.Fatalf("%d items due, want %d", due, benchDue)
				}
			}
		})
	}
}

const benchDue = 1000

type noUsers struct{}

func (noUsers) CountSubscribers(context.Context, string) (map[string]int, error) {
	return map[string]int{}, nil
}

func countItems(d *digest.Digests) int {
	n := len(d.Channel.Items)
	for _, dm := range d.DMs {
		n += len(dm.Items)
	}
	return n
}

// benchRequests are n requests of 1,000 owners: the first benchDue are due
// in every category of the digest, the rest sit in the same indexes
// without being due (fresh, too old, or in states digests leave alone).
func benchRequests(n int, at time.Time) []*request.Request {
	out := make([]*request.Request, 0, n)
	for i := range n {
		r := &request.Request{ID: int64(i + 1), Requester: fmt.Sprintf("owner-%d", i%1000), Kind: request.KindCustomer,
			Subject: fmt.Sprintf("EXT-%d", i+1)}
		ago := func(d time.Duration) time.Time { return at.Add(-d - time.Duration(i)*time.Millisecond) }
		wait := func(reason string, since time.Duration, kind request.Kind) {
			r.Kind, r.State, r.UpdatedAt = kind, request.StateWaiting, ago(10*time.Minute)
			r.Result.WaitReason, r.Result.WaitingSince = reason, ago(since)
		}
		switch {
		case i < 250:
			r.State, r.UpdatedAt = request.StatePendingApproval, ago(5*time.Hour)
		case i < 400:
			r.State, r.UpdatedAt = request.StateFailed, ago(2*time.Hour)
			r.Result.Message = "Webex refused the address"
		case i < 500:
			r.State, r.UpdatedAt = request.StateCommitting, ago(2*time.Hour)
		case i < 600:
			wait("compliance review", 3*time.Hour, request.KindCustomer)
		case i < 750:
			wait(request.ConsentWaitReason, 80*time.Hour, request.KindUsers)
			r.Result.Message = "1/2 provisioned, 1 waiting for consent"
		case i < 900:
			r.State, r.UpdatedAt = request.StateRejected, ago(2*time.Hour)
		case i < benchDue:
			r.State, r.UpdatedAt = request.StateDone, ago(time.Hour)
			r.Result.CustomerID = fmt.Sprintf("cust-%d", i)
		default:
			switch i % 10 {
			case 6:
				r.State, r.UpdatedAt = request.StatePendingApproval, ago(time.Hour)
			case 7:
				r.State, r.UpdatedAt = request.StateRejected, ago(10*24*time.Hour)
			case 8:
				r.State, r.UpdatedAt = request.StateCancelled, ago(time.Hour)
			case 9:
				wait("provisioning", 10*time.Minute, request.KindCustomer)
			default:
				r.Kind, r.State, r.UpdatedAt = request.KindLocation, request.StateDone, ago(30*24*time.Hour)
			}
		}
		r.CreatedAt = r.UpdatedAt
		out = append(out, r)
	}
	return out
}
