package worker

import (
	"context"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// RequestStore is what the worker needs of request storage.
type RequestStore interface {
	Get(ctx context.Context, id int64) (*request.Request, error)
	// Transition returns *StateConflict when the request is not in t.From.
	Transition(ctx context.Context, id int64, t request.Transition) (*request.Request, error)
}

// JobQueue is the crash-safe job stream (a Redis Stream with a consumer group).
type JobQueue interface {
	EnqueueJob(ctx context.Context, requestID int64) error
	// NextJob hands out a job: first one abandoned by a dead consumer (idle
	// longer than the claim timeout), else a new one, waiting up to block.
	// It returns (nil, nil) when there is none.
	NextJob(ctx context.Context, consumer string, block time.Duration) (*request.Job, error)
	// RefreshJob renews the consumer's claim so the job is not taken over.
	RefreshJob(ctx context.Context, consumer string, job *request.Job) error
	AckJob(ctx context.Context, job *request.Job) error
}

// WatchList holds waiting requests by their next check time; any replica
// polls it, one item at a time under a per-item lock.
type WatchList interface {
	Watch(ctx context.Context, requestID int64, next time.Time) error
	Unwatch(ctx context.Context, requestID int64) error
	DueWatches(ctx context.Context, now time.Time, max int) ([]int64, error)
	// TryLock takes name for owner for ttl; false when someone else holds it.
	TryLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ExtendLock renews a lock owner holds; false when it was lost.
	ExtendLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, name, owner string) error
}

// Refresher is an optional part of Events: a request whose state did not
// change but whose summary shows something that did (the age of a hold).
type Refresher interface {
	Refresh(ctx context.Context, r *request.Request)
}

// Events is how the worker reports to people. handlers implements it; the
// worker never blocks on it for long.
type Events interface {
	// Progress reports a step of a request being committed.
	Progress(ctx context.Context, r *request.Request, text string)
	// Settled reports that a request reached done, failed or waiting.
	Settled(ctx context.Context, r *request.Request)
}
