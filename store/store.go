// Package store owns everything onboardbot keeps in Redis: requests and their
// state machine (one Lua compare-and-set per transition, with its audit entry),
// the secondary indexes that lists and digests read, the sweeper that rebuilds
// them, external id reservations, the job stream, the watch list, locks,
// dedupe keys and shared rate limits.
//
// Keys (all under the configured prefix, e.g. "onboardbot:"):
//
//	{req:<n>}:doc          hash, one field per request field (JSON-encoded value)
//	{req:<n>}:audit        list of JSON audit entries, oldest first
//	{ids}:counter:req      INCR counter for request ids
//	{ids}:extid:<ext id>   string, id of the request holding the external id
//	                       (PX while provisional, permanent once written)
//	idx:state:<state>      sorted set of ids, score UpdatedAt (unix ms)
//	idx:owner:<requester>  sorted set of ids, score UpdatedAt
//	idx:kind:<kind>        sorted set of ids, score UpdatedAt
//	idx:owners, idx:kinds  sets naming the owner and kind indexes (for the sweeper)
//	jobs, jobs:bulk        streams (the bulk lane: an import's work), consumer group "workers"
//	watch                  sorted set of request ids, score next check (unix ms)
//	lock:<name>            string, the owner; PX ttl
//	locks                  sorted set of lock names, score expiry (unix ms)
//	once:<key>             dedupe marker; PX ttl
//	{ids}:rate:<key>       sorted set of accepted events in the window; PX window
//	drafts' keys           listed in drafts.go
//
// Per-request keys share the hash tag {req:<n>} so the scripts that touch them
// run on Redis Cluster. The request counter, the external id reservations and
// the rate windows share the hash tag {ids}, so that one script refuses a held
// external id, applies a submission budget, takes the next id and reserves the
// external id at once (Create); they all live in one slot. Every other key is
// written on its own, so no script needs more than one slot. Redis 7.0
// commands only.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// DefaultClaimTimeout is how long a job may sit unrefreshed with a consumer
// before another consumer takes it over.
const DefaultClaimTimeout = 30 * time.Second

// Store is the Redis-backed storage of onboardbot. It is safe for concurrent
// use; all state lives in Redis, so any number of replicas may share it.
type Store struct {
	rdb          redis.UniversalClient
	prefix       string
	now          func() time.Time
	claimTimeout time.Duration
	streamMaxLen int64
	listPage     int
	onError      func(op string, err error)
	groupReady   *groupFlag
	bulkReady    *groupFlag
	mark         *sweepMark
}

// New returns a Store that keeps its keys under prefix (e.g. "onboardbot:").
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{
		rdb:          rdb,
		prefix:       prefix,
		now:          time.Now,
		claimTimeout: DefaultClaimTimeout,
		streamMaxLen: 100000,
		listPage:     defaultListPage,
		onError:      func(string, error) {},
		groupReady:   &groupFlag{},
		bulkReady:    &groupFlag{},
		mark:         &sweepMark{},
	}
}

// WithClock returns a copy of s that reads the time from now, so tests can
// move time (timestamps, index scores, watch due times, rate windows).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// WithClaimTimeout returns a copy of s whose NextJob takes over jobs idle for
// longer than d (DefaultClaimTimeout when d <= 0).
func (s *Store) WithClaimTimeout(d time.Duration) *Store {
	c := *s
	if d <= 0 {
		d = DefaultClaimTimeout
	}
	c.claimTimeout = d
	return &c
}

// WithErrorHandler returns a copy of s that reports errors of follow-up steps
// that do not undo a committed write (index updates, reservation release);
// the sweeper repairs what they left behind. cmd/ passes a logger here.
func (s *Store) WithErrorHandler(fn func(op string, err error)) *Store {
	c := *s
	if fn == nil {
		fn = func(string, error) {}
	}
	c.onError = fn
	return &c
}

// Client returns the underlying Redis client (for readiness checks and tests).
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// clock returns the Store's current time without a monotonic reading, in UTC,
// so values compare equal after a JSON round trip.
func (s *Store) clock() time.Time { return s.now().Round(0).UTC() }

func (s *Store) reqTag(id int64) string   { return s.prefix + "{req:" + strconv.FormatInt(id, 10) + "}" }
func (s *Store) docKey(id int64) string   { return s.reqTag(id) + ":doc" }
func (s *Store) auditKey(id int64) string { return s.reqTag(id) + ":audit" }
func (s *Store) idsTag() string           { return s.prefix + "{ids}" }
func (s *Store) counterKey() string       { return s.idsTag() + ":counter:req" }

// extIDKey is the reservation of an external id. External ids that differ
// only in case name the same customer (MS-001 and ms-001), so the key holds
// the id in upper case; the request keeps it as typed. Keys written before
// that hold the id as typed: the sweep moves them (foldReservations).
func (s *Store) extIDKey(ext string) string {
	return s.idsTag() + ":extid:" + strings.ToUpper(ext)
}

// extIDPrefix starts every reservation key.
func (s *Store) extIDPrefix() string { return s.idsTag() + ":extid:" }

// Before the {ids} hash tag (the first releases) the counter and the
// reservations had keys of their own; Sweep moves them over (sweep.go).
func (s *Store) legacyCounterKey() string         { return s.prefix + "counter:req" }
func (s *Store) legacyExtIDKey(ext string) string { return s.prefix + "extid:" + ext }

func (s *Store) stateKey(st request.State) string { return s.prefix + "idx:state:" + string(st) }
func (s *Store) ownerKey(owner string) string     { return s.prefix + "idx:owner:" + owner }
func (s *Store) kindKey(k request.Kind) string    { return s.prefix + "idx:kind:" + string(k) }
func (s *Store) ownersKey() string                { return s.prefix + "idx:owners" }
func (s *Store) kindsKey() string                 { return s.prefix + "idx:kinds" }
func (s *Store) jobsKey() string                  { return s.prefix + "jobs" }
func (s *Store) bulkJobsKey() string              { return s.prefix + "jobs:bulk" }
func (s *Store) watchKey() string                 { return s.prefix + "watch" }
func (s *Store) lockKey(name string) string       { return s.prefix + "lock:" + name }
func (s *Store) locksKey() string                 { return s.prefix + "locks" }
func (s *Store) onceKey(key string) string        { return s.prefix + "once:" + key }
func (s *Store) rateKey(key string) string        { return s.idsTag() + ":rate:" + key }

// notFound wraps request.ErrNotFound with what was looked for.
func notFound(what string) error { return fmt.Errorf("%s: %w", what, request.ErrNotFound) }

// isNil reports whether err is Redis's "no such key".
func isNil(err error) bool { return errors.Is(err, redis.Nil) }

func unixMS(t time.Time) float64 { return float64(t.UnixMilli()) }

func isNotFound(err error) bool { return errors.Is(err, request.ErrNotFound) }
