// Package background runs the bot's work outside the ack path: a few
// goroutines fed by a queue, which give way to Slack requests being
// answered (Answering, YieldToAcks), shed what something else makes up for
// when the queue is full (Spare), and hold a request's reports back until
// the answer owed for it is out (Hold, Report). Handlers queue summaries,
// prechecks, click answers and events on it; the worker yields to it.
package background

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Background work — summary posts and prechecks, click answers, progress
// lines — runs on a few goroutines fed by a queue, not on a goroutine per
// task, and gives way to acks: while Slack requests are being answered, a
// task waits up to ackYield before it starts. A burst of submissions or
// clicks then queues its Slack and Webex calls behind the acks instead of
// competing with them for the CPU (Slack gives an ack 3 s; a summary may come
// a little later). Slack's posting limits (about one message a second per
// channel) make more concurrency pointless anyway.
const (
	// backgroundWorkers is how many tasks run at once.
	backgroundWorkers = 4
	// backgroundBacklog is how many tasks may wait before the ones that can
	// be made up for later are shed (see spare): a summary task holds its
	// request, a few KB, and the bot stays small under a burst.
	backgroundBacklog = 2_000
	// backgroundTimeout bounds one task once it runs.
	backgroundTimeout = 2 * time.Minute
	// ackYield is the longest a task waits for acks in progress.
	ackYield = 200 * time.Millisecond
	// ackQuiet is how long no Slack request must have been in progress
	// before a waiting task starts early: a burst has short gaps too.
	ackQuiet = 2 * time.Millisecond
	// ackPoll is how often a waiting task looks again: every waiter's
	// wake-up costs a little CPU, and replicas on one node add up.
	ackPoll = 5 * time.Millisecond
)

// task is one piece of background work.
type task struct {
	ctx  context.Context
	what string
	f    func(ctx context.Context) error
}

// Queue is the queue of background tasks and its workers. The zero value is
// not usable: use New.
type Queue struct {
	log *logrus.Entry
	// wg counts tasks queued or running (Wait); active the same for Busy.
	wg     sync.WaitGroup
	active atomic.Int64
	gates  reportGates

	mu      sync.Mutex
	queue   []task
	running int // workers draining the queue
	shed    int // tasks shed since the last log line
	shedAll int // tasks shed since start
	logged  time.Time

	acks    atomic.Int32  // Slack requests being answered now
	lastAck atomic.Int64  // when one began or ended, Unix ns
	yield   time.Duration // ackYield; tests make it longer
}

// New returns an empty queue that logs failed tasks to log.
func New(log *logrus.Entry) *Queue {
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	return &Queue{log: log}
}

// Wait blocks until every queued task has run (graceful shutdown).
func (q *Queue) Wait() { q.wg.Wait() }

// Busy reports whether tasks are queued, held or running.
func (q *Queue) Busy() bool { return q.active.Load() > 0 }

func (q *Queue) track(d int) { q.active.Add(int64(d)) }

// Go runs f outside the ack path, after the tasks queued before it. Its
// context is detached from the request's, which ends with the ack.
func (q *Queue) Go(ctx context.Context, what string, f func(ctx context.Context) error) {
	q.enqueue(task{ctx: context.WithoutCancel(ctx), what: what, f: f}, false)
}

// Spare is Go for work that something else makes up for when it is shed: a
// summary never posted is posted by the publish sweep, a summary not
// refreshed is refreshed by the request's next event. When backgroundBacklog
// tasks are waiting, f is dropped and counted; Spare reports whether it was
// queued.
func (q *Queue) Spare(ctx context.Context, what string, f func(ctx context.Context) error) bool {
	return q.enqueue(task{ctx: context.WithoutCancel(ctx), what: what, f: f}, true)
}

func (q *Queue) enqueue(t task, sheddable bool) bool {
	b := q
	b.mu.Lock()
	if sheddable && len(b.queue) >= backgroundBacklog {
		b.shed++
		b.shedAll++
		now := time.Now()
		var shed int
		if now.Sub(b.logged) >= 10*time.Second {
			shed, b.shed, b.logged = b.shed, 0, now
		}
		b.mu.Unlock()
		if shed > 0 {
			q.log.WithFields(logrus.Fields{"shed": shed, "waiting": backgroundBacklog}).
				Warn("background queue full: tasks shed (summaries are posted by the publish sweep)")
		}
		return false
	}
	q.track(+1)
	q.wg.Add(1)
	b.queue = append(b.queue, t)
	start := b.running < backgroundWorkers
	if start {
		b.running++
	}
	b.mu.Unlock()
	if start {
		go q.drain()
	}
	return true
}

// drain runs queued tasks until the queue is empty, then ends: no goroutine
// outlives the work.
func (q *Queue) drain() {
	b := q
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running--
			b.queue = nil // let a burst's array go
			b.mu.Unlock()
			return
		}
		t := b.queue[0]
		b.queue[0] = task{}
		b.queue = b.queue[1:]
		b.mu.Unlock()
		q.YieldToAcks()
		q.run(t)
	}
}

func (q *Queue) run(t task) {
	defer q.wg.Done()
	defer q.track(-1)
	ctx, cancel := context.WithTimeout(t.ctx, backgroundTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			q.log.WithFields(logrus.Fields{"panic": fmt.Sprint(p)}).Error(t.what + ": panic\n" + string(debug.Stack()))
		}
	}()
	if err := t.f(ctx); err != nil {
		q.log.WithError(err).Warn(t.what)
	}
}

// Answering counts a Slack request being answered until the returned func
// is called (Command and Interaction).
func (q *Queue) Answering() (done func()) {
	b := q
	b.acks.Add(1)
	b.lastAck.Store(time.Now().UnixNano())
	return func() {
		b.lastAck.Store(time.Now().UnixNano())
		b.acks.Add(-1)
	}
}

// YieldToAcks holds the caller back while Slack requests are being
// answered, for ackYield at most: under a steady stream of requests
// background work still moves, slowly, and the queue sheds what it cannot
// hold. The worker calls it before each job too.
func (q *Queue) YieldToAcks() {
	b := q
	busy := func() bool {
		return b.acks.Load() > 0 || time.Since(time.Unix(0, b.lastAck.Load())) < ackQuiet
	}
	if !busy() {
		return
	}
	yield := b.yield
	if yield == 0 {
		yield = ackYield
	}
	for deadline := time.Now().Add(yield); busy() && time.Now().Before(deadline); {
		time.Sleep(ackPoll)
	}
}

// Backlog is how many background tasks wait to run (metrics).
func (q *Queue) Backlog() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// Shed is how many background tasks were dropped from a full queue since
// start (metrics).
func (q *Queue) Shed() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shedAll
}
