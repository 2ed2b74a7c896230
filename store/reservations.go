package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// foldReservations moves reservations written before external ids were
// folded to upper case (the key held the id as typed: "…:extid:Ms-001") to
// their folded key, so that MS-001, ms-001 and Ms-001 find one holder.
// Where both exist and name different requests, the folded one stands and
// the other is dropped: the repair of reservations that follows restores
// whatever the documents say should hold it.
func (s *Store) foldReservations(ctx context.Context) error {
	return s.scanReservations(ctx, func(keys []string) error {
		var legacy []string
		for _, k := range keys {
			if ext := strings.TrimPrefix(k, s.extIDPrefix()); ext != strings.ToUpper(ext) {
				legacy = append(legacy, k)
			}
		}
		for _, k := range legacy {
			holder, err := s.rdb.Get(ctx, k).Result()
			if isNil(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read reservation %s: %w", k, err)
			}
			folded := s.extIDKey(strings.TrimPrefix(k, s.extIDPrefix()))
			if err := s.rdb.SetNX(ctx, folded, holder, 0).Err(); err != nil {
				return fmt.Errorf("fold reservation %s: %w", k, err)
			}
			if err := deleteIfValueScript.Run(ctx, s.rdb, []string{k}, holder).Err(); err != nil {
				return fmt.Errorf("drop folded reservation %s: %w", k, err)
			}
		}
		return nil
	})
}

// scanReservations calls fn with every page of reservation keys. They all
// live under the {ids} tag, on one node of a cluster.
func (s *Store) scanReservations(ctx context.Context, fn func(keys []string) error) error {
	var node redis.Cmdable = s.rdb
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		c, err := cc.MasterForKey(ctx, s.counterKey())
		if err != nil {
			return fmt.Errorf("find the node of the external id reservations: %w", err)
		}
		node = c
	}
	match := globEscape(s.extIDPrefix()) + "*"
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, match, sweepBatch).Result()
		if err != nil {
			return fmt.Errorf("scan external id reservations: %w", err)
		}
		if err := fn(keys); err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}
