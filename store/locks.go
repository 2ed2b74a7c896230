package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lock is a held lock as admins see it ("locks are visible").
type Lock struct {
	Name  string
	Owner string
	TTL   time.Duration // time left
}

// TryLock takes lock name for owner for ttl with SET NX PX; false when someone
// else holds it. Locks expire on their own, so a dead holder blocks no one for
// longer than ttl. Taking a lock one already holds is false too: locks are
// not re-entrant.
func (s *Store) TryLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if name == "" || owner == "" {
		return false, errors.New("lock: empty name or owner")
	}
	if ttl < time.Millisecond {
		return false, fmt.Errorf("lock %q: ttl %s is too short", name, ttl)
	}
	ok, err := s.rdb.SetNX(ctx, s.lockKey(name), owner, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("lock %q: %w", name, err)
	}
	if ok {
		// The registry lets Locks list locks without SCAN. Entries long past
		// their expiry are pruned here (with an hour's margin, as the
		// Store's clock need not agree with Redis's); Locks drops the rest.
		now := s.clock()
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.ZAdd(ctx, s.locksKey(), redis.Z{Score: unixMS(now.Add(ttl)), Member: name})
			p.ZRemRangeByScore(ctx, s.locksKey(), "-inf", "("+strconv.FormatInt(now.Add(-time.Hour).UnixMilli(), 10))
			return nil
		})
		if err != nil {
			s.onError("lock registry "+name, err)
		}
	}
	return ok, nil
}

// ExtendLock renews name's ttl if owner still holds it; false when the lock
// expired or someone else took it.
func (s *Store) ExtendLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	n, err := extendIfValueScript.Run(ctx, s.rdb, []string{s.lockKey(name)}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("extend lock %q: %w", name, err)
	}
	if n == 1 {
		if err := s.rdb.ZAdd(ctx, s.locksKey(), redis.Z{Score: unixMS(s.clock().Add(ttl)), Member: name}).Err(); err != nil {
			s.onError("lock registry "+name, err)
		}
	}
	return n == 1, nil
}

// Unlock releases name if owner holds it; a lock held by someone else (or
// already expired) is left alone.
func (s *Store) Unlock(ctx context.Context, name, owner string) error {
	n, err := deleteIfValueScript.Run(ctx, s.rdb, []string{s.lockKey(name)}, owner).Int()
	if err != nil {
		return fmt.Errorf("unlock %q: %w", name, err)
	}
	if n == 1 {
		if err := s.rdb.ZRem(ctx, s.locksKey(), name).Err(); err != nil {
			s.onError("lock registry "+name, err)
		}
	}
	return nil
}

// ForceUnlock releases name whoever holds it (admins). ErrNotFound when no
// one holds it.
func (s *Store) ForceUnlock(ctx context.Context, name string) error {
	var del *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, s.lockKey(name))
		p.ZRem(ctx, s.locksKey(), name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("force unlock %q: %w", name, err)
	}
	if del.Val() == 0 {
		return notFound(fmt.Sprintf("lock %q", name))
	}
	return nil
}

// Locks lists the locks held now, with owner and time left, by name.
func (s *Store) Locks(ctx context.Context) ([]Lock, error) {
	names, err := s.rdb.ZRange(ctx, s.locksKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list locks: %w", err)
	}
	owners := make([]*redis.StringCmd, len(names))
	ttls := make([]*redis.DurationCmd, len(names))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, n := range names {
			owners[i] = p.Get(ctx, s.lockKey(n))
			ttls[i] = p.PTTL(ctx, s.lockKey(n))
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("list locks: %w", err)
	}
	var out []Lock
	var gone []any
	for i, n := range names {
		owner, err := owners[i].Result()
		if err != nil {
			gone = append(gone, n)
			continue
		}
		out = append(out, Lock{Name: n, Owner: owner, TTL: max(ttls[i].Val(), 0)})
	}
	if len(gone) > 0 {
		if err := s.rdb.ZRem(ctx, s.locksKey(), gone...).Err(); err != nil {
			s.onError("lock registry", err)
		}
	}
	return out, nil
}

// Once reports true the first time key is seen within ttl (SET NX PX): the
// dedupe of Slack retries and of digest claims across replicas.
func (s *Store) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl < time.Millisecond {
		return false, fmt.Errorf("once %q: ttl %s is too short", key, ttl)
	}
	ok, err := s.rdb.SetNX(ctx, s.onceKey(key), "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("once %q: %w", key, err)
	}
	return ok, nil
}
