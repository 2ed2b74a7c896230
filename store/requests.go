package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// provisionalReservation is how long an external id reservation lives before
// its request document is written and the reservation made permanent: a
// process that dies in between leaves nothing that blocks the id for good.
const provisionalReservation = 5 * time.Minute

// maxTransitionAttempts bounds the re-read-and-retry loop of Transition when
// writers race on the version of one request.
const maxTransitionAttempts = 10

// Budget is a submission budget: at most Limit requests created per Window
// under Key, a sliding window in Redis shared by every replica.
type Budget struct {
	Key    string
	Limit  int // <= 0: nothing fits
	Window time.Duration
}

// OverBudget is CreateWithin's refusal when the budget has no room left:
// nothing was created and no request id was taken.
type OverBudget struct {
	Budget Budget
}

func (e *OverBudget) Error() string {
	return fmt.Sprintf("over budget %q: %d requests per %s", e.Budget.Key, e.Budget.Limit, e.Budget.Window)
}

// Create stores r as a new request: it assigns the next id, reserves
// r.ExternalID when set (one active request per external id), writes the
// document with version 1 and its "created" audit entry atomically, then
// updates the indexes. It sets r.ID, r.Version, r.CreatedAt and r.UpdatedAt.
// A held external id is *provisioning.ExternalIDTaken.
//
// It takes two round trips: one script refuses a held external id, takes
// the next id and reserves the external id provisionally; one pipeline
// writes the document, confirms the reservation and updates the indexes.
// A refusal takes no id, so refusals leave no gaps in the request ids.
func (s *Store) Create(ctx context.Context, r *request.Request) error {
	return s.create(ctx, r, nil)
}

// CreateWithin is Create within budget b: a request that does not fit is
// *OverBudget and takes neither an id nor budget. Only a request that is
// saved uses budget; a held external id is refused first
// (*provisioning.ExternalIDTaken) and uses none. Still two round trips.
func (s *Store) CreateWithin(ctx context.Context, r *request.Request, b Budget) error {
	if b.Key == "" {
		return errors.New("create request: budget without a key")
	}
	if b.Window < time.Millisecond {
		return fmt.Errorf("create request: budget %q: window %s is too short", b.Key, b.Window)
	}
	return s.create(ctx, r, &b)
}

func (s *Store) create(ctx context.Context, r *request.Request, b *Budget) error {
	if r == nil {
		return errors.New("create request: nil request")
	}
	if r.Kind == "" {
		return errors.New("create request: kind is empty")
	}
	if r.State == "" {
		r.State = request.StateDraft
	}
	if !r.State.Valid() {
		return fmt.Errorf("create request: unknown state %q", r.State)
	}
	// A request created in a state that holds nothing (an imported rejected
	// one, say) reserves nothing either.
	reserve := r.ExternalID != "" && !r.State.ReleasesExternalID()

	// Round trip 1: refuse or take an id (and the reservation, and budget).
	keys := []string{s.counterKey()}
	args := []any{"", 0, "", 0, "", ""}
	if r.Replaces != 0 {
		args[5] = strconv.FormatInt(r.Replaces, 10)
	}
	if reserve {
		keys = append(keys, s.extIDKey(r.ExternalID))
		args[0] = provisionalReservation.Milliseconds()
	}
	var member string
	if b != nil {
		now := s.clock().UnixMilli()
		member = windowMember(now)
		keys = append(keys, s.rateKey(b.Key))
		args[1], args[2], args[3], args[4] = now, b.Limit, b.Window.Milliseconds(), member
	}
	res, err := newIDScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return fmt.Errorf("create request: next id: %w", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("create request: next id: unexpected reply %v", res)
	}
	code, _ := res[0].(int64)
	switch code {
	case 0:
		held := fmt.Sprint(res[1])
		holder, err := strconv.ParseInt(held, 10, 64)
		if err != nil {
			return fmt.Errorf("create request: external-id %q: reservation holds %q, not a request id", r.ExternalID, held)
		}
		return &request.ExternalIDTaken{ExternalID: r.ExternalID, Holder: holder}
	case -1:
		return &OverBudget{Budget: *b}
	case 1:
	default:
		return fmt.Errorf("create request: next id: unexpected reply %v", res)
	}
	id, _ := res[1].(int64)
	if id <= 0 {
		return fmt.Errorf("create request: next id: unexpected reply %v", res)
	}

	// Round trip 2: the document with its audit entry, the confirmation of
	// the reservation and the indexes, in one pipeline.
	now := s.clock()
	c := *r
	c.ID, c.Version, c.CreatedAt, c.UpdatedAt = id, 1, now, now
	err = s.writeNew(ctx, &c, reserve)
	if err != nil {
		s.undoCreate(ctx, &c, reserve, b, member)
		return err
	}
	*r = c
	return nil
}

// writeNew writes the document and first audit entry of r, confirms its
// external id reservation when reserve is set and updates the indexes, in one
// pipeline. Only a failed document write is returned; the other steps are
// reported to the error handler (the sweeper repairs them). The indexes are
// written even when the document write fails: the entries then point at
// nothing or at the wrong document, which List skips and the sweeper removes.
func (s *Store) writeNew(ctx context.Context, r *request.Request, reserve bool) error {
	fields, err := encodeDoc(r)
	if err != nil {
		return fmt.Errorf("create %s: %w", r.Ref(), err)
	}
	entry, err := encodeAudit(request.AuditEntry{
		At: r.CreatedAt, Actor: r.Requester, Action: request.ActionCreated, To: r.State,
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", r.Ref(), err)
	}
	args := append([]any{entry}, pairs(fields)...)
	docKeys := []string{s.docKey(r.ID), s.auditKey(r.ID)}
	extKeys, idArg := []string{s.extIDKey(r.ExternalID)}, strconv.FormatInt(r.ID, 10)
	var write, confirm *redis.Cmd
	cmds, _ := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		// By SHA: the scripts' text is not sent with every create. A server
		// that does not know them yet (a restart, a new cluster node) answers
		// NOSCRIPT and the script runs again below, loading it.
		write = createScript.EvalSha(ctx, p, docKeys, args...)
		if reserve {
			confirm = persistIfValueScript.EvalSha(ctx, p, extKeys, idArg)
		}
		s.indexCmds(ctx, p, r, nil, true)
		return nil
	})
	indexErr := firstErr(cmds, write, confirm)
	if isNoScript(write.Err()) {
		write = createScript.Run(ctx, s.rdb, docKeys, args...)
	}
	if confirm != nil && isNoScript(confirm.Err()) {
		confirm = persistIfValueScript.Run(ctx, s.rdb, extKeys, idArg)
	}
	n, err := write.Int()
	if err != nil {
		return fmt.Errorf("create %s: write: %w", r.Ref(), err)
	}
	if n == 0 {
		// Only possible when the counter was reset under existing documents,
		// or before the first sweep after an upgrade from the keys of before
		// the {ids} tag: adopt the old counter for the next create.
		if _, err := s.adoptLegacyCounter(ctx); err != nil {
			s.onError("create "+r.Ref(), err)
		}
		return fmt.Errorf("create %s: a document with this id already exists", r.Ref())
	}
	if confirm != nil && confirm.Err() != nil {
		s.onError("create: confirm external id "+r.ExternalID, confirm.Err())
	}
	if indexErr != nil {
		s.onError(fmt.Sprintf("index %s", r.Ref()), indexErr)
	}
	return nil
}

// isNoScript tells an EVALSHA of a script the server does not hold.
func isNoScript(err error) bool { return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") }

// undoCreate gives back what the first step of a create took when the
// document could not be written: the external id reservation and the budget
// (the id stays taken). Best effort, one round trip: a reservation left
// behind expires on its own unless its confirmation went through.
func (s *Store) undoCreate(ctx context.Context, r *request.Request, reserve bool, b *Budget, member string) {
	if !reserve && b == nil {
		return
	}
	// Also when the caller's context ended (its ack budget, say): that is
	// often why the write failed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if reserve {
			deleteIfValueScript.Eval(ctx, p, []string{s.extIDKey(r.ExternalID)}, strconv.FormatInt(r.ID, 10))
		}
		if b != nil {
			p.ZRem(ctx, s.rateKey(b.Key), member)
		}
		return nil
	})
	if err != nil {
		s.onError("create: release external id and budget of "+r.Ref(), err)
	}
}

// firstErr is the first error of cmds other than those in skip.
func firstErr(cmds []redis.Cmder, skip ...redis.Cmder) error {
	for _, c := range cmds {
		if c.Err() == nil || isNil(c.Err()) {
			continue
		}
		if !slices.Contains(skip, c) {
			return c.Err()
		}
	}
	return nil
}

// Get returns request id, or an error wrapping provisioning.ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (*request.Request, error) {
	r, _, err := s.load(ctx, id)
	return r, err
}

// load reads a document together with its newest audit entry in one MULTI,
// so a conflict reports the entry that belongs to the state it shows.
func (s *Store) load(ctx context.Context, id int64) (*request.Request, request.AuditEntry, error) {
	var last request.AuditEntry
	if id <= 0 {
		return nil, last, notFound(request.FormatID(id))
	}
	var doc *redis.MapStringStringCmd
	var tail *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		doc = p.HGetAll(ctx, s.docKey(id))
		tail = p.LIndex(ctx, s.auditKey(id), -1)
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, last, fmt.Errorf("get %s: %w", request.FormatID(id), err)
	}
	fields := doc.Val()
	if len(fields) == 0 {
		return nil, last, notFound(request.FormatID(id))
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
//
// With t.Current (the caller's fresh read) the first attempt skips the read:
// a compare-and-set and one pipeline of follow-up steps (indexes, the
// release of an ended request's external id, the job of t.Enqueue) make two
// round trips. A stale t.Current loses the compare-and-set and the request
// is read again, as after any lost race; a t.Current not in t.From is read
// again too, so a conflict always reports the stored request.
func (s *Store) Transition(ctx context.Context, id int64, t request.Transition) (*request.Request, error) {
	ref := request.FormatID(id)
	if len(t.From) == 0 {
		return nil, fmt.Errorf("transition %s: no allowed source states", ref)
	}
	if t.To != "" && !t.To.Valid() {
		return nil, fmt.Errorf("transition %s: unknown state %q", ref, t.To)
	}
	if t.Current != nil && t.Current.ID != id {
		return nil, fmt.Errorf("transition %s: the current request given is %s", ref, t.Current.Ref())
	}
	for attempt := range maxTransitionAttempts {
		var cur *request.Request
		var before map[string]string
		var err error
		if attempt == 0 && t.Current != nil && inStates(t.Current.State, t.From) {
			// The caller's read, decoded afresh from its own encoding: Mutate
			// works on a private copy, never on the caller's struct.
			if before, err = encodeDoc(t.Current); err != nil {
				return nil, fmt.Errorf("transition %s: %w", ref, err)
			}
			if cur, err = decodeDoc(id, before); err != nil {
				return nil, fmt.Errorf("transition %s: %w", ref, err)
			}
		} else {
			var last request.AuditEntry
			cur, last, err = s.load(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("transition %s: %w", ref, err)
			}
			if !inStates(cur.State, t.From) {
				return nil, &request.StateConflict{Current: cur, Last: last}
			}
			if before, err = encodeDoc(cur); err != nil {
				return nil, fmt.Errorf("transition %s: %w", ref, err)
			}
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
		next.ID, next.CreatedAt = id, prev.CreatedAt
		next.Version = oldVersion + 1
		next.State = from
		if t.To != "" {
			next.State = t.To
		}
		next.UpdatedAt = s.clock()
		ok, err := s.compareAndSet(ctx, next, before, oldVersion, from, request.AuditEntry{
			At: next.UpdatedAt, Actor: t.Actor, Action: t.Action, From: from, To: next.State, Note: t.Note,
		})
		if err != nil {
			return nil, fmt.Errorf("transition %s: %w", ref, err)
		}
		if !ok {
			continue // someone wrote first: re-read and decide again
		}
		s.afterTransition(ctx, next, &prev, t.Enqueue)
		return next, nil
	}
	return nil, fmt.Errorf("transition %s: gave up after %d concurrent updates", ref, maxTransitionAttempts)
}

// afterTransition sends the follow-up steps of a won compare-and-set in one
// pipeline: the indexes, the release of the external id of a request that
// ended, and the request's job when enqueue is set. They are idempotent and
// a failure does not undo the transition: it is reported to the error
// handler, the sweeper repairs indexes and reservations, and cmd's requeue
// loop queues approved requests whose job was lost.
func (s *Store) afterTransition(ctx context.Context, next, prev *request.Request, enqueue bool) {
	release := next.ExternalID != "" && next.State.ReleasesExternalID()
	createGroup := enqueue && !s.groupReady.ready.Load()
	var free, group, job redis.Cmder
	cmds, _ := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		s.indexCmds(ctx, p, next, prev, false)
		if release {
			free = deleteIfValueScript.Eval(ctx, p, []string{s.extIDKey(next.ExternalID)}, strconv.FormatInt(next.ID, 10))
		}
		if createGroup {
			group = s.createGroup(ctx, p)
		}
		if enqueue {
			job = p.XAdd(ctx, s.jobArgs(next.ID))
		}
		return nil
	})
	if err := firstErr(cmds, free, group, job); err != nil {
		s.onError(fmt.Sprintf("index %s", next.Ref()), err)
	}
	if release && free.Err() != nil {
		s.onError("release external id "+next.ExternalID, free.Err())
	}
	if createGroup {
		if err := s.groupCreated(group.Err()); err != nil {
			s.onError("enqueue "+next.Ref(), err)
		}
	}
	if enqueue && job.Err() != nil {
		s.onError("enqueue "+next.Ref(), job.Err())
	}
}

// compareAndSet writes next over the document read as before, if it still has
// version and state. It reports false when another writer got there first.
func (s *Store) compareAndSet(ctx context.Context, next *request.Request, before map[string]string,
	version int64, state request.State, e request.AuditEntry) (bool, error) {
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

func inStates(st request.State, set []request.State) bool {
	for _, v := range set {
		if v == st {
			return true
		}
	}
	return false
}

// Audit returns the audit trail of request id, oldest first.
func (s *Store) Audit(ctx context.Context, id int64) ([]request.AuditEntry, error) {
	ref := request.FormatID(id)
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
	out := make([]request.AuditEntry, 0, len(list.Val()))
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
func (s *Store) AppendAudit(ctx context.Context, id int64, e request.AuditEntry) error {
	ref := request.FormatID(id)
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

// windowMember is a unique sorted-set member for one submission at now
// (unix ms) in a budget's window.
func windowMember(now int64) string {
	var nonce [6]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails on supported platforms
	return strconv.FormatInt(now, 10) + "-" + hex.EncodeToString(nonce[:])
}
