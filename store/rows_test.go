package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

func TestRowOutcomes(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		if got, err := s.RowOutcomes(ctx, 7); err != nil || len(got) != 0 {
			t.Fatalf("outcomes of a request without rows = %v, %v; want none", got, err)
		}
		if err := s.SaveRowOutcomes(ctx, 7, nil); err != nil {
			t.Fatalf("saving no rows: %v", err)
		}
		// More rows than one HSET takes, so the chunking is exercised.
		var rows []request.RowOutcome
		for i := 1; i <= 450; i++ {
			rows = append(rows, request.RowOutcome{Line: i, Email: fmt.Sprintf("u%d@x.example", i), Status: request.RowDone,
				SubscriberID: fmt.Sprintf("S%d", i), At: clk.Now()})
		}
		if err := s.SaveRowOutcomes(ctx, 7, rows); err != nil {
			t.Fatal(err)
		}
		// A later save overwrites only the rows it names.
		update := []request.RowOutcome{
			{Line: 3, Email: "u3@x.example", Status: request.RowFailed, Message: "Conflict", TrackingID: "T-3", At: clk.Now().Add(time.Second)},
			{Line: 451, Email: "u451@x.example", Status: request.RowConsent, SubscriberID: "S451", Phone: "+4930555001"},
		}
		if err := s.SaveRowOutcomes(ctx, 7, update); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveRowOutcomes(ctx, 8, rows[:1]); err != nil {
			t.Fatal(err)
		}
		got, err := s.RowOutcomes(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 451 {
			t.Fatalf("%d rows stored, want 451", len(got))
		}
		for _, c := range []request.RowOutcome{rows[0], rows[449], update[0], update[1]} {
			g := got[c.Line]
			if g.Email != c.Email || g.Status != c.Status || g.SubscriberID != c.SubscriberID || g.Message != c.Message ||
				g.TrackingID != c.TrackingID || g.Phone != c.Phone || !g.At.Equal(c.At) {
				t.Errorf("row %d = %+v, want %+v", c.Line, g, c)
			}
		}
		if other, err := s.RowOutcomes(ctx, 8); err != nil || len(other) != 1 {
			t.Errorf("rows of another request = %d, %v; want 1 (keys must not mix)", len(other), err)
		}
	})
}

func TestRowOutcomesSkipsDamagedEntries(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		var reported []string
		s = s.WithErrorHandler(func(op string, err error) { reported = append(reported, op) })
		if err := s.SaveRowOutcomes(ctx, 3, []request.RowOutcome{{Line: 1, Email: "a@x.example", Status: request.RowDone}}); err != nil {
			t.Fatal(err)
		}
		key := storePrefix(t, s) + "{req:3}:rows"
		if err := s.Client().HSet(ctx, key, "2", "{not json", "x", `{"status":"done"}`).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := s.RowOutcomes(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[1].Status != request.RowDone {
			t.Errorf("outcomes %+v; want only row 1", got)
		}
		if len(reported) != 2 {
			t.Errorf("reported %v; want both damaged entries", reported)
		}
	})
}
