package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// seedBatch is how many documents one pipeline of SeedRequests carries.
const seedBatch = 5000

// SeedRequests writes documents and index entries of requests that already
// carry their ids, with pipelines and nothing else (no Create: no scripts,
// audit or reservations), so a benchmark can store a million requests in
// seconds. Documents hold the fields digests read.
func (s *Store) SeedRequests(ctx context.Context, reqs []*request.Request) error {
	idx := map[string][]redis.Z{}
	owners, kinds := map[string]bool{}, map[string]bool{}
	var last int64
	p := s.rdb.Pipeline()
	for i, r := range reqs {
		q := strconv.Quote
		args := []any{
			"id", strconv.FormatInt(r.ID, 10), "kind", q(string(r.Kind)), "state", q(string(r.State)),
			"version", "1", "requester", q(r.Requester), "subject", q(r.Subject),
			"createdAt", q(r.CreatedAt.UTC().Format(time.RFC3339Nano)), "updatedAt", q(r.UpdatedAt.UTC().Format(time.RFC3339Nano)),
		}
		if !reflect.ValueOf(r.Result).IsZero() {
			b, err := json.Marshal(r.Result)
			if err != nil {
				return err
			}
			args = append(args, "result", string(b))
		}
		p.HSet(ctx, s.docKey(r.ID), args...)
		m := strconv.FormatInt(r.ID, 10)
		z := redis.Z{Score: unixMS(r.UpdatedAt), Member: m}
		idx[s.stateKey(r.State)] = append(idx[s.stateKey(r.State)], z)
		idx[s.ownerKey(r.Requester)] = append(idx[s.ownerKey(r.Requester)], z)
		idx[s.kindKey(r.Kind)] = append(idx[s.kindKey(r.Kind)], z)
		if r.State == request.StateWaiting && !r.Result.WaitingSince.IsZero() {
			idx[s.waitSinceKey()] = append(idx[s.waitSinceKey()], redis.Z{Score: unixMS(r.Result.WaitingSince), Member: m})
		}
		if isCustomer(r.Kind) && r.State == request.StateDone {
			idx[s.incompleteKey()] = append(idx[s.incompleteKey()], z)
		}
		owners[r.Requester], kinds[string(r.Kind)] = true, true
		last = max(last, r.ID)
		if (i+1)%seedBatch == 0 {
			if _, err := p.Exec(ctx); err != nil {
				return fmt.Errorf("seed documents: %w", err)
			}
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("seed documents: %w", err)
	}
	// A few thousand members per pipeline: one pipeline of three million
	// would outlast the client's write timeout.
	for key, zs := range idx {
		for start := 0; start < len(zs); start += 1000 {
			p.ZAdd(ctx, key, zs[start:min(start+1000, len(zs))]...)
			if p.Len() >= 5 {
				if _, err := p.Exec(ctx); err != nil {
					return fmt.Errorf("seed indexes: %w", err)
				}
			}
		}
	}
	for o := range owners {
		p.SAdd(ctx, s.ownersKey(), o)
	}
	for k := range kinds {
		p.SAdd(ctx, s.kindsKey(), k)
	}
	p.Set(ctx, s.counterKey(), last, 0)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("seed indexes: %w", err)
	}
	return nil
}

// DropSeeded deletes what SeedRequests wrote for requests 1..last.
func (s *Store) DropSeeded(ctx context.Context, last int64) error {
	p := s.rdb.Pipeline()
	keys := []string{s.counterKey(), s.ownersKey(), s.kindsKey(), s.waitSinceKey(), s.incompleteKey()}
	for _, st := range request.AllStates {
		keys = append(keys, s.stateKey(st))
	}
	owners, err := s.rdb.SMembers(ctx, s.ownersKey()).Result()
	if err != nil {
		return err
	}
	for _, o := range owners {
		keys = append(keys, s.ownerKey(o))
	}
	kinds, err := s.rdb.SMembers(ctx, s.kindsKey()).Result()
	if err != nil {
		return err
	}
	for _, k := range kinds {
		keys = append(keys, s.kindKey(request.Kind(k)))
	}
	for _, k := range keys {
		p.Unlink(ctx, k) // one key per command: they may be in different cluster slots
	}
	for id := int64(1); id <= last; id++ {
		p.Unlink(ctx, s.docKey(id), s.auditKey(id))
		if id%seedBatch == 0 {
			if _, err := p.Exec(ctx); err != nil {
				return err
			}
		}
	}
	_, err = p.Exec(ctx)
	return err
}
