package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/config"
)

const (
	redisConnCheck    = "Redis connection"
	redisVersionCheck = "Redis version"
	redisPersistCheck = "Redis persistence"
	redisKeysCheck    = "Redis keys"
	// minRedisMajor: the store's scripts use Redis 7.0 commands.
	minRedisMajor = 7
	// scanBatch and maxScanCalls bound the key count: at most about a
	// million keys are counted per node, in small steps that never block
	// the server.
	scanBatch    = 1000
	maxScanCalls = 1000
)

const persistenceFix = "turn on AOF: CONFIG SET appendonly yes and CONFIG SET appendfsync everysec now, and appendonly yes / appendfsync everysec in redis.conf so it stays on; on a managed Redis, enable its persistence (AOF) option"

func (d *doctor) checkRedis(ctx context.Context) {
	rest := []string{redisVersionCheck, redisPersistCheck, redisKeysCheck}
	if d.cfg.RedisURL == "" {
		if d.cfg.Mode == config.ModeConsole {
			d.skipAll("REDIS_URL is not set: the console keeps its state in an embedded in-process Redis", append([]string{redisConnCheck}, rest...)...)
			return
		}
		d.add(failed(redisConnCheck, "REDIS_URL is not set: the bot would keep its state in an embedded in-process Redis (one replica only, lost on exit)",
			"set REDIS_URL to a Redis 7 or later with persistence (AOF) that every replica shares"))
		d.skipAll("needs REDIS_URL", rest...)
		return
	}
	rdb, closeRedis, err := d.deps.openRedis(ctx, d.cfg.RedisURL.Value())
	if err != nil {
		// store.Open's errors show the URL with its password replaced.
		d.add(failed(redisConnCheck, err.Error(), "correct REDIS_URL (redis://, rediss://, unix://; Sentinel with master_name=, Cluster with several addr=)"))
		d.skipAll("needs a usable REDIS_URL", rest...)
		return
	}
	d.closers = append(d.closers, closeRedis)
	pctx, cancel := context.WithTimeout(ctx, doctorCallTimeout)
	err = rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		d.add(failed(redisConnCheck, "Redis does not answer: "+err.Error(),
			"check REDIS_URL's host, port, password and TLS (rediss://), and that this machine can reach Redis"))
		d.skipAll("needs a Redis that answers", rest...)
		return
	}
	d.rdb = rdb
	d.add(passed(redisConnCheck, "Redis answers a ping"))
	d.checkRedisVersion(ctx, rdb)
	d.checkPersistence(ctx, rdb)
	d.countKeys(ctx, rdb)
}

// forEachNode runs fn on every master of a Redis Cluster, or once on any
// other client. On a cluster fn runs concurrently, once per master.
func forEachNode(ctx context.Context, rdb redis.UniversalClient, fn func(ctx context.Context, c redis.Cmdable) error) error {
	ctx, cancel := context.WithTimeout(ctx, doctorCallTimeout)
	defer cancel()
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return fn(ctx, c) })
	}
	return fn(ctx, rdb)
}

// parseInfo reads INFO's "key:value" lines.
func parseInfo(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

func (d *doctor) checkRedisVersion(ctx context.Context, rdb redis.UniversalClient) {
	var mu sync.Mutex
	var versions, old []string
	err := forEachNode(ctx, rdb, func(ctx context.Context, c redis.Cmdable) error {
		info, err := c.Info(ctx, "server").Result()
		if err != nil {
			return fmt.Errorf("INFO server: %w", err)
		}
		v := parseInfo(info)["redis_version"]
		major, _, _ := strings.Cut(v, ".")
		n, err := strconv.Atoi(major)
		if err != nil {
			return fmt.Errorf("INFO server: no redis_version (%q)", v)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
		if n < minRedisMajor && !slices.Contains(old, v) {
			old = append(old, v)
		}
		return nil
	})
	switch {
	case err != nil:
		d.add(failed(redisVersionCheck, err.Error(), fmt.Sprintf("use Redis %d or later, or a service that answers INFO like it", minRedisMajor)))
	case len(old) > 0:
		d.add(failed(redisVersionCheck, "Redis "+strings.Join(old, ", ")+": the bot needs 7.0 or later (its scripts use 7.0 commands)",
			fmt.Sprintf("upgrade Redis to %d or later", minRedisMajor)))
	default:
		d.add(passed(redisVersionCheck, "Redis "+strings.Join(versions, ", ")))
	}
}

// nodePersistence is what one node does to keep its data: "AOF", "RDB save
// points …", "" when neither, or unknown when it would not say.
type nodePersistence struct {
	how     string
	unknown bool
}

// persistenceOf asks a node: AOF from INFO persistence, else RDB save points
// from CONFIG GET save (which managed services often refuse).
func persistenceOf(ctx context.Context, c redis.Cmdable) (nodePersistence, error) {
	info, err := c.Info(ctx, "persistence").Result()
	if err != nil {
		return nodePersistence{}, fmt.Errorf("INFO persistence: %w", err)
	}
	if parseInfo(info)["aof_enabled"] == "1" {
		return nodePersistence{how: "AOF is on"}, nil
	}
	save, err := c.ConfigGet(ctx, "save").Result()
	if err != nil {
		return nodePersistence{unknown: true}, nil
	}
	if points := strings.TrimSpace(save["save"]); points != "" {
		return nodePersistence{how: "RDB snapshots (save " + points + ")"}, nil
	}
	return nodePersistence{}, nil
}

func (d *doctor) checkPersistence(ctx context.Context, rdb redis.UniversalClient) {
	var mu sync.Mutex
	var hows []string
	off, unknown := 0, 0
	err := forEachNode(ctx, rdb, func(ctx context.Context, c redis.Cmdable) error {
		p, err := persistenceOf(ctx, c)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case p.unknown:
			unknown++
		case p.how == "":
			off++
		case len(hows) == 0 || hows[len(hows)-1] != p.how:
			hows = append(hows, p.how)
		}
		return nil
	})
	switch {
	case err != nil:
		d.add(failed(redisPersistCheck, err.Error(), persistenceFix))
	case off > 0:
		d.add(failed(redisPersistCheck, "off (no AOF, no RDB save points): a Redis restart would lose every request, its audit trail and the rotated Webex refresh token", persistenceFix))
	case unknown > 0:
		d.add(skipped(redisPersistCheck, "AOF is off and Redis refuses CONFIG GET save (a managed Redis?), so its RDB snapshots are unknown: make sure the provider's persistence is on"))
	default:
		d.add(passed(redisPersistCheck, strings.Join(hows, "; ")))
	}
}

// globEscape makes a key prefix literal in a SCAN MATCH pattern.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// countKeys counts the keys under REDIS_PREFIX with SCAN, bounded.
func (d *doctor) countKeys(ctx context.Context, rdb redis.UniversalClient) {
	var mu sync.Mutex
	var total int
	capped := false
	pattern := globEscape(d.cfg.RedisPrefix) + "*"
	err := forEachNode(ctx, rdb, func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		n := 0
		for range maxScanCalls {
			keys, next, err := c.Scan(ctx, cursor, pattern, scanBatch).Result()
			if err != nil {
				return fmt.Errorf("SCAN: %w", err)
			}
			n += len(keys)
			if cursor = next; cursor == 0 {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		total += n
		capped = capped || cursor != 0
		return nil
	})
	switch {
	case err != nil:
		d.add(failed(redisKeysCheck, err.Error(), "check that the Redis user may run SCAN (ACL)"))
	case capped:
		d.add(passed(redisKeysCheck, fmt.Sprintf("at least %d keys under %q (counting stopped there)", total, d.cfg.RedisPrefix)))
	case total == 0:
		d.add(passed(redisKeysCheck, fmt.Sprintf("no keys under %q yet: a first start (if the bot ran before, check REDIS_PREFIX and the database number in REDIS_URL)", d.cfg.RedisPrefix)))
	case total == 1:
		d.add(passed(redisKeysCheck, fmt.Sprintf("1 key under %q", d.cfg.RedisPrefix)))
	default:
		d.add(passed(redisKeysCheck, fmt.Sprintf("%d keys under %q", total, d.cfg.RedisPrefix)))
	}
}
