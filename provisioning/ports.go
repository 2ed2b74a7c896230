package provisioning

import (
	"context"
	"time"
)

// Transition is one compare-and-set move of a request: it succeeds only when
// the stored request is in one of From, and it bumps the version. The store
// applies Mutate to a fresh copy, writes the result and appends the audit
// entry in one atomic step; when another writer got there first it re-reads
// and tries again, so Mutate must be a pure function of the request.
type Transition struct {
	From   []State // allowed current states; must not be empty
	To     State   // the new state; "" keeps the current one (a plain update)
	Actor  string  // who: a Slack user id, "worker", "auto", "sweeper"
	Action string  // audit verb: approved, rejected, precheck, committing, ...
	Note   string
	Mutate func(r *Request) error // may be nil; an error aborts the transition and is returned

	// Current, when set, is the caller's fresh, unchanged read of the
	// request: the store uses it as the expected version and state instead
	// of reading the request again. When it is stale the compare-and-set
	// fails and the store re-reads and tries again as after any lost race.
	// Mutate never sees the caller's struct, only a private copy.
	Current *Request
	// Enqueue puts the request's job on the job stream (what
	// JobQueue.EnqueueJob does) together with the index updates, once the
	// compare-and-set has won: a lost or refused transition enqueues
	// nothing. A failed enqueue does not undo the transition (the store
	// reports it; approved requests without a job are queued again).
	Enqueue bool
}

// RequestStore is what the worker needs of request storage.
type RequestStore interface {
	Get(ctx context.Context, id int64) (*Request, error)
	// Transition returns *StateConflict when the request is not in t.From.
	Transition(ctx context.Context, id int64, t Transition) (*Request, error)
}

// Job is one approved request handed to a worker through the job stream.
type Job struct {
	ID         string // stream entry id
	RequestID  int64
	Deliveries int64 // how often it was handed out (1 on first delivery)
}

// JobQueue is the crash-safe job stream (a Redis Stream with a consumer group).
type JobQueue interface {
	EnqueueJob(ctx context.Context, requestID int64) error
	// NextJob hands out a job: first one abandoned by a dead consumer (idle
	// longer than the claim timeout), else a new one, waiting up to block.
	// It returns (nil, nil) when there is none.
	NextJob(ctx context.Context, consumer string, block time.Duration) (*Job, error)
	// RefreshJob renews the consumer's claim so the job is not taken over.
	RefreshJob(ctx context.Context, consumer string, job *Job) error
	AckJob(ctx context.Context, job *Job) error
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
	Refresh(ctx context.Context, r *Request)
}

// Events is how the worker reports to people. handlers implements it; the
// worker never blocks on it for long.
type Events interface {
	// Progress reports a step of a request being committed.
	Progress(ctx context.Context, r *Request, text string)
	// Settled reports that a request reached done, failed or waiting.
	Settled(ctx context.Context, r *Request)
}
