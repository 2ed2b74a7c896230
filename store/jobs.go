package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// JobGroup is the consumer group every worker reads the job stream with.
const JobGroup = "workers"

// ErrJobLost is returned by RefreshJob when the consumer no longer holds the
// job: it was acked, or another consumer took it over after the claim
// timeout. The worker must stop working on it. It wraps ErrNotFound.
var ErrJobLost = fmt.Errorf("job is no longer held by this consumer: %w", request.ErrNotFound)

// groupFlag remembers that the consumer group exists, shared by the copies
// that the With* methods make.
type groupFlag struct{ ready atomic.Bool }

// There are two job streams, two lanes: the jobs people wait for (an
// approval, a retry, a request queued behind another) and the bulk lane
// (what an import made). Each lane has its own workers, so a customer
// approved during an import of fifty starts at once instead of behind them.

// laneKey is the stream of the bulk lane or of the other.
func (s *Store) laneKey(bulk bool) string {
	if bulk {
		return s.bulkJobsKey()
	}
	return s.jobsKey()
}

func (s *Store) laneFlag(bulk bool) *groupFlag {
	if bulk {
		return s.bulkReady
	}
	return s.groupReady
}

// ensureGroup creates the consumer group (and the stream) of a lane on
// first use. It starts at "0" so jobs enqueued before any worker ran are
// delivered too.
func (s *Store) ensureGroup(ctx context.Context, bulk bool) error {
	if s.laneFlag(bulk).ready.Load() {
		return nil
	}
	return s.groupCreated(s.createGroup(ctx, s.rdb, bulk).Err(), bulk)
}

// createGroup is the command that creates a lane's stream and its consumer
// group, sent on its own (ensureGroup) or in a transition's pipeline.
func (s *Store) createGroup(ctx context.Context, c redis.Cmdable, bulk bool) *redis.StatusCmd {
	return c.XGroupCreateMkStream(ctx, s.laneKey(bulk), JobGroup, "0")
}

// groupCreated takes createGroup's outcome: a group created now or before
// (BUSYGROUP) is remembered as ready.
func (s *Store) groupCreated(err error, bulk bool) error {
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group: %w", err)
	}
	s.laneFlag(bulk).ready.Store(true)
	return nil
}

// isNoGroup reports a stream or group that vanished (deleted by hand, or a
// flushed server): the group is created again on the next call.
func (s *Store) isNoGroup(err error, bulk bool) bool {
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		s.laneFlag(bulk).ready.Store(false)
		return true
	}
	return false
}

// EnqueueJob adds a job for request id to the stream. The stream is capped
// (approximately) so a runaway producer cannot fill Redis; acked jobs are
// deleted, so the cap only counts jobs not yet done.
func (s *Store) EnqueueJob(ctx context.Context, requestID int64) error {
	return s.enqueue(ctx, requestID, false)
}

// EnqueueBulkJob adds a job for request id to the bulk lane.
func (s *Store) EnqueueBulkJob(ctx context.Context, requestID int64) error {
	return s.enqueue(ctx, requestID, true)
}

func (s *Store) enqueue(ctx context.Context, requestID int64, bulk bool) error {
	if err := s.ensureGroup(ctx, bulk); err != nil {
		return fmt.Errorf("enqueue %s: %w", request.FormatID(requestID), err)
	}
	err := s.rdb.XAdd(ctx, s.jobArgs(requestID, bulk)).Err()
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", request.FormatID(requestID), err)
	}
	return nil
}

// jobArgs is the XADD of request id's job (also sent by Transition with
// Enqueue, in the pipeline after the compare-and-set).
func (s *Store) jobArgs(requestID int64, bulk bool) *redis.XAddArgs {
	return &redis.XAddArgs{
		Stream: s.laneKey(bulk),
		MaxLen: s.streamMaxLen,
		Approx: true,
		Values: []any{"request", strconv.FormatInt(requestID, 10)},
	}
}

// NextJob hands consumer a job: first one that another consumer left idle for
// longer than the claim timeout (it died), else a new one, waiting up to block
// (block <= 0: do not wait). It returns (nil, nil) when there is none.
func (s *Store) NextJob(ctx context.Context, consumer string, block time.Duration) (*request.Job, error) {
	return s.next(ctx, consumer, block, false)
}

// NextBulkJob is NextJob of the bulk lane.
func (s *Store) NextBulkJob(ctx context.Context, consumer string, block time.Duration) (*request.Job, error) {
	return s.next(ctx, consumer, block, true)
}

func (s *Store) next(ctx context.Context, consumer string, block time.Duration, bulk bool) (*request.Job, error) {
	for attempt := 0; ; attempt++ {
		job, err := s.nextJob(ctx, consumer, block, bulk)
		if s.isNoGroup(err, bulk) && attempt == 0 {
			continue
		}
		return job, err
	}
}

func (s *Store) nextJob(ctx context.Context, consumer string, block time.Duration, bulk bool) (*request.Job, error) {
	if err := s.ensureGroup(ctx, bulk); err != nil {
		return nil, fmt.Errorf("next job: %w", err)
	}
	job, err := s.claimAbandoned(ctx, consumer, bulk)
	if err != nil || job != nil {
		return job, err
	}
	args := &redis.XReadGroupArgs{
		Group:    JobGroup,
		Consumer: consumer,
		Streams:  []string{s.laneKey(bulk), ">"},
		Count:    1,
		Block:    -1, // go-redis omits BLOCK for negative values
	}
	if block > 0 {
		// BLOCK 0 means forever: never let a sub-millisecond wait round to it.
		args.Block = max(block, time.Millisecond)
	}
	streams, err := s.rdb.XReadGroup(ctx, args).Result()
	if isNil(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("next job: %w", err)
	}
	for _, st := range streams {
		for _, msg := range st.Messages {
			return s.toJob(ctx, msg, 1, bulk)
		}
	}
	return nil, nil
}

// claimAbandoned takes over the oldest entry idle for longer than the claim
// timeout. XAUTOCLAIM scans a bounded part of the pending list per call, so
// it is repeated along its cursor until the whole list has been seen.
func (s *Store) claimAbandoned(ctx context.Context, consumer string, bulk bool) (*request.Job, error) {
	start := "0-0"
	for range 100 {
		msgs, next, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream:   s.laneKey(bulk),
			Group:    JobGroup,
			MinIdle:  s.claimTimeout,
			Start:    start,
			Count:    1,
			Consumer: consumer,
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("claim abandoned job: %w", err)
		}
		for _, msg := range msgs {
			if msg.ID == "" || msg.Values == nil {
				continue // deleted while pending (Redis 6.2 reports these)
			}
			deliveries := int64(0)
			p, err := s.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
				Stream: s.laneKey(bulk), Group: JobGroup, Start: msg.ID, End: msg.ID, Count: 1,
			}).Result()
			if err == nil && len(p) == 1 {
				deliveries = p[0].RetryCount
			}
			return s.toJob(ctx, msg, max(deliveries, 2), bulk)
		}
		if next == "0-0" || next == "" {
			return nil, nil
		}
		start = next
	}
	return nil, nil
}

// toJob decodes an entry. An entry without a valid request id can never be
// worked on: it is acked and deleted, and reported as an error.
func (s *Store) toJob(ctx context.Context, msg redis.XMessage, deliveries int64, bulk bool) (*request.Job, error) {
	raw, _ := msg.Values["request"].(string)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		job := &request.Job{ID: msg.ID, Bulk: bulk}
		if aerr := s.AckJob(ctx, job); aerr != nil {
			return nil, fmt.Errorf("job %s has no request id; dropping it: %w", msg.ID, aerr)
		}
		return nil, fmt.Errorf("job %s has no request id (%q); dropped", msg.ID, raw)
	}
	return &request.Job{ID: msg.ID, RequestID: id, Deliveries: deliveries, Bulk: bulk}, nil
}

// RefreshJob resets the idle time of consumer's claim on job, so NextJob of
// other consumers leaves it alone. ErrJobLost when consumer no longer has it.
func (s *Store) RefreshJob(ctx context.Context, consumer string, job *request.Job) error {
	if job == nil {
		return errors.New("refresh job: nil job")
	}
	n, err := refreshJobScript.Run(ctx, s.rdb, []string{s.laneKey(job.Bulk)}, JobGroup, consumer, job.ID).Int()
	if err != nil {
		s.isNoGroup(err, job.Bulk)
		return fmt.Errorf("refresh job %s: %w", job.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("refresh job %s: %w", job.ID, ErrJobLost)
	}
	return nil
}

// AckJob marks job done and deletes it from the stream.
func (s *Store) AckJob(ctx context.Context, job *request.Job) error {
	if job == nil {
		return errors.New("ack job: nil job")
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, s.laneKey(job.Bulk), JobGroup, job.ID)
		p.XDel(ctx, s.laneKey(job.Bulk), job.ID)
		return nil
	})
	if err != nil {
		s.isNoGroup(err, job.Bulk)
		return fmt.Errorf("ack job %s: %w", job.ID, err)
	}
	return nil
}
