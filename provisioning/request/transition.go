package request

import "errors"

// Transition is one compare-and-set move of a request: it succeeds only when
// the stored request is in one of From, and it bumps the version. The store
// applies Mutate to a fresh copy, writes the result and appends the audit
// entry in one atomic step; when another writer got there first it re-reads
// and tries again, so Mutate must be a pure function of the request.
type Transition struct {
	From   []State // allowed current states; must not be empty
	To     State   // the new state; "" keeps the current one (a plain update)
	Actor  string  // who: a Slack user id or a system actor (ActorWorker, ActorBot, ActorAuto)
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

// Job is one approved request handed to a worker through the job stream.
type Job struct {
	ID         string // stream entry id
	RequestID  int64
	Deliveries int64 // how often it was handed out (1 on first delivery)
	// Bulk marks a job of the bulk lane: work an import made, which runs
	// beside the jobs people wait for, never ahead of them.
	Bulk bool
}

// IgnoreConflict drops a *StateConflict: the request moved on meanwhile and
// whoever moved it reports its new state. Other errors pass through.
func IgnoreConflict(err error) error {
	var sc *StateConflict
	if errors.As(err, &sc) {
		return nil
	}
	return err
}
