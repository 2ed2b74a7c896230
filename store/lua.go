package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Every script touches only the keys passed in KEYS, and all KEYS of one call
// share a hash slot (the per-request keys through the {req:<n>} tag, the
// counter, reservations and rate windows through {ids}), so the scripts run
// unchanged on Redis Cluster. No key name is built inside Lua.
//
// A create's pipeline sends its scripts by SHA and runs one again with
// Script.Run when the server answers NOSCRIPT (a pipeline cannot fall back
// by itself); the rarer pipelines send theirs with EVAL. LoadScripts loads
// them all at start.

// createScript writes a new request document and its first audit entry.
// KEYS[1] doc, KEYS[2] audit; ARGV[1] audit entry, ARGV[2..] field/value pairs.
// Returns 1, or 0 when the document already exists.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`)

// newIDScript is the first step of a create: it refuses an external id that
// is held, applies a submission budget (a sliding window: a sorted set of the
// submissions within it, scored by time), takes the next request id and
// reserves the external id provisionally, all at once, so a refusal neither
// takes an id nor uses budget. Its keys share the hash tag {ids}.
// KEYS[1] the request counter; KEYS[2] the external id's reservation when
// ARGV[1] is not empty; then the budget's window when ARGV[3] is not empty.
// ARGV[1] reservation ttl (ms) or "" for none, ARGV[2] now (ms), ARGV[3]
// budget limit or "" for none, ARGV[4] budget window (ms), ARGV[5] a unique
// member for this submission, ARGV[6] the id of the request this one
// replaces (an edit of a pending request: its reservation moves) or "".
// Returns {1, id}; {0, holder} when the external id is held; {-1, ""} when
// the budget has no room.
var newIDScript = redis.NewScript(`
local reserve = ARGV[1] ~= ''
local budget = ARGV[3] ~= ''
local window = KEYS[2]
if reserve then
  local holder = redis.call('GET', KEYS[2])
  if holder and holder ~= ARGV[6] then return {0, holder} end
  window = KEYS[3]
end
local now = tonumber(ARGV[2])
local span = tonumber(ARGV[4])
if budget then
  redis.call('ZREMRANGEBYSCORE', window, '-inf', now - span)
  if redis.call('ZCARD', window) >= tonumber(ARGV[3]) then return {-1, ''} end
end
local id = redis.call('INCR', KEYS[1])
if reserve then redis.call('SET', KEYS[2], id, 'PX', ARGV[1]) end
if budget then
  redis.call('ZADD', window, now, ARGV[5])
  redis.call('PEXPIRE', window, span)
end
return {1, id}
`)

// raiseScript sets the counter KEYS[1] to ARGV[1] when it holds less (or
// nothing). Returns 1 when raised.
var raiseScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
`)

// transitionScript is the compare-and-set of one transition: it writes only
// when the document still has the expected version and state, and appends the
// audit entry in the same step.
// KEYS[1] doc, KEYS[2] audit; ARGV[1] expected version, ARGV[2] expected state
// (both as stored), ARGV[3] audit entry, ARGV[4] n = number of fields to
// delete, ARGV[5..4+n] those fields, then field/value pairs to set.
// Returns {1} on success, {-1} when the document is gone, {0, version, state}
// when someone else wrote first.
var transitionScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'version', 'state')
if not cur[1] then return {-1} end
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then return {0, cur[1], cur[2] or ''} end
local n = tonumber(ARGV[4])
if n > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 5, 4 + n)) end
if #ARGV > 4 + n then redis.call('HSET', KEYS[1], unpack(ARGV, 5 + n)) end
redis.call('RPUSH', KEYS[2], ARGV[3])
return {1}
`)

// appendAuditScript appends an audit entry only to an existing request.
// KEYS[1] doc, KEYS[2] audit; ARGV[1] entry. Returns 1, or 0 when absent.
var appendAuditScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`)

// deleteIfValueScript deletes KEYS[1] only while it holds ARGV[1]: releasing
// a reservation or a lock never removes one that someone else took since.
// Returns 1 when deleted.
var deleteIfValueScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// persistIfValueScript makes KEYS[1] permanent only while it holds ARGV[1]
// (confirms a provisional reservation once its request is written).
var persistIfValueScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PERSIST', KEYS[1]) return 1 end
return 0
`)

// refreshJobScript renews a consumer's claim on a stream entry, but only while
// that consumer still owns it: a worker that stalled past the claim timeout
// must not take its job back from the worker that took it over.
// KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] entry id.
// Returns 1 when renewed, 0 when the entry is no longer this consumer's.
var refreshJobScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
`)

// extendIfValueScript renews KEYS[1]'s TTL (ARGV[2] ms) only while it holds
// ARGV[1]: a lock is extended by its owner and nobody else.
var extendIfValueScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// scripts are every script of the store, for LoadScripts.
var scripts = []*redis.Script{
	createScript, newIDScript, raiseScript, transitionScript, appendAuditScript, deleteIfValueScript,
	persistIfValueScript, refreshJobScript, extendIfValueScript, holdLaterScript,
	createDraftScript, saveDraftScript, addTemplateVersionScript, setTemplateStatusScript,
}

// LoadScripts loads every script on the server, or on every primary of a
// cluster, so that no request pays for a script's first use (a create's
// pipeline sends its scripts by SHA). A server that restarts later forgets
// them; the scripts then load themselves again on first use.
func (s *Store) LoadScripts(ctx context.Context) error {
	load := func(ctx context.Context, c redis.Scripter) error {
		for _, sc := range scripts {
			if err := sc.Load(ctx, c).Err(); err != nil {
				return fmt.Errorf("load scripts: %w", err)
			}
		}
		return nil
	}
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return load(ctx, c) })
	}
	return load(ctx, s.rdb)
}
