package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// JobStream reports how many jobs are not yet acknowledged, in both lanes
// (acked jobs are deleted, so that is the streams' length), and the age of
// the oldest.
func (s *Store) JobStream(ctx context.Context) (int64, time.Duration, error) {
	var total int64
	var oldest time.Duration
	for _, bulk := range []bool{false, true} {
		n, age, err := s.laneDepth(ctx, bulk)
		if err != nil {
			return 0, 0, err
		}
		total, oldest = total+n, max(oldest, age)
	}
	return total, oldest, nil
}

func (s *Store) laneDepth(ctx context.Context, bulk bool) (int64, time.Duration, error) {
	n, err := s.rdb.XLen(ctx, s.laneKey(bulk)).Result()
	if err != nil || n == 0 {
		return 0, 0, err
	}
	msgs, err := s.rdb.XRangeN(ctx, s.laneKey(bulk), "-", "+", 1).Result()
	if err != nil || len(msgs) == 0 {
		return n, 0, err
	}
	ms, _ := strconv.ParseInt(strings.SplitN(msgs[0].ID, "-", 2)[0], 10, 64)
	return n, s.clock().Sub(time.UnixMilli(ms)), nil
}

// WatchListSize is how many requests wait on the watch list.
func (s *Store) WatchListSize(ctx context.Context) (int64, error) {
	return s.rdb.ZCard(ctx, s.watchKey()).Result()
}

// KindStateCount is one cell of RequestCounts.
type KindStateCount struct {
	Kind  request.Kind
	State request.State
	Count int64
}

// RequestCounts counts requests by kind and state with single-key commands
// (the state index's ids, then their scores in each kind index), so it works
// on Redis Cluster where the two indexes live in different slots.
func (s *Store) RequestCounts(ctx context.Context) ([]KindStateCount, error) {
	kinds, err := s.rdb.SMembers(ctx, s.kindsKey()).Result()
	if err != nil {
		return nil, err
	}
	var out []KindStateCount
	for _, st := range request.AllStates {
		ids, err := s.rdb.ZRange(ctx, s.stateKey(st), 0, -1).Result()
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			continue
		}
		for _, k := range kinds {
			scores, err := s.rdb.ZMScore(ctx, s.kindKey(request.Kind(k)), ids...).Result()
			if err != nil {
				return nil, err
			}
			var n int64
			for _, sc := range scores {
				if sc != 0 {
					n++
				}
			}
			if n > 0 {
				out = append(out, KindStateCount{Kind: request.Kind(k), State: st, Count: n})
			}
		}
	}
	return out, nil
}
