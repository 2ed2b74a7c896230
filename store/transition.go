package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// maxTransitionAttempts bounds the re-read-and-retry loop of Transition when
// writers race on the version of one request.
const maxTransitionAttempts = 10

// Transition moves request id as t describes, atomically with its audit
// entry; see request.Transition. A request not in t.From is
// *request.StateConflict carrying the request and its last audit entry.
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
			group = s.createGroup(ctx, p, false)
		}
		if enqueue {
			job = p.XAdd(ctx, s.jobArgs(next.ID, false))
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
		if err := s.groupCreated(group.Err(), false); err != nil {
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
