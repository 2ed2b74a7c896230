package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// SweepReport says what a Sweep found and repaired.
type SweepReport struct {
	Requests     int // documents read
	Damaged      int // documents that could not be decoded (left alone)
	Added        int // index entries added or re-scored
	Removed      int // index entries that pointed at the wrong place or nothing
	Released     int // external id reservations of ended requests freed
	Restored     int // reservations of active requests put back
	Orphans      int // reservations held by a request that was never written, freed
	SkippedMoved int // requests that changed during the sweep (their own update indexes them)
}

// Repaired reports whether the sweep changed anything.
func (r SweepReport) Repaired() bool {
	return r.Added+r.Removed+r.Released+r.Restored+r.Orphans > 0
}

// sweepBatch is how many documents one pipeline reads.
const sweepBatch = 500

// registry is a set naming the indexes of one family (owners, kinds), so
// the sweeper finds indexes that no document refers to any more.
type registry struct {
	set string
	key func(name string) string
}

func (s *Store) registries() []registry {
	return []registry{
		{s.ownersKey(), s.ownerKey},
		{s.kindsKey(), func(k string) string { return s.kindKey(request.Kind(k)) }},
	}
}

// Sweep rebuilds the indexes from the documents: it reads requests
// 1..counter in pipelined batches (documents are never looked for with SCAN),
// adds missing and re-scores wrong index entries, removes entries that point
// at the wrong state, owner or kind or at nothing, frees external id
// reservations of requests that ended, restores those of active requests and
// frees those of requests that were never written (see freeOrphans). It is
// idempotent; cmd/ runs it at start and periodically. A request that changes
// while the sweep runs is left to its own index update.
func (s *Store) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	legacy, err := s.adoptLegacyCounter(ctx)
	if err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	last, err := s.rdb.Get(ctx, s.counterKey()).Int64()
	if err != nil && !isNil(err) {
		return rep, fmt.Errorf("sweep: read counter: %w", err)
	}
	seen, err := s.sweepRead(ctx, last, &rep)
	if err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	steps := []func() error{
		func() error { return s.repairIndexes(ctx, seen.want, seen.versions, last, &rep) },
		func() error { return s.repairRegistries(ctx, seen.want) },
		func() error { return s.foldReservations(ctx) },
		func() error { return s.repairReservations(ctx, seen.extIDs, &rep) },
		func() error { return s.freeOrphans(ctx, s.mark.settled(last, s.clock()), &rep) },
	}
	if legacy {
		// The reservations live under their new keys now: drop the old ones
		// and the old counter, so the next sweep has nothing to move.
		steps = append(steps, func() error { return s.dropLegacyKeys(ctx, seen.extIDs) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return rep, fmt.Errorf("sweep: %w", err)
		}
	}
	return rep, nil
}

// swept is what one read of every document says the indexes should hold.
type swept struct {
	want     map[string]map[string]float64 // index key → member → score
	versions map[int64]int64               // request id → version read
	extIDs   map[string][]*request.Request // folded external id → its requests
}

func (w *swept) add(key, member string, score float64) {
	if w.want[key] == nil {
		w.want[key] = map[string]float64{}
	}
	w.want[key][member] = score
}

// sweepRead reads requests 1..last in pipelined batches and returns what
// the indexes should hold, with the owner and kind indexes that no
// document wants any more (found through the registry sets) wanted empty.
func (s *Store) sweepRead(ctx context.Context, last int64, rep *SweepReport) (*swept, error) {
	w := &swept{want: map[string]map[string]float64{}, versions: map[int64]int64{}, extIDs: map[string][]*request.Request{}}
	for _, st := range request.AllStates {
		w.want[s.stateKey(st)] = map[string]float64{}
	}
	digest := newDigestSweep()
	for lo := int64(1); lo <= last; lo += sweepBatch {
		ids := make([]int64, 0, sweepBatch)
		for id := lo; id < lo+sweepBatch && id <= last; id++ {
			ids = append(ids, id)
		}
		docs, damaged, err := s.readDocs(ctx, ids)
		if err != nil {
			return nil, err
		}
		rep.Damaged += damaged
		for _, r := range docs {
			if r == nil {
				continue
			}
			rep.Requests++
			w.versions[r.ID] = r.Version
			m, score := strconv.FormatInt(r.ID, 10), unixMS(r.UpdatedAt)
			w.add(s.stateKey(r.State), m, score)
			if r.Requester != "" {
				w.add(s.ownerKey(r.Requester), m, score)
			}
			w.add(s.kindKey(r.Kind), m, score)
			digest.see(r)
			if r.ExternalID != "" {
				// One reservation for ids that differ only in case.
				ext := strings.ToUpper(r.ExternalID)
				w.extIDs[ext] = append(w.extIDs[ext], r)
			}
		}
	}
	digest.want(s, w.want)
	for _, reg := range s.registries() {
		names, err := s.rdb.SMembers(ctx, reg.set).Result()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", reg.set, err)
		}
		for _, n := range names {
			if w.want[reg.key(n)] == nil {
				w.want[reg.key(n)] = map[string]float64{}
			}
		}
	}
	return w, nil
}

// readDocs loads documents with one pipeline. The result is aligned with
// ids; an absent document (an index pointing at nothing) or a damaged one is
// nil there, and damaged ones are counted and reported.
func (s *Store) readDocs(ctx context.Context, ids []int64) ([]*request.Request, int, error) {
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.docKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read documents: %w", err)
	}
	out := make([]*request.Request, len(ids))
	damaged := 0
	for i, c := range cmds {
		if len(c.Val()) == 0 {
			continue
		}
		r, err := decodeDoc(ids[i], c.Val())
		if err != nil {
			damaged++
			s.onError("read documents", err)
			continue
		}
		out[i] = r
	}
	return out, damaged, nil
}

// repairIndexes makes every index key hold exactly its wanted members. Before
// changing entries of a request it checks that the request's version is
// still the one read, so the sweep never undoes a concurrent transition.
func (s *Store) repairIndexes(ctx context.Context, want map[string]map[string]float64,
	versions map[int64]int64, last int64, rep *SweepReport) error {
	fixes, err := s.indexFixes(ctx, want, last)
	if err != nil || len(fixes) == 0 {
		return err
	}
	moved, err := s.movedSince(ctx, fixes, versions)
	if err != nil {
		return err
	}
	rep.SkippedMoved += len(moved)
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, f := range fixes {
			id, err := strconv.ParseInt(f.member, 10, 64)
			if err == nil && moved[id] {
				continue
			}
			if f.remove {
				p.ZRem(ctx, f.key, f.member)
				rep.Removed++
			} else {
				p.ZAdd(ctx, f.key, redis.Z{Score: f.score, Member: f.member})
				rep.Added++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write index fixes: %w", err)
	}
	return nil
}

// indexFix is one index entry to add, re-score or remove.
type indexFix struct {
	key, member string
	score       float64
	remove      bool
}

// indexFixes compares every wanted index with what it holds. Entries of
// ids created after the counter was read (last) are someone else's fresh
// writes, not damage.
func (s *Store) indexFixes(ctx context.Context, want map[string]map[string]float64, last int64) ([]indexFix, error) {
	var fixes []indexFix
	for key, members := range want {
		have, err := s.rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("read index %s: %w", key, err)
		}
		seen := map[string]bool{}
		for _, z := range have {
			m, _ := z.Member.(string)
			seen[m] = true
			score, ok := members[m]
			switch {
			case !ok:
				if id, err := strconv.ParseInt(m, 10, 64); err == nil && id > last {
					continue
				}
				fixes = append(fixes, indexFix{key: key, member: m, remove: true})
			case score != z.Score:
				fixes = append(fixes, indexFix{key: key, member: m, score: score})
			}
		}
		for m, score := range members {
			if !seen[m] {
				fixes = append(fixes, indexFix{key: key, member: m, score: score})
			}
		}
	}
	return fixes, nil
}

// movedSince re-reads the versions of the requests fixes touch: those that
// changed since the sweep read them (or cannot be read now) are left to
// their own index updates and the next sweep.
func (s *Store) movedSince(ctx context.Context, fixes []indexFix, versions map[int64]int64) (map[int64]bool, error) {
	ids := map[int64]*redis.StringCmd{}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, f := range fixes {
			id, err := strconv.ParseInt(f.member, 10, 64)
			if err != nil || ids[id] != nil {
				continue
			}
			ids[id] = p.HGet(ctx, s.docKey(id), "version")
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("re-read versions: %w", err)
	}
	moved := map[int64]bool{}
	for id, c := range ids {
		v, err := c.Int64()
		if isNil(err) {
			v = 0
		} else if err != nil {
			moved[id] = true
			continue
		}
		if v != versions[id] {
			moved[id] = true
		}
	}
	return moved, nil
}

// repairRegistries drops owners and kinds whose index is empty, so the
// registry sets do not grow with names that no request uses any more.
func (s *Store) repairRegistries(ctx context.Context, want map[string]map[string]float64) error {
	for _, reg := range s.registries() {
		names, err := s.rdb.SMembers(ctx, reg.set).Result()
		if err != nil {
			return fmt.Errorf("read %s: %w", reg.set, err)
		}
		for _, n := range names {
			if len(want[reg.key(n)]) > 0 {
				continue
			}
			// Only when the index is really empty now: a request may have
			// been created for this owner since the documents were read.
			if c, err := s.rdb.ZCard(ctx, reg.key(n)).Result(); err == nil && c == 0 {
				if err := s.rdb.SRem(ctx, reg.set, n).Err(); err != nil {
					return fmt.Errorf("prune %s: %w", reg.set, err)
				}
			}
		}
	}
	return nil
}
