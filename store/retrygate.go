package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RetryGate shares Webex Retry-After deadlines between replicas (it
// implements webex.SharedGate): one key per token digest, holding the
// deadline in unix milliseconds and expiring with it.
type RetryGate struct{ s *Store }

// RetryGate returns the shared Retry-After gate.
func (s *Store) RetryGate() *RetryGate { return &RetryGate{s: s} }

func (g *RetryGate) key(k string) string { return g.s.prefix + "webex:retry-after:" + k }

// holdLaterScript moves the deadline only forward and lets the key expire
// with it. ARGV: deadline (unix ms), ttl (ms).
var holdLaterScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
`)

// HoldUntil records that no call may be made with the token before t.
func (g *RetryGate) HoldUntil(ctx context.Context, key string, t time.Time) error {
	ttl := time.Until(t) + time.Second
	if ttl < time.Second {
		return nil
	}
	if err := holdLaterScript.Run(ctx, g.s.rdb, []string{g.key(key)}, t.UnixMilli(), ttl.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("hold retry gate: %w", err)
	}
	return nil
}

// Until returns the deadline, the zero time when there is none.
func (g *RetryGate) Until(ctx context.Context, key string) (time.Time, error) {
	v, err := g.s.rdb.Get(ctx, g.key(key)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read retry gate: %w", err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("retry gate holds %q: %w", v, err)
	}
	return time.UnixMilli(ms), nil
}
