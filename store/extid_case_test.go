package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// External ids that differ only in case are one customer: a second create
// is refused naming the holder, and lookups find it whatever the case.
// Reservations written before (keyed by the id as typed) are moved by the
// sweep to the folded key.
func TestExternalIDsIgnoreCase(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		first := &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "alice", ExternalID: "MS-001", Subject: "MS-001"}
		mustCreate(t, s, first)
		err := s.Create(ctx, &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "bob", ExternalID: "ms-001", Subject: "ms-001"})
		var taken *request.ExternalIDTaken
		if !errors.As(err, &taken) || taken.Holder != first.ID || taken.ExternalID != "ms-001" {
			t.Fatalf("second create: %v, want ms-001 taken by %s", err, first.Ref())
		}
		for _, ext := range []string{"MS-001", "ms-001", "Ms-001"} {
			if id, err := s.ByExternalID(ctx, ext); err != nil || id != first.ID {
				t.Errorf("ByExternalID(%q) = %d, %v; want %d", ext, id, err, first.ID)
			}
		}

		// A reservation of before: the key holds the id as it was typed.
		legacy := &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "carol", ExternalID: "AB-002", Subject: "ab-002"}
		mustCreate(t, s, legacy)
		prefix := storePrefix(t, s)
		if err := s.Client().Rename(ctx, prefix+"{ids}:extid:AB-002", prefix+"{ids}:extid:ab-002").Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Client().Exists(ctx, prefix+"{ids}:extid:ab-002").Result(); err != nil || n != 0 {
			t.Errorf("the reservation as typed is still there (%d, %v)", n, err)
		}
		if id, err := s.ByExternalID(ctx, "Ab-002"); err != nil || id != legacy.ID {
			t.Errorf("after the sweep ByExternalID(Ab-002) = %d, %v; want %d", id, err, legacy.ID)
		}
	})
}

// ExternalIDHolders answers for many external ids in one round trip, on a
// cluster too (the reservations share a hash slot): the holders keyed as
// asked, whatever the case, and nothing for a free id.
func TestExternalIDHolders(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		a := &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "alice", ExternalID: "HD-001", Subject: "HD-001"}
		b := &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "alice", ExternalID: "HD-002", Subject: "HD-002"}
		mustCreate(t, s, a)
		mustCreate(t, s, b)
		got, err := s.ExternalIDHolders(ctx, []string{"hd-001", "HD-002", "HD-003"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["hd-001"] != a.ID || got["HD-002"] != b.ID {
			t.Errorf("holders = %v, want hd-001 → %s, HD-002 → %s", got, a.Ref(), b.Ref())
		}
		if got, err := s.ExternalIDHolders(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("no ids: %v, %v", got, err)
		}
	})
}
