package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// Drafts are modal flows in progress. A
// modal keeps only the draft id in private_metadata; the answers live here,
// so whichever replica receives the next view_submission continues the flow.
//
// Ids: drafts count on their own counter and read "D-<n>". Sharing the
// request counter would leave a gap in the request ids for every modal
// opened and abandoned, and a draft is not a
// request until it is submitted, when it gets its R-<n> from Create.
//
// Keys (under the prefix):
//
//	{draft:<n>}:doc         hash, one JSON-encoded value per field; PX DRAFT_TTL
//	counter:draft           INCR counter for draft ids
//	idx:drafts:<owner>      sorted set of draft ids, score UpdatedAt (unix ms)
//	idx:draftowners         sorted set of owners, score their last save (unix ms)
//
// The owner index is a separate key (another slot) written after the
// document; entries whose document expired are dropped when read.

// Draft is one modal flow in progress.
type Draft struct {
	ID      int64             `json:"id"`
	Owner   string            `json:"owner"`
	Kind    request.Kind      `json:"kind"`
	Step    int               `json:"step"`
	Answers map[string]string `json:"answers"`
	// Channel is where the flow was started, for ephemeral answers.
	Channel string `json:"channel,omitempty"`
	// LinkedFrom is the rejected or failed request an Edit & resubmit
	// started from; the new request's audit names it.
	LinkedFrom int64     `json:"linkedFrom,omitempty"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Ref is the user-facing id, "D-3".
func (d *Draft) Ref() string { return FormatDraftID(d.ID) }

// FormatDraftID renders a draft number as "D-<n>".
func FormatDraftID(n int64) string { return "D-" + strconv.FormatInt(n, 10) }

// ParseDraftID accepts "D-3", "d-3" and "D3".
func ParseDraftID(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || (t[0] != 'D' && t[0] != 'd') {
		return 0, fmt.Errorf("%q is not a draft id (expected D-<number>)", s)
	}
	t = strings.TrimPrefix(t[1:], "-")
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || t == "" || t[0] == '+' {
		return 0, fmt.Errorf("%q is not a draft id (expected D-<number>)", s)
	}
	return n, nil
}

// ErrDraftChanged is returned by SaveDraft when the draft was saved by
// someone else (another window, a retried submission) since it was read.
var ErrDraftChanged = errors.New("draft changed since it was read")

// Drafts stores drafts with a fixed lifetime, renewed on every save.
type Drafts struct {
	s   *Store
	ttl time.Duration
}

// Drafts returns the draft store; ttl is DRAFT_TTL.
func (s *Store) Drafts(ttl time.Duration) *Drafts {
	if ttl <= 0 {
		ttl = 168 * time.Hour
	}
	return &Drafts{s: s, ttl: ttl}
}

func (d *Drafts) docKey(id int64) string {
	return d.s.prefix + "{draft:" + strconv.FormatInt(id, 10) + "}:doc"
}
func (d *Drafts) counterKey() string           { return d.s.prefix + "counter:draft" }
func (d *Drafts) ownerKey(owner string) string { return d.s.prefix + "idx:drafts:" + owner }
func (d *Drafts) ownersKey() string            { return d.s.prefix + "idx:draftowners" }

// createDraftScript writes a new draft document with its lifetime.
// KEYS[1] doc; ARGV[1] ttl ms, ARGV[2..] field/value pairs. 0 when it exists.
var createDraftScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// saveDraftScript is the compare-and-set of a draft: it writes only while the
// stored version is the one the writer read, and renews the lifetime.
// KEYS[1] doc; ARGV[1] expected version (as stored), ARGV[2] ttl ms,
// ARGV[3..] field/value pairs. Returns 1, 0 on a version mismatch, -1 when
// the draft is gone (expired or submitted).
var saveDraftScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// CreateDraft stores d as a new draft: it sets ID, Version (1), CreatedAt
// and UpdatedAt.
func (d *Drafts) CreateDraft(ctx context.Context, dr *Draft) error {
	if dr == nil || dr.Owner == "" || dr.Kind == "" {
		return errors.New("create draft: owner and kind are required")
	}
	id, err := d.s.rdb.Incr(ctx, d.counterKey()).Result()
	if err != nil {
		return fmt.Errorf("create draft: next id: %w", err)
	}
	now := d.s.clock()
	c := *dr
	c.ID, c.Version, c.CreatedAt, c.UpdatedAt = id, 1, now, now
	fields, err := encodeDraft(&c)
	if err != nil {
		return err
	}
	args := append([]any{d.ttl.Milliseconds()}, pairs(fields)...)
	n, err := createDraftScript.Run(ctx, d.s.rdb, []string{d.docKey(id)}, args...).Int()
	if err != nil {
		return fmt.Errorf("create %s: %w", c.Ref(), err)
	}
	if n == 0 {
		return fmt.Errorf("create %s: a draft with this id already exists", c.Ref())
	}
	*dr = c
	d.index(ctx, &c)
	return nil
}

// GetDraft returns draft id, or an error wrapping request.ErrNotFound
// (never existed, expired or submitted).
func (d *Drafts) GetDraft(ctx context.Context, id int64) (*Draft, error) {
	if id <= 0 {
		return nil, notFound(FormatDraftID(id))
	}
	fields, err := d.s.rdb.HGetAll(ctx, d.docKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", FormatDraftID(id), err)
	}
	if len(fields) == 0 {
		return nil, notFound(FormatDraftID(id))
	}
	return decodeDraft(id, fields)
}

// SaveDraft writes dr if it still has the version dr.Version; it then bumps
// dr.Version and dr.UpdatedAt. ErrDraftChanged when someone saved first;
// request.ErrNotFound when the draft is gone.
func (d *Drafts) SaveDraft(ctx context.Context, dr *Draft) error {
	c := *dr
	c.Version++
	c.UpdatedAt = d.s.clock()
	fields, err := encodeDraft(&c)
	if err != nil {
		return err
	}
	// id, owner and createdAt never change; leaving them out keeps a
	// mistaken caller from moving a draft to another owner.
	delete(fields, "id")
	delete(fields, "owner")
	delete(fields, "createdAt")
	args := append([]any{storedVersion(dr.Version), d.ttl.Milliseconds()}, pairs(fields)...)
	n, err := saveDraftScript.Run(ctx, d.s.rdb, []string{d.docKey(dr.ID)}, args...).Int()
	switch {
	case err != nil:
		return fmt.Errorf("save %s: %w", dr.Ref(), err)
	case n == -1:
		return notFound(dr.Ref())
	case n == 0:
		return fmt.Errorf("save %s: %w", dr.Ref(), ErrDraftChanged)
	}
	*dr = c
	d.index(ctx, &c)
	return nil
}

// DeleteDraft removes a draft (submitted or discarded) and its index entry.
func (d *Drafts) DeleteDraft(ctx context.Context, dr *Draft) error {
	if err := d.s.rdb.Del(ctx, d.docKey(dr.ID)).Err(); err != nil {
		return fmt.Errorf("delete %s: %w", dr.Ref(), err)
	}
	if err := d.s.rdb.ZRem(ctx, d.ownerKey(dr.Owner), strconv.FormatInt(dr.ID, 10)).Err(); err != nil {
		d.s.onError("unindex "+dr.Ref(), err)
	}
	return nil
}

// DraftsOf returns owner's drafts, most recently saved first, at most limit
// (0: all). Index entries whose draft expired are removed on the way.
func (d *Drafts) DraftsOf(ctx context.Context, owner string, limit int) ([]*Draft, error) {
	ids, err := d.s.rdb.ZRevRange(ctx, d.ownerKey(owner), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("drafts of %s: %w", owner, err)
	}
	var out []*Draft
	var gone []any
	for _, m := range ids {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			gone = append(gone, m)
			continue
		}
		dr, err := d.GetDraft(ctx, id)
		if isNotFound(err) {
			gone = append(gone, m)
			continue
		}
		if err != nil {
			return nil, err
		}
		if dr.Owner != owner {
			gone = append(gone, m) // a stale entry: never list someone else's draft
			continue
		}
		out = append(out, dr)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	if len(gone) > 0 {
		if err := d.s.rdb.ZRem(ctx, d.ownerKey(owner), gone...).Err(); err != nil {
			d.s.onError("prune drafts of "+owner, err)
		}
	}
	return out, nil
}

// DraftOwners returns everyone who saved a draft within the drafts' TTL
// (older entries, whose drafts have all expired, are pruned on the way).
func (d *Drafts) DraftOwners(ctx context.Context) ([]string, error) {
	since := strconv.FormatInt(d.s.clock().Add(-d.ttl).UnixMilli(), 10)
	var owners *redis.StringSliceCmd
	_, err := d.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, d.ownersKey(), "-inf", "("+since)
		owners = p.ZRangeByScore(ctx, d.ownersKey(), &redis.ZRangeBy{Min: since, Max: "+inf"})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read draft owners: %w", err)
	}
	return owners.Val(), nil
}

// index puts the draft into its owner's index. The index has no TTL of its
// own but is renewed with every save, so an owner who stops using the bot
// leaves one small key, pruned when next read.
func (d *Drafts) index(ctx context.Context, dr *Draft) {
	key := d.ownerKey(dr.Owner)
	_, err := d.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: unixMS(dr.UpdatedAt), Member: strconv.FormatInt(dr.ID, 10)})
		p.PExpire(ctx, key, d.ttl)
		// Who has drafts, by last save: the digest's reminders reach people
		// who never submitted a request too.
		p.ZAdd(ctx, d.ownersKey(), redis.Z{Score: unixMS(dr.UpdatedAt), Member: dr.Owner})
		return nil
	})
	if err != nil {
		d.s.onError("index "+dr.Ref(), err)
	}
}

func encodeDraft(dr *Draft) (map[string]string, error) {
	if dr.Answers == nil {
		dr.Answers = map[string]string{}
	}
	b, err := json.Marshal(dr)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", dr.Ref(), err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("encode %s: %w", dr.Ref(), err)
	}
	fields := make(map[string]string, len(raw))
	for k, v := range raw {
		fields[k] = string(v)
	}
	return fields, nil
}

// decodeDraft rebuilds a draft; a damaged field is an error, not a panic.
func decodeDraft(id int64, fields map[string]string) (*Draft, error) {
	raw := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		if !json.Valid([]byte(v)) {
			return nil, fmt.Errorf("decode %s: field %q is not valid JSON", FormatDraftID(id), k)
		}
		raw[k] = json.RawMessage(v)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", FormatDraftID(id), err)
	}
	var dr Draft
	if err := json.Unmarshal(b, &dr); err != nil {
		return nil, fmt.Errorf("decode %s: %w", FormatDraftID(id), err)
	}
	if dr.ID != id {
		return nil, fmt.Errorf("decode %s: document says id %d", FormatDraftID(id), dr.ID)
	}
	if dr.Answers == nil {
		dr.Answers = map[string]string{}
	}
	return &dr, nil
}
