package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

func TestRetryGateMovesOnlyForward(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			g := store.New(b.Client, storetest.Prefix(t)).RetryGate()
			if until, err := g.Until(ctx, "tok"); err != nil || !until.IsZero() {
				t.Fatalf("empty gate: %v, %v", until, err)
			}
			later := time.Now().Add(3 * time.Second).Truncate(time.Millisecond)
			if err := g.HoldUntil(ctx, "tok", later); err != nil {
				t.Fatal(err)
			}
			if err := g.HoldUntil(ctx, "tok", later.Add(-2*time.Second)); err != nil {
				t.Fatal(err)
			}
			until, err := g.Until(ctx, "tok")
			if err != nil || !until.Equal(later) {
				t.Fatalf("gate = %v, %v; want %v (an earlier hold must not move it back)", until, err, later)
			}
			if other, _ := g.Until(ctx, "other"); !other.IsZero() {
				t.Fatalf("another token's gate = %v", other)
			}
		})
	}
}
