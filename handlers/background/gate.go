package background

import (
	"context"
	"sync"
	"time"
)

// An approval's answer ("👍 R-1 approved; …") comes before what the request
// reports afterwards. The worker may take the job the moment the approval
// is saved and report at once — a template without a provisioning id is
// "waiting for its provisioning id" without any Webex call — while the
// answer to the click is still queued (a click's answer is a background
// task: Slack ignores the body of a block_actions ack), and the queue runs
// several tasks at once. So a request's reports (progress lines, its outcome,
// the template checklist) are held while an answer is owed for it, and
// queued in order once the answer is out. reportGateTimeout bounds the hold,
// so an answer lost to a panic holds nothing for long.
const reportGateTimeout = 10 * time.Second

// reportGates are the requests that are owed an answer, with the reports
// held back meanwhile.
type reportGates struct {
	mu    sync.Mutex
	gates map[int64]*reportGate
}

type reportGate struct {
	holds int // answers owed
	held  []task
}

// Hold holds id's reports back until release is called, or
// reportGateTimeout has passed. release may be called more than once.
func (q *Queue) Hold(id int64) (release func()) {
	g := &q.gates
	g.mu.Lock()
	if g.gates == nil {
		g.gates = map[int64]*reportGate{}
	}
	rg := g.gates[id]
	if rg == nil {
		rg = &reportGate{}
		g.gates[id] = rg
	}
	rg.holds++
	g.mu.Unlock()
	var once sync.Once
	timer := time.AfterFunc(reportGateTimeout, func() { once.Do(func() { q.releaseReports(id) }) })
	return func() {
		once.Do(func() {
			timer.Stop()
			q.releaseReports(id)
		})
	}
}

func (q *Queue) releaseReports(id int64) {
	g := &q.gates
	g.mu.Lock()
	defer g.mu.Unlock()
	rg := g.gates[id]
	if rg == nil {
		return
	}
	if rg.holds--; rg.holds > 0 {
		return
	}
	delete(g.gates, id)
	// Under g.mu: a report made meanwhile queues behind these.
	for _, t := range rg.held {
		q.enqueue(t, false)
		q.track(-1)
		q.wg.Done()
	}
}

// Report runs f like Go does, behind the answer still owed for request id,
// if any.
func (q *Queue) Report(ctx context.Context, id int64, what string, f func(ctx context.Context) error) {
	t := task{ctx: context.WithoutCancel(ctx), what: what, f: f}
	g := &q.gates
	g.mu.Lock()
	defer g.mu.Unlock()
	if rg := g.gates[id]; rg != nil {
		// Counted like a queued task: Busy and shutdown wait for it.
		q.track(+1)
		q.wg.Add(1)
		rg.held = append(rg.held, t)
		return
	}
	q.enqueue(t, false)
}
