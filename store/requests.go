package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// Get returns request id, or an error wrapping request.ErrNotFound.
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

// ExternalIDHolders is ByExternalID for many external ids in one round trip
// (their reservations share a hash slot): the request holding each, keyed
// as given; an id nobody holds is absent.
func (s *Store) ExternalIDHolders(ctx context.Context, exts []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(exts) == 0 {
		return out, nil
	}
	keys := make([]string, len(exts))
	for i, ext := range exts {
		keys[i] = s.extIDKey(ext)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("external ids: %w", err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("external-id %q: reservation holds %q, not a request id", exts[i], str)
		}
		out[exts[i]] = id
	}
	return out, nil
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
