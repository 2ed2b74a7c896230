package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// The durable floor is the floor plus the one Redis round trip any bot that
// saves a request before it answers must make: a MULTI/EXEC of INCR (the
// request's number), HSET (the request's fields) and ZADD (an index by
// time). `new` is read against it.
//
// Commands in one MULTI/EXEC cannot use each other's replies, so the hash
// cannot be keyed by the number INCR returns without a second round trip or
// a script that builds the key (which a cluster refuses). It is keyed by a
// random id made here, the one the time index holds; INCR still draws the
// request's number, the one the answer would show.

// durableKeys are the keys of the durable floor: a prefix of its own, with
// one hash tag so that the transaction's keys share a cluster slot.
type durableKeys struct{ prefix string }

func (k durableKeys) seq() string              { return k.prefix + "seq" }
func (k durableKeys) byTime() string           { return k.prefix + "by-time" }
func (k durableKeys) request(id string) string { return k.prefix + "req:" + id }

// durableFloorHandler is floorHandler plus the save, on rdb.
func durableFloorHandler(secret string, rdb redis.UniversalClient, keys durableKeys) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := verifiedForm(w, r, secret)
		if !ok {
			return
		}
		id := rand.Text()
		now := time.Now()
		fields := make([]any, 0, 2*len(form)+2)
		for k, v := range form {
			if len(v) > 0 {
				fields = append(fields, k, v[0])
			}
		}
		fields = append(fields, "received_at", now.UnixMilli())
		ctx := r.Context()
		if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, keys.seq())
			p.HSet(ctx, keys.request(id), fields...)
			p.ZAdd(ctx, keys.byTime(), redis.Z{Score: float64(now.UnixMilli()), Member: id})
			return nil
		}); err != nil {
			http.Error(w, "not saved: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// deleteDurable removes every key the durable floor wrote: each hash is in
// the time index (written in the same transaction), so the index lists them
// all; no SCAN, which a cluster would need per node. It returns how many
// requests it removed.
func deleteDurable(ctx context.Context, rdb redis.UniversalClient, keys durableKeys) (int, error) {
	removed := 0
	for {
		zs, err := rdb.ZPopMin(ctx, keys.byTime(), 1000).Result()
		if err != nil {
			return removed, err
		}
		if len(zs) == 0 {
			break
		}
		del := make([]string, 0, len(zs))
		for _, z := range zs {
			if id, ok := z.Member.(string); ok {
				del = append(del, keys.request(id))
			}
		}
		if err := rdb.Unlink(ctx, del...).Err(); err != nil {
			return removed, err
		}
		removed += len(del)
	}
	return removed, rdb.Unlink(ctx, keys.seq(), keys.byTime()).Err()
}
