package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

func TestDraftLifecycle(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		ds := s.Drafts(time.Hour)
		d := &store.Draft{Owner: "alice", Kind: request.KindCustomer, Answers: map[string]string{"name": "Müller"}, Channel: "C1", LinkedFrom: 7}
		if err := ds.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		if d.ID != 1 || d.Version != 1 || d.Ref() != "D-1" || !d.CreatedAt.Equal(clk.Now()) {
			t.Fatalf("created %+v", d)
		}
		got, err := ds.GetDraft(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Owner != "alice" || got.Answers["name"] != "Müller" || got.LinkedFrom != 7 || got.Channel != "C1" || got.Version != 1 {
			t.Fatalf("got %+v", got)
		}

		clk.Advance(time.Minute)
		got.Step, got.Answers["email"] = 2, "it@mueller.example"
		if err := ds.SaveDraft(ctx, got); err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || !got.UpdatedAt.Equal(clk.Now()) {
			t.Fatalf("after save: v%d at %s", got.Version, got.UpdatedAt)
		}
		// The copy read before the save is stale now.
		d.Step = 3
		if err := ds.SaveDraft(ctx, d); !errors.Is(err, store.ErrDraftChanged) {
			t.Fatalf("stale save: %v, want ErrDraftChanged", err)
		}
		again, _ := ds.GetDraft(ctx, d.ID)
		if again.Step != 2 || again.Answers["email"] != "it@mueller.example" || !again.CreatedAt.Equal(d.CreatedAt) {
			t.Fatalf("after the refused save: %+v", again)
		}

		if err := ds.DeleteDraft(ctx, again); err != nil {
			t.Fatal(err)
		}
		if _, err := ds.GetDraft(ctx, d.ID); !errors.Is(err, request.ErrNotFound) {
			t.Fatalf("deleted draft: %v", err)
		}
		if err := ds.SaveDraft(ctx, again); !errors.Is(err, request.ErrNotFound) {
			t.Fatalf("save of a deleted draft: %v", err)
		}
		list, err := ds.DraftsOf(ctx, "alice", 0)
		if err != nil || len(list) != 0 {
			t.Fatalf("drafts after delete: %v %v", list, err)
		}
	})
}

func TestDraftsOfOwnerNewestFirst(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		ds := s.Drafts(time.Hour)
		var ids []int64
		for _, owner := range []string{"alice", "bob", "alice", "alice"} {
			clk.Advance(time.Second)
			d := &store.Draft{Owner: owner, Kind: request.KindUsers}
			if err := ds.CreateDraft(ctx, d); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, d.ID)
		}
		cases := []struct {
			owner string
			limit int
			want  []int64
		}{
			{"alice", 0, []int64{ids[3], ids[2], ids[0]}},
			{"alice", 2, []int64{ids[3], ids[2]}},
			{"bob", 0, []int64{ids[1]}},
			{"carol", 0, nil},
		}
		for _, c := range cases {
			got, err := ds.DraftsOf(ctx, c.owner, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var have []int64
			for _, d := range got {
				have = append(have, d.ID)
			}
			if len(have) != len(c.want) {
				t.Fatalf("%s limit %d: %v, want %v", c.owner, c.limit, have, c.want)
			}
			for i := range have {
				if have[i] != c.want[i] {
					t.Fatalf("%s limit %d: %v, want %v", c.owner, c.limit, have, c.want)
				}
			}
		}
	})
}

func TestDraftExpires(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		ds := s.Drafts(50 * time.Millisecond)
		d := &store.Draft{Owner: "dave", Kind: request.KindLocation}
		if err := ds.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		ttl, err := s.Client().PTTL(ctx, storePrefix(t, s)+"{draft:1}:doc").Result()
		// -2: gone already (the embedded Redis's clock moves in 100 ms
		// steps); -1 would be a draft without expiry.
		if err != nil || ttl == -1 || ttl == 0 || ttl > 50*time.Millisecond {
			t.Fatalf("draft TTL = %s (%v), want (0, 50ms] or already expired", ttl, err)
		}
		waitFor(t, "the draft to expire", func() bool {
			_, err := ds.GetDraft(ctx, d.ID)
			return errors.Is(err, request.ErrNotFound)
		})
		list, err := ds.DraftsOf(ctx, "dave", 0)
		if err != nil || len(list) != 0 {
			t.Fatalf("expired draft still listed: %v %v", list, err)
		}
		if n, _ := s.Client().ZCard(ctx, storePrefix(t, s)+"idx:drafts:dave").Result(); n != 0 {
			t.Fatalf("expired draft still indexed (%d entries)", n)
		}
	})
}

// Two replicas saving the same draft at once: exactly one wins each round.
func TestDraftConcurrentSaves(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		ds := s.Drafts(time.Hour)
		d := &store.Draft{Owner: "alice", Kind: request.KindCustomer}
		if err := ds.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		const writers = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range writers {
			c := *d
			c.Answers = map[string]string{"step": string(rune('a' + i))}
			wg.Go(func() {
				err := ds.SaveDraft(ctx, &c)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrDraftChanged):
					t.Errorf("save: %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d saves won, want 1", won)
		}
		got, _ := ds.GetDraft(ctx, d.ID)
		if got.Version != 2 {
			t.Fatalf("version %d, want 2", got.Version)
		}
	})
}

func TestParseDraftID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int64
	}{
		{"D-3", 3}, {"d-3", 3}, {"D3", 3}, {" D-12 ", 12},
		{"R-3", 0}, {"3", 0}, {"D-", 0}, {"D-0", 0}, {"D-+3", 0}, {"D--3", 0}, {"", 0},
	}
	for _, c := range cases {
		got, err := store.ParseDraftID(c.in)
		if (err != nil) != (c.want == 0) || got != c.want {
			t.Errorf("ParseDraftID(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

// DraftOwners lists who saved a draft within the drafts' TTL, whether or not
// they ever submitted a request, and forgets them once all could have expired.
func TestDraftOwners(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		ds := s.Drafts(time.Hour)
		for _, owner := range []string{"erin", "frank", "erin"} {
			if err := ds.CreateDraft(ctx, &store.Draft{Owner: owner, Kind: request.KindCustomer}); err != nil {
				t.Fatal(err)
			}
			clk.Advance(20 * time.Minute)
		}
		owners, err := ds.DraftOwners(ctx)
		slices.Sort(owners)
		if err != nil || fmt.Sprint(owners) != "[erin frank]" {
			t.Fatalf("draft owners = %v, %v; want [erin frank]", owners, err)
		}
		clk.Advance(30 * time.Minute) // frank's only draft is 70 min old, erin's newest 30
		if owners, err = ds.DraftOwners(ctx); err != nil || fmt.Sprint(owners) != "[erin]" {
			t.Fatalf("draft owners = %v, %v; want [erin]", owners, err)
		}
	})
}
