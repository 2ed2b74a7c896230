package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// What the reminder digests read. Every item
// comes from a range of a sorted set, so building a digest costs the items
// that are due, not the requests stored. Two indexes exist for the digest
// alone, maintained with the others on every transition and rebuilt by the
// sweeper:
//
//	idx:digest:incomplete     customer and adopt requests that are done and
//	                          have no done users request; score UpdatedAt
//	idx:digest:waiting-since  waiting requests, score Result.WaitingSince: a
//	                          consent count update moves UpdatedAt but not
//	                          the start of the wait, which the thresholds need
//	idx:digest:partial        done batches with failed rows (⚠️), score
//	                          UpdatedAt: failures until retried or dismissed
//	idx:customer:<n>          the setup requests (users, locations, numbers,
//	                          corrections) of customer request R-n, score
//	                          UpdatedAt: what `status CUSTOMER` shows
//
// and small marker keys with a lifetime:
//
//	digest:<kind>:<item>      snooze / dismiss / users markers; PX ttl

func (s *Store) incompleteKey() string { return s.prefix + "idx:digest:incomplete" }
func (s *Store) waitSinceKey() string  { return s.prefix + "idx:digest:waiting-since" }
func (s *Store) partialKey() string    { return s.prefix + "idx:digest:partial" }
func (s *Store) customerKey(id int64) string {
	return s.prefix + "idx:customer:" + strconv.FormatInt(id, 10)
}
func (s *Store) digestMarkKey(kind, item string) string {
	return s.prefix + "digest:" + kind + ":" + item
}

// DigestIndex names the sorted set a DigestRange reads.
type DigestIndex int

const (
	// ByState reads idx:state:<State>, scored by UpdatedAt.
	ByState DigestIndex = iota
	// ByWaitingSince reads the waiting requests scored by when the wait began.
	ByWaitingSince
	// Incomplete reads provisioned customers without a done users request.
	Incomplete
	// Partial reads done batches with failed rows.
	Partial
)

// DigestRange is one range query of a digest: the members of Index (for
// ByState, of State's index) scored From..To inclusive, at most Limit.
type DigestRange struct {
	Index    DigestIndex
	State    request.State
	From, To time.Time // zero: open end
	Limit    int       // <= 0: 1000
	Newest   bool      // highest scores first
}

// DigestRange returns the requests in q's range whose documents still agree
// with the index (a stale entry, healed by the next sweep, never yields a
// wrong item), and how many entries the range holds in all, so a digest can
// say "… and N more" without reading them.
func (s *Store) DigestRange(ctx context.Context, q DigestRange) ([]*request.Request, int64, error) {
	key := s.incompleteKey()
	switch q.Index {
	case ByState:
		if !q.State.Valid() {
			return nil, 0, fmt.Errorf("digest range: unknown state %q", q.State)
		}
		key = s.stateKey(q.State)
	case ByWaitingSince:
		key = s.waitSinceKey()
	case Partial:
		key = s.partialKey()
	}
	lo, hi := "-inf", "+inf"
	if !q.From.IsZero() {
		lo = strconv.FormatInt(q.From.UnixMilli(), 10)
	}
	if !q.To.IsZero() {
		hi = strconv.FormatInt(q.To.UnixMilli(), 10)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	var members *redis.StringSliceCmd
	var total *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if q.Newest {
			members = p.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{Min: lo, Max: hi, Count: int64(limit)})
		} else {
			members = p.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: lo, Max: hi, Count: int64(limit)})
		}
		total = p.ZCount(ctx, key, lo, hi)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("digest range %s: %w", key, err)
	}
	ids := make([]int64, 0, len(members.Val()))
	for _, m := range members.Val() {
		if id, err := strconv.ParseInt(m, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	docs, _, err := s.readDocs(ctx, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("digest range %s: %w", key, err)
	}
	out := make([]*request.Request, 0, len(docs))
	for _, r := range docs {
		if r != nil && q.agrees(r) {
			out = append(out, r)
		}
	}
	return out, total.Val(), nil
}

func (q DigestRange) agrees(r *request.Request) bool {
	switch q.Index {
	case ByState:
		return r.State == q.State
	case ByWaitingSince:
		return r.State == request.StateWaiting
	case Partial:
		return isPartial(r)
	}
	return r.State == request.StateDone && isCustomer(r.Kind)
}

// isPartial: a done batch some of whose rows failed (⚠️).
func isPartial(r *request.Request) bool {
	return r.State == request.StateDone && r.Result.Status == request.ResultPartial
}

func isCustomer(k request.Kind) bool {
	return k == request.KindCustomer || k == request.KindAdopt
}

// Owners returns everyone who ever submitted a request (the owner index
// registry): the people a digest may be for.
func (s *Store) Owners(ctx context.Context) ([]string, error) {
	owners, err := s.rdb.SMembers(ctx, s.ownersKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("read owners: %w", err)
	}
	return owners, nil
}

// AuditHas reports which of ids have an audit entry with action (e.g. a
// rejected request "edited": resubmitted). One pipelined read.
func (s *Store) AuditHas(ctx context.Context, ids []int64, action string) (map[int64]bool, error) {
	cmds := make([]*redis.StringSliceCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.LRange(ctx, s.auditKey(id), 0, -1)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read audits: %w", err)
	}
	out := map[int64]bool{}
	for i, c := range cmds {
		for _, raw := range c.Val() {
			if e, err := decodeAudit(raw); err == nil && e.Action == action {
				out[ids[i]] = true
				break
			}
		}
	}
	return out, nil
}

// MarkDigestItem records a marker of kind ("snooze", "dismiss", ...) for a
// digest item, holding until (read back by DigestMarks); the key itself
// expires after ttl.
func (s *Store) MarkDigestItem(ctx context.Context, kind, item string, until time.Time, ttl time.Duration) error {
	if kind == "" || item == "" || ttl < time.Millisecond {
		return errors.New("digest marker: empty kind or item, or no ttl")
	}
	if err := s.rdb.Set(ctx, s.digestMarkKey(kind, item), until.UnixMilli(), ttl).Err(); err != nil {
		return fmt.Errorf("digest marker %s %s: %w", kind, item, err)
	}
	return nil
}

// DigestMarks returns the markers of kind that exist for items, by item.
func (s *Store) DigestMarks(ctx context.Context, kind string, items []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(items) == 0 {
		return out, nil
	}
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = s.digestMarkKey(kind, it)
	}
	// One GET per key rather than MGET: the keys may live in different
	// cluster slots.
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("digest markers %s: %w", kind, err)
	}
	for i, c := range cmds {
		if ms, err := c.Int64(); err == nil {
			out[items[i]] = time.UnixMilli(ms).UTC()
		}
	}
	return out, nil
}

// IdleDrafts returns, per owner, drafts last saved at or before before, at
// most perOwner each (oldest first). One pipelined range per owner and one
// pipelined read of the drafts found.
func (d *Drafts) IdleDrafts(ctx context.Context, owners []string, before time.Time, perOwner int) (map[string][]*Draft, error) {
	if perOwner <= 0 {
		perOwner = 100
	}
	ranges := make([]*redis.StringSliceCmd, len(owners))
	_, err := d.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, o := range owners {
			ranges[i] = p.ZRangeByScore(ctx, d.ownerKey(o), &redis.ZRangeBy{
				Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: int64(perOwner)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("idle drafts: %w", err)
	}
	type ref struct {
		owner string
		id    int64
	}
	var refs []ref
	for i, c := range ranges {
		for _, m := range c.Val() {
			if id, err := strconv.ParseInt(m, 10, 64); err == nil {
				refs = append(refs, ref{owners[i], id})
			}
		}
	}
	docs := make([]*redis.MapStringStringCmd, len(refs))
	_, err = d.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range refs {
			docs[i] = p.HGetAll(ctx, d.docKey(r.id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("idle drafts: %w", err)
	}
	out := map[string][]*Draft{}
	for i, c := range docs {
		if len(c.Val()) == 0 {
			continue // expired: DraftsOf prunes the entry
		}
		dr, err := decodeDraft(refs[i].id, c.Val())
		if err != nil || dr.Owner != refs[i].owner || dr.UpdatedAt.After(before) {
			continue
		}
		out[dr.Owner] = append(out[dr.Owner], dr)
	}
	return out, nil
}

// digestIndexes queues the digest index updates for r (inside indexCmds'
// pipeline, so they are as idempotent as the others).
func (s *Store) digestIndexes(ctx context.Context, p redis.Pipeliner, r, prev *request.Request) {
	member := strconv.FormatInt(r.ID, 10)
	if r.State == request.StateWaiting && !r.Result.WaitingSince.IsZero() {
		p.ZAdd(ctx, s.waitSinceKey(), redis.Z{Score: unixMS(r.Result.WaitingSince), Member: member})
	} else {
		p.ZRem(ctx, s.waitSinceKey(), member)
	}
	if isPartial(r) {
		p.ZAdd(ctx, s.partialKey(), redis.Z{Score: unixMS(r.UpdatedAt), Member: member})
	} else {
		p.ZRem(ctx, s.partialKey(), member)
	}
	if c := customerOf(r); c != 0 {
		p.ZAdd(ctx, s.customerKey(c), redis.Z{Score: unixMS(r.UpdatedAt), Member: member})
	}
	switch {
	case isCustomer(r.Kind) && r.State == request.StateDone:
		// Only on the way into done: a later update of a done customer
		// must not bring back one that has users since.
		if prev == nil || prev.State != request.StateDone {
			p.ZAdd(ctx, s.incompleteKey(), redis.Z{Score: unixMS(r.UpdatedAt), Member: member})
		}
	case isCustomer(r.Kind):
		p.ZRem(ctx, s.incompleteKey(), member)
	case r.State == request.StateDone && (r.Kind == request.KindUsers || r.Kind == request.KindDelete):
		// Users arrived, or the customer is gone: nothing to remind of.
		if c := customerOf(r); c != 0 {
			p.ZRem(ctx, s.incompleteKey(), strconv.FormatInt(c, 10))
		}
	}
}

// customerOf is the customer request a setup request is for (0: none).
func customerOf(r *request.Request) int64 {
	ref, _ := r.Customer()
	return ref.RequestID
}

// digestSweep collects what the digest indexes should hold while Sweep
// reads every document; a customer's users request may come before or
// after it in id order, so the verdict waits for the end.
type digestSweep struct {
	done      map[int64]float64 // done customers and adopts
	covered   map[int64]bool    // customers with a done users or delete request
	waiting   map[string]float64
	partial   map[string]float64
	customers map[int64]map[string]float64 // customer request → its setup requests
}

func newDigestSweep() *digestSweep {
	return &digestSweep{done: map[int64]float64{}, covered: map[int64]bool{}, waiting: map[string]float64{},
		partial: map[string]float64{}, customers: map[int64]map[string]float64{}}
}

func (d *digestSweep) see(r *request.Request) {
	member := strconv.FormatInt(r.ID, 10)
	if r.State == request.StateWaiting && !r.Result.WaitingSince.IsZero() {
		d.waiting[member] = unixMS(r.Result.WaitingSince)
	}
	if isPartial(r) {
		d.partial[member] = unixMS(r.UpdatedAt)
	}
	if c := customerOf(r); c != 0 {
		if d.customers[c] == nil {
			d.customers[c] = map[string]float64{}
		}
		d.customers[c][member] = unixMS(r.UpdatedAt)
	}
	switch {
	case isCustomer(r.Kind) && r.State == request.StateDone:
		d.done[r.ID] = unixMS(r.UpdatedAt)
	case r.State == request.StateDone && (r.Kind == request.KindUsers || r.Kind == request.KindDelete):
		if c := customerOf(r); c != 0 {
			d.covered[c] = true
		}
	}
}

// want adds the digest indexes' wanted members to Sweep's map.
func (d *digestSweep) want(s *Store, want map[string]map[string]float64) {
	inc := map[string]float64{}
	for id, score := range d.done {
		if !d.covered[id] {
			inc[strconv.FormatInt(id, 10)] = score
		}
	}
	want[s.incompleteKey()] = inc
	want[s.waitSinceKey()] = d.waiting
	want[s.partialKey()] = d.partial
	for c, members := range d.customers {
		want[s.customerKey(c)] = members
	}
}

// CustomerRequests returns the setup requests (users, locations, numbers,
// corrections) of customer request id, newest first, at most limit.
func (s *Store) CustomerRequests(ctx context.Context, id int64, limit int) ([]*request.Request, int64, error) {
	if limit <= 0 {
		limit = 1000
	}
	key := s.customerKey(id)
	var members *redis.StringSliceCmd
	var total *redis.IntCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		members = p.ZRevRange(ctx, key, 0, int64(limit-1))
		total = p.ZCard(ctx, key)
		return nil
	}); err != nil {
		return nil, 0, fmt.Errorf("requests of %s: %w", request.FormatID(id), err)
	}
	ids := make([]int64, 0, len(members.Val()))
	for _, m := range members.Val() {
		if n, err := strconv.ParseInt(m, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	docs, _, err := s.readDocs(ctx, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("requests of %s: %w", request.FormatID(id), err)
	}
	out := make([]*request.Request, 0, len(docs))
	for _, r := range docs {
		if r != nil && customerOf(r) == id {
			out = append(out, r)
		}
	}
	return out, total.Val(), nil
}
