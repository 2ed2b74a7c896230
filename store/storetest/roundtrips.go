package storetest

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// RoundTrips is a go-redis hook that counts what a client sends: one per
// command and one per pipeline (a cluster pipeline that spans nodes is sent
// to them in parallel and counts once). A script's EVALSHA answered
// NOSCRIPT (its first run on a server, resent with EVAL) is a cache miss,
// not part of an operation's cost, and is not counted. Add it with
// client.AddHook.
type RoundTrips struct{ n atomic.Int64 }

func (c *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil || !(errors.Is(err, redis.ErrNoScript) || strings.HasPrefix(err.Error(), "NOSCRIPT")) {
			c.n.Add(1)
		}
		return err
	}
}

func (c *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// Count returns how many round trips fn made.
func (c *RoundTrips) Count(fn func()) int64 {
	before := c.n.Load()
	fn()
	return c.n.Load() - before
}
