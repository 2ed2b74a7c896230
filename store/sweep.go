package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

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
	// want maps an index key to the members it should hold.
	want := map[string]map[string]float64{}
	for _, st := range request.AllStates {
		want[s.stateKey(st)] = map[string]float64{}
	}
	versions := map[int64]int64{}
	extIDs := map[string][]*request.Request{}
	add := func(key, member string, score float64) {
		if want[key] == nil {
			want[key] = map[string]float64{}
		}
		want[key][member] = score
	}
	digest := newDigestSweep()
	for lo := int64(1); lo <= last; lo += sweepBatch {
		ids := make([]int64, 0, sweepBatch)
		for id := lo; id < lo+sweepBatch && id <= last; id++ {
			ids = append(ids, id)
		}
		docs, damaged, err := s.readDocs(ctx, ids)
		if err != nil {
			return rep, fmt.Errorf("sweep: %w", err)
		}
		rep.Damaged += damaged
		for _, r := range docs {
			if r == nil {
				continue
			}
			rep.Requests++
			versions[r.ID] = r.Version
			m, score := strconv.FormatInt(r.ID, 10), unixMS(r.UpdatedAt)
			add(s.stateKey(r.State), m, score)
			if r.Requester != "" {
				add(s.ownerKey(r.Requester), m, score)
			}
			add(s.kindKey(r.Kind), m, score)
			digest.see(r)
			if r.ExternalID != "" {
				// One reservation for ids that differ only in case.
				ext := strings.ToUpper(r.ExternalID)
				extIDs[ext] = append(extIDs[ext], r)
			}
		}
	}
	digest.want(s, want)
	// Owner and kind indexes that no document wants any more are found
	// through the registry sets.
	for _, reg := range s.registries() {
		names, err := s.rdb.SMembers(ctx, reg.set).Result()
		if err != nil {
			return rep, fmt.Errorf("sweep: read %s: %w", reg.set, err)
		}
		for _, n := range names {
			if want[reg.key(n)] == nil {
				want[reg.key(n)] = map[string]float64{}
			}
		}
	}
	if err := s.repairIndexes(ctx, want, versions, last, &rep); err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	if err := s.repairRegistries(ctx, want); err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	if err := s.foldReservations(ctx); err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	if err := s.repairReservations(ctx, extIDs, &rep); err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	if err := s.freeOrphans(ctx, s.mark.settled(last, s.clock()), &rep); err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	if legacy {
		// The reservations live under their new keys now: drop the old ones
		// and the old counter, so the next sweep has nothing to move.
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, reqs := range extIDs {
				for _, r := range reqs {
					p.Del(ctx, s.legacyExtIDKey(r.ExternalID))
				}
			}
			p.Del(ctx, s.legacyCounterKey())
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("sweep: drop the keys of before the {ids} tag: %w", err)
		}
	}
	return rep, nil
}

// adoptLegacyCounter raises the request counter to the counter of before the
// {ids} hash tag, when that still exists (a store written by an older
// version): ids are never handed out twice, and the sweep that follows reads
// every document and restores the reservations of active requests under
// their new keys. It reports whether the old counter was there.
func (s *Store) adoptLegacyCounter(ctx context.Context) (bool, error) {
	old, err := s.rdb.Get(ctx, s.legacyCounterKey()).Int64()
	if isNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the counter of before the {ids} tag: %w", err)
	}
	if err := raiseScript.Run(ctx, s.rdb, []string{s.counterKey()}, old).Err(); err != nil {
		return true, fmt.Errorf("adopt the counter of before the {ids} tag: %w", err)
	}
	return true, nil
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
	type fix struct {
		key, member string
		score       float64
		remove      bool
	}
	var fixes []fix
	for key, members := range want {
		have, err := s.rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		if err != nil {
			return fmt.Errorf("read index %s: %w", key, err)
		}
		seen := map[string]bool{}
		for _, z := range have {
			m, _ := z.Member.(string)
			seen[m] = true
			score, ok := members[m]
			switch {
			case !ok:
				// Entries of ids created after the counter was read are
				// someone else's fresh writes, not damage.
				if id, err := strconv.ParseInt(m, 10, 64); err == nil && id > last {
					continue
				}
				fixes = append(fixes, fix{key: key, member: m, remove: true})
			case score != z.Score:
				fixes = append(fixes, fix{key: key, member: m, score: score})
			}
		}
		for m, score := range members {
			if !seen[m] {
				fixes = append(fixes, fix{key: key, member: m, score: score})
			}
		}
	}
	if len(fixes) == 0 {
		return nil
	}
	// Re-read the versions of the requests to be fixed.
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
		return fmt.Errorf("re-read versions: %w", err)
	}
	moved := map[int64]bool{}
	for id, c := range ids {
		v, err := c.Int64()
		if isNil(err) {
			v = 0
		} else if err != nil {
			moved[id] = true // unreadable now: leave for the next sweep
			continue
		}
		if v != versions[id] {
			moved[id] = true
		}
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

// repairReservations frees reservations held by requests that ended (or by
// a request that does not name that external id any more) and restores the
// reservation of the active request that names it, when it is free.
func (s *Store) repairReservations(ctx context.Context, byExt map[string][]*request.Request, rep *SweepReport) error {
	for ext, reqs := range byExt {
		holder, err := s.ByExternalID(ctx, ext)
		if err != nil && !isNotFound(err) {
			return err
		}
		var active *request.Request
		for _, r := range reqs {
			if !r.State.ReleasesExternalID() && (active == nil || r.ID < active.ID) {
				active = r
			}
		}
		if holder != 0 {
			var held *request.Request
			for _, r := range reqs {
				if r.ID == holder {
					held = r
				}
			}
			if held == nil || !held.State.ReleasesExternalID() {
				// Held by an active request, or by one outside this sweep
				// (created since, or still being created): fine.
				continue
			}
			n, err := deleteIfValueScript.Run(ctx, s.rdb, []string{s.extIDKey(ext)}, strconv.FormatInt(holder, 10)).Int()
			if err != nil {
				return fmt.Errorf("release external-id %q: %w", ext, err)
			}
			rep.Released += n
		}
		if active != nil {
			ok, err := s.rdb.SetNX(ctx, s.extIDKey(ext), active.ID, 0).Result()
			if err != nil {
				return fmt.Errorf("restore external-id %q: %w", ext, err)
			}
			if ok {
				rep.Restored++
			}
		}
	}
	return nil
}

// settleAfter is how long after a sweep read the request counter every
// create that had taken an id by then is over, written or failed: its two
// round trips take milliseconds, and this is the life of a provisional
// reservation, so a process stopped in between has lost its reservation by
// then anyway.
const settleAfter = provisionalReservation

// sweepMark remembers the request counter as a sweep read it, and when. It
// is shared by the copies of a Store, like groupFlag.
type sweepMark struct {
	mu   sync.Mutex
	last int64
	at   time.Time
}

// settled records last as read at now and returns the highest request id
// whose create is surely over: the counter of a sweep at least settleAfter
// ago, or 0 when there is none yet (the first sweep of a process, and sweeps
// in quick succession, free no orphans).
func (m *sweepMark) settled(last int64, now time.Time) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.at.IsZero() {
		m.last, m.at = last, now
		return 0
	}
	if now.Sub(m.at) < settleAfter {
		return 0 // keep the older mark: it comes of age first
	}
	cut := m.last
	m.last, m.at = last, now
	return cut
}

// freeOrphans frees the external id reservations held by a request that was
// never written: its create took the id and confirmed the reservation in the
// pipeline of the document write, the write failed and the release after it
// failed too. Only holders up to cut are looked at, so a create still on its
// way (its reservation confirmed, its document not yet written, as a cluster
// may apply them in either order) is never taken for an orphan. The
// reservations all live under the {ids} tag, on one node of a cluster; they
// are found with SCAN (one per active request with an external id), the
// documents checked with EXISTS.
func (s *Store) freeOrphans(ctx context.Context, cut int64, rep *SweepReport) error {
	if cut <= 0 {
		return nil
	}
	return s.scanReservations(ctx, func(keys []string) error { return s.freeOrphansAmong(ctx, keys, cut, rep) })
}

// freeOrphansAmong frees those of the reservation keys whose holder is at
// most cut and has no document: one pipeline reads the holders, one checks
// their documents, and each orphan is deleted only if it still holds the
// same id.
func (s *Store) freeOrphansAmong(ctx context.Context, keys []string, cut int64, rep *SweepReport) error {
	if len(keys) == 0 {
		return nil
	}
	holders := make([]*redis.StringCmd, len(keys))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			holders[i] = p.Get(ctx, k)
		}
		return nil
	}); err != nil && !isNil(err) {
		return fmt.Errorf("read external id reservations: %w", err)
	}
	type candidate struct {
		key    string
		holder int64
		doc    *redis.IntCmd
	}
	var cands []candidate
	for i, h := range holders {
		id, err := h.Int64()
		if err != nil || id <= 0 || id > cut {
			continue // gone since the SCAN, not a request id, or too young
		}
		cands = append(cands, candidate{key: keys[i], holder: id})
	}
	if len(cands) == 0 {
		return nil
	}
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cands {
			cands[i].doc = p.Exists(ctx, s.docKey(cands[i].holder))
		}
		return nil
	}); err != nil {
		return fmt.Errorf("check the holders of external id reservations: %w", err)
	}
	for _, c := range cands {
		if c.doc.Val() != 0 {
			continue
		}
		n, err := deleteIfValueScript.Run(ctx, s.rdb, []string{c.key}, strconv.FormatInt(c.holder, 10)).Int()
		if err != nil {
			return fmt.Errorf("free the reservation of %s, never written: %w", request.FormatID(c.holder), err)
		}
		rep.Orphans += n
	}
	return nil
}

// globEscape quotes the characters SCAN's MATCH treats as a pattern, so a
// key prefix is matched as written.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
