package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/provisioning"
)

// provisionalReservation is how long an external id reservation lives before
// its request document is written and the reservation made permanent: a
// process that dies in between leaves nothing that blocks the id for good.
const provisionalReservation = 5 * time.Minute

// maxTransitionAttempts bounds the re-read-and-retry loop of Transition when
// writers race on the version of one request.
const maxTransitionAttempts = 10

// Create stores r as a new request: it assigns the next id, reserves
// r.ExternalID when set (one active request per external id), writes the
// document with version 1 and its "created" audit entry atomically, then
// updates the indexes. It sets r.ID, r.Version, r.CreatedAt and r.UpdatedAt.
// A held external id is *provisioning.ExternalIDTaken.
func (s *Store) Create(ctx context.Context, r *provisioning.Request) error {
	if r == nil {
		return errors.New("create request: nil request")
	}
	if r.Kind == "" {
		return errors.New("create request: kind is empty")
	}
	if r.State == "" {
		r.State = provisioning.StateDraft
	}
	if !r.State.Valid() {
		return fmt.Errorf("create request: unknown state %q", r.State)
	}
	// A request created in a state that holds nothing (an imported rejected
	// one, say) reserves nothing either.
	reserve := r.ExternalID != "" && !r.State.ReleasesExternalID()
	// Refuse a held external id before taking a number, so refusals do not
	// leave gaps in the request ids.
	if reserve {
		if holder, err := s.ByExternalID(ctx, r.ExternalID); err == nil {
			return &provisioning.ExternalIDTaken{ExternalID: r.ExternalID, Holder: holder}
		} else if !errors.Is(err, provisioning.ErrNotFound) {
			return fmt.Errorf("create request: %w", err)
		}
	}
	id, err := s.rdb.Incr(ctx, s.counterKey()).Result()
	if err != nil {
		return fmt.Errorf("create request: next id: %w", err)
	}
	idStr := strconv.FormatInt(id, 10)
	if reserve {
		if err := s.reserve(ctx, r.ExternalID, id); err != nil {
			return err
		}
	}

	now := s.clock()
	c := *r
	c.ID, c.Version, c.CreatedAt, c.UpdatedAt = id, 1, now, now
	if err := s.writeNew(ctx, &c); err != nil {
		if reserve {
			// Best effort: a reservation left behind expires on its own.
			if rerr := deleteIfValueScript.Run(ctx, s.rdb, []string{s.extIDKey(c.ExternalID)}, idStr).Err(); rerr != nil {
				s.onError("create: release external id", rerr)
			}
		}
		return err
	}
	if reserve {
		if err := persistIfValueScript.Run(ctx, s.rdb, []string{s.extIDKey(c.ExternalID)}, idStr).Err(); err != nil {
			s.onError("create: confirm external id "+c.ExternalID, err)
		}
	}
	*r = c
	s.updateIndexes(ctx, &c, nil)
	return nil
}

// reserve takes ext for request id, provisionally (see provisionalReservation).
func (s *Store) reserve(ctx context.Context, ext string, id int64) error {
	key := s.extIDKey(ext)
	// A holder can vanish between SET NX and GET (its reservation expired or
	// was released): try again a few times rather than report a holder of 0.
	for range 3 {
		ok, err := s.rdb.SetNX(ctx, key, id, provisionalReservation).Result()
		if err != nil {
			return fmt.Errorf("create request: reserve external-id %q: %w", ext, err)
		}
		if ok {
			return nil
		}
		holder, err := s.ByExternalID(ctx, ext)
		if errors.Is(err, provisioning.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("create request: %w", err)
		}
		return &provisioning.ExternalIDTaken{ExternalID: ext, Holder: holder}
	}
	return fmt.Errorf("create request: reserve external-id %q: holder keeps changing", ext)
}

func (s *Store) writeNew(ctx context.Context, r *provisioning.Request) error {
	fields, err := encodeDoc(r)
	if err != nil {
		return fmt.Errorf("create %s: %w", r.Ref(), err)
	}
	entry, err := encodeAudit(provisioning.AuditEntry{
		At: r.CreatedAt, Actor: r.Requester, Action: "created", To: r.State,
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", r.Ref(), err)
	}
	args := append([]any{entry}, pairs(fields)...)
	n, err := createScript.Run(ctx, s.rdb, []string{s.docKey(r.ID), s.auditKey(r.ID)}, args...).Int()
	if err != nil {
		return fmt.Errorf("create %s: write: %w", r.Ref(), err)
	}
	if n == 0 {
		// Only possible when the counter was reset under existing documents.
		return fmt.Errorf("create %s: a document with this id already exists", r.Ref())
	}
	return nil
}

// Get returns request id, or an error wrapping provisioning.ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (*provisioning.Request, error) {
	r, _, err := s.load(ctx, id)
	return r, err
}

// load reads a document together with its newest audit entry in one MULTI,
// so a conflict reports the entry that belongs to the state it shows.
func (s *Store) load(ctx context.Context, id int64) (*provisioning.Request, provisioning.AuditEntry, error) {
	var last provisioning.AuditEntry
	if id <= 0 {
		return nil, last, notFound(provisioning.FormatID(id))
	}
	var doc *redis.MapStringStringCmd
	var tail *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		doc = p.HGetAll(ctx, s.docKey(id))
		tail = p.LIndex(ctx, s.auditKey(id), -1)
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, last, fmt.Errorf("get %s: %w", provisioning.FormatID(id), err)
	}
	fields := doc.Val()
	if len(fields) == 0 {
		return nil, last, notFound(provisioning.FormatID(id))
	}
	r, err := decodeDoc(id, fields)
	if err != nil {
		return nil, last, err
	}
	if t, err := tail.Result(); err == nil {
		// A damaged audit entry must not hide the request itself.
		last, _ = decodeAudit(t)
	}
	return r, last, nil
}

// Transition moves request id as t describes, atomically with its audit
// entry; see provisioning.Transition. A request not in t.From is
// *provisioning.StateConflict carrying the request and its last audit entry.
func (s *Store) Transition(ctx context.Context, id int64, t provisioning.Transition) (*provisioning.Request, error) {
	ref := provisioning.FormatID(id)
	if len(t.From) == 0 {
		return nil, fmt.Errorf("transition %s: no allowed source states", ref)
	}
	if t.To != "" && !t.To.Valid() {
		return nil, fmt.Errorf("transition %s: unknown state %q", ref, t.To)
	}
	for range maxTransitionAttempts {
		cur, last, err := s.load(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("transition %s: %w", ref, err)
		}
		if !inStates(cur.State, t.From) {
			return nil, &provisioning.StateConflict{Current: cur, Last: last}
		}
		before, err := encodeDoc(cur)
		if err != nil {
			return nil, fmt.Errorf("transition %s: %w", ref, err)
		}
		// cur is a fresh decode, so Mutate works on a private copy; prev
		// keeps what the indexes hold now.
		prev := *cur
		next := cur
		from := cur.State
		oldVersion := cur.Version
		if t.Mutate != nil {
			if err := t.Mutate(next); err != nil {
				return nil, fmt.Errorf("transition %s: %w", ref, err)
			}
		}
		// Identity and bookkeeping are the store's, whatever Mutate did.
		next.ID, next.CreatedAt = id, cur.CreatedAt
		next.Version = oldVersion + 1
		next.State = from
		if t.To != "" {
			next.State = t.To
		}
		next.UpdatedAt = s.clock()
		ok, err := s.compareAndSet(ctx, next, before, oldVersion, from, provisioning.AuditEntry{
			At: next.UpdatedAt, Actor: t.Actor, Action: t.Action, From: from, To: next.State, Note: t.Note,
		})
		if err != nil {
			return nil, fmt.Errorf("transition %s: %w", ref, err)
		}
		if !ok {
			continue // someone wrote first: re-read and decide again
		}
		s.updateIndexes(ctx, next, &prev)
		if next.ExternalID != "" && next.State.ReleasesExternalID() {
			s.releaseExternalID(ctx, next.ExternalID, id)
		}
		return next, nil
	}
	return nil, fmt.Errorf("transition %s: gave up after %d concurrent updates", ref, maxTransitionAttempts)
}

// compareAndSet writes next over the document read as before, if it still has
// version and state. It reports false when another writer got there first.
func (s *Store) compareAndSet(ctx context.Context, next *provisioning.Request, before map[string]string,
	version int64, state provisioning.State, e provisioning.AuditEntry) (bool, error) {
	after, err := encodeDoc(next)
	if err != nil {
		return false, err
	}
	entry, err := encodeAudit(e)
	if err != nil {
		return false, err
	}
	var del []any
	for k := range before {
		if _, ok := after[k]; !ok {
			del = append(del, k)
		}
	}
	for k, v := range after {
		if before[k] == v {
			delete(after, k) // write only what changed
		}
	}
	args := []any{storedVersion(version), storedState(state), entry, len(del)}
	args = append(args, del...)
	args = append(args, pairs(after)...)
	res, err := transitionScript.Run(ctx, s.rdb, []string{s.docKey(next.ID), s.auditKey(next.ID)}, args...).Slice()
	if err != nil {
		return false, fmt.Errorf("compare-and-set: %w", err)
	}
	if len(res) == 0 {
		return false, errors.New("compare-and-set: empty reply")
	}
	switch code, _ := res[0].(int64); code {
	case 1:
		return true, nil
	case -1:
		return false, notFound(next.Ref())
	default:
		return false, nil
	}
}

// releaseExternalID frees ext if id still holds it. A failure is reported and
// left to the sweeper: the transition itself has happened.
func (s *Store) releaseExternalID(ctx context.Context, ext string, id int64) {
	err := deleteIfValueScript.Run(ctx, s.rdb, []string{s.extIDKey(ext)}, strconv.FormatInt(id, 10)).Err()
	if err != nil {
		s.onError("release external id "+ext, err)
	}
}

func inStates(st provisioning.State, set []provisioning.State) bool {
	for _, v := range set {
		if v == st {
			return true
		}
	}
	return false
}

// Audit returns the audit trail of request id, oldest first.
func (s *Store) Audit(ctx context.Context, id int64) ([]provisioning.AuditEntry, error) {
	ref := provisioning.FormatID(id)
	var exists *redis.IntCmd
	var list *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.docKey(id))
		list = p.LRange(ctx, s.auditKey(id), 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", ref, err)
	}
	if exists.Val() == 0 {
		return nil, notFound(ref)
	}
	out := make([]provisioning.AuditEntry, 0, len(list.Val()))
	for i, raw := range list.Val() {
		e, err := decodeAudit(raw)
		if err != nil {
			return nil, fmt.Errorf("audit %s entry %d: %w", ref, i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// AppendAudit records something that happened to request id without
// changing it (a snooze, a reminder, an auto-approval note). A zero e.At is
// set to now.
func (s *Store) AppendAudit(ctx context.Context, id int64, e provisioning.AuditEntry) error {
	ref := provisioning.FormatID(id)
	if e.At.IsZero() {
		e.At = s.clock()
	}
	entry, err := encodeAudit(e)
	if err != nil {
		return fmt.Errorf("audit %s: %w", ref, err)
	}
	n, err := appendAuditScript.Run(ctx, s.rdb, []string{s.docKey(id), s.auditKey(id)}, entry).Int()
	if err != nil {
		return fmt.Errorf("audit %s: %w", ref, err)
	}
	if n == 0 {
		return notFound(ref)
	}
	return nil
}

// ByExternalID returns the request holding the reservation of ext.
func (s *Store) ByExternalID(ctx context.Context, ext string) (int64, error) {
	v, err := s.rdb.Get(ctx, s.extIDKey(ext)).Result()
	if isNil(err) {
		return 0, notFound(fmt.Sprintf("external-id %q", ext))
	}
	if err != nil {
		return 0, fmt.Errorf("external-id %q: %w", ext, err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("external-id %q: reservation holds %q, not a request id", ext, v)
	}
	return id, nil
}
