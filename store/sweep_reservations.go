package store

// The sweep's repair of external id reservations, and the move from the
// keys of before the {ids} hash tag.

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

// dropLegacyKeys deletes the reservations and the counter of before the
// {ids} hash tag.
func (s *Store) dropLegacyKeys(ctx context.Context, extIDs map[string][]*request.Request) error {
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
		return fmt.Errorf("drop the keys of before the {ids} tag: %w", err)
	}
	return nil
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
