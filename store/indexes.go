package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// Query selects requests through the indexes. Empty fields do not filter.
type Query struct {
	States []request.State
	Owner  string // requester
	Kind   request.Kind
	Limit  int  // 0: no limit
	Newest bool // newest UpdatedAt first; else oldest first
}

// indexCmds queues on p the index updates of r: it puts r into the indexes
// of its state, owner and kind, and takes it out of every other state index.
// Create and Transition send them after the document write, in the pipeline
// of their other follow-up steps. They are idempotent, so a crash in between
// is healed by the next Sweep; failures are reported to the error handler
// for the same reason. prev, when not nil, is the request before the change:
// a Mutate that moved it to another owner or kind takes it out of the old
// indexes.
func (s *Store) indexCmds(ctx context.Context, p redis.Pipeliner, r, prev *request.Request, created bool) {
	member := strconv.FormatInt(r.ID, 10)
	score := unixMS(r.UpdatedAt)
	// Every other state, not just the previous one: an index left stale by
	// an earlier crash is cleaned by the next transition too. A request
	// just created (its document written by this create, under a fresh id)
	// is in no index yet.
	for _, st := range request.AllStates {
		if st != r.State && !created {
			p.ZRem(ctx, s.stateKey(st), member)
		}
	}
	p.ZAdd(ctx, s.stateKey(r.State), redis.Z{Score: score, Member: member})
	if r.Requester != "" {
		p.ZAdd(ctx, s.ownerKey(r.Requester), redis.Z{Score: score, Member: member})
		p.SAdd(ctx, s.ownersKey(), r.Requester)
	}
	p.ZAdd(ctx, s.kindKey(r.Kind), redis.Z{Score: score, Member: member})
	p.SAdd(ctx, s.kindsKey(), string(r.Kind))
	s.digestIndexes(ctx, p, r, prev)
	if prev != nil && prev.Requester != r.Requester && prev.Requester != "" {
		p.ZRem(ctx, s.ownerKey(prev.Requester), member)
	}
	if prev != nil && prev.Kind != r.Kind {
		p.ZRem(ctx, s.kindKey(prev.Kind), member)
	}
}

// Count returns how many requests the state indexes hold in states (in every
// state when none is given).
func (s *Store) Count(ctx context.Context, states ...request.State) (int64, error) {
	if len(states) == 0 {
		states = request.AllStates
	}
	cmds := make([]*redis.IntCmd, len(states))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, st := range states {
			cmds[i] = p.ZCard(ctx, s.stateKey(st))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	var n int64
	for _, c := range cmds {
		n += c.Val()
	}
	return n, nil
}

// defaultListPage is how many index entries List reads from one index at a
// time.
const defaultListPage = 200

// List returns the requests that match q, ordered by UpdatedAt. It walks the
// sorted-set indexes page by page (merging several state indexes), loads the
// documents with pipelined reads and checks each against q, so an index that
// is stale until the next sweep never yields a wrong request.
func (s *Store) List(ctx context.Context, q Query) ([]*request.Request, error) {
	var sources []string
	switch {
	case len(q.States) > 0:
		for _, st := range q.States {
			sources = append(sources, s.stateKey(st))
		}
	case q.Owner != "":
		sources = []string{s.ownerKey(q.Owner)}
	case q.Kind != "":
		sources = []string{s.kindKey(q.Kind)}
	default:
		for _, st := range request.AllStates {
			sources = append(sources, s.stateKey(st))
		}
	}
	// Read a little more than asked, as some entries may be filtered out.
	page := s.listPage
	if q.Limit > 0 {
		page = min(max(2*q.Limit, 10), s.listPage)
	}
	m := &merger{s: s, newest: q.Newest, heads: make([]source, len(sources))}
	for i, key := range sources {
		m.heads[i].key = key
	}
	var out []*request.Request
	seen := map[int64]bool{}
	for q.Limit <= 0 || len(out) < q.Limit {
		ids, err := m.next(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		docs, _, err := s.readDocs(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
		for _, r := range docs {
			if r == nil || seen[r.ID] || !q.matches(r) {
				continue
			}
			seen[r.ID] = true
			out = append(out, r)
			if q.Limit > 0 && len(out) == q.Limit {
				break
			}
		}
	}
	return out, nil
}

func (q Query) matches(r *request.Request) bool {
	if len(q.States) > 0 && !inStates(r.State, q.States) {
		return false
	}
	if q.Owner != "" && r.Requester != q.Owner {
		return false
	}
	return q.Kind == "" || r.Kind == q.Kind
}

// source is one sorted set being read in pages by the merger.
type source struct {
	key    string
	buf    []redis.Z
	offset int64
	done   bool
}

// merger yields the ids of several sorted sets in one score order, reading
// each a page at a time; sorted sets in different slots cannot be combined
// on the server (no ZUNION on a cluster), so they are merged here.
type merger struct {
	s      *Store
	newest bool
	heads  []source
}

func (m *merger) fill(ctx context.Context, src *source, page int) error {
	if src.done || len(src.buf) > 0 {
		return nil
	}
	var zs []redis.Z
	var err error
	stop := src.offset + int64(page) - 1
	if m.newest {
		zs, err = m.s.rdb.ZRevRangeWithScores(ctx, src.key, src.offset, stop).Result()
	} else {
		zs, err = m.s.rdb.ZRangeWithScores(ctx, src.key, src.offset, stop).Result()
	}
	if err != nil {
		return fmt.Errorf("read index %s: %w", src.key, err)
	}
	src.offset += int64(len(zs))
	src.buf = zs
	if len(zs) < page {
		src.done = true
	}
	return nil
}

// next returns up to n ids in merged order, empty when all sources are done.
func (m *merger) next(ctx context.Context, n int) ([]int64, error) {
	var ids []int64
	for len(ids) < n {
		best := -1
		for i := range m.heads {
			h := &m.heads[i]
			if err := m.fill(ctx, h, n); err != nil {
				return nil, err
			}
			if len(h.buf) == 0 {
				continue
			}
			if best < 0 || m.before(h.buf[0], m.heads[best].buf[0]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		z := m.heads[best].buf[0]
		m.heads[best].buf = m.heads[best].buf[1:]
		member, _ := z.Member.(string)
		if id, err := strconv.ParseInt(member, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// before orders entries the way Redis orders a sorted set (score, then
// member bytes), so the merge agrees with the order within each source.
func (m *merger) before(a, b redis.Z) bool {
	if a.Score != b.Score {
		if m.newest {
			return a.Score > b.Score
		}
		return a.Score < b.Score
	}
	am, _ := a.Member.(string)
	bm, _ := b.Member.(string)
	if m.newest {
		return am > bm
	}
	return am < bm
}

// InStates lists up to limit requests in states, least recently updated
// first (the worker's requeue of lost jobs reads it).
func (s *Store) InStates(ctx context.Context, states []request.State, limit int) ([]*request.Request, error) {
	return s.List(ctx, Query{States: states, Limit: limit})
}
