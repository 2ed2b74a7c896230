package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// Watch puts request id on the watch list, due at next (replacing an earlier
// due time).
func (s *Store) Watch(ctx context.Context, requestID int64, next time.Time) error {
	err := s.rdb.ZAdd(ctx, s.watchKey(), redis.Z{Score: unixMS(next), Member: strconv.FormatInt(requestID, 10)}).Err()
	if err != nil {
		return fmt.Errorf("watch %s: %w", request.FormatID(requestID), err)
	}
	return nil
}

// Unwatch takes request id off the watch list; absent is fine.
func (s *Store) Unwatch(ctx context.Context, requestID int64) error {
	if err := s.rdb.ZRem(ctx, s.watchKey(), strconv.FormatInt(requestID, 10)).Err(); err != nil {
		return fmt.Errorf("unwatch %s: %w", request.FormatID(requestID), err)
	}
	return nil
}

// DueWatches returns up to limit request ids due at or before now, most
// overdue first. Callers take each under a lock (TryLock) before working.
func (s *Store) DueWatches(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	members, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key:     s.watchKey(),
		Start:   "-inf",
		Stop:    strconv.FormatInt(now.UnixMilli(), 10),
		ByScore: true,
		Count:   int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("due watches: %w", err)
	}
	ids := make([]int64, 0, len(members))
	for _, m := range members {
		if id, err := strconv.ParseInt(m, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// WatchDue returns when request id is next due, and false when it is not
// watched (for status displays and tests).
func (s *Store) WatchDue(ctx context.Context, requestID int64) (time.Time, bool, error) {
	score, err := s.rdb.ZScore(ctx, s.watchKey(), strconv.FormatInt(requestID, 10)).Result()
	if isNil(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("watch of %s: %w", request.FormatID(requestID), err)
	}
	return time.UnixMilli(int64(score)).UTC(), true, nil
}
