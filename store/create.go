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
// A held external id is *request.ExternalIDTaken.
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
// (*request.ExternalIDTaken) and uses none. Still two round trips.
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

// windowMember is a unique sorted-set member for one submission at now
// (unix ms) in a budget's window.
func windowMember(now int64) string {
	var nonce [6]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails on supported platforms
	return strconv.FormatInt(now, 10) + "-" + hex.EncodeToString(nonce[:])
}
