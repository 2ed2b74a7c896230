package worker

import (
	"context"
	"sync"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// Run takes jobs until ctx ends: Runners at once from the lane people wait
// for, bulkRunnersPer times as many from the bulk lane. A job in
// hand when ctx ends is left unacknowledged: its claim lapses and another
// worker takes it over. The watch list is checked by CheckWatchList, which
// the replica's loops run every PollInterval.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { w.runLane(ctx, w.Jobs.NextJob, w.runners()) })
	wg.Go(func() { w.runLane(ctx, w.Jobs.NextBulkJob, bulkRunnersPer*w.runners()) })
	wg.Wait()
}

// defaultRunners is how many jobs of the lane people wait for a worker runs
// at once; the bulk lane runs bulkRunnersPer times as many: an import's
// customers spend most of their job waiting for Webex to provision them,
// and the Webex rate limit, not the runners, bounds how fast they go.
const (
	defaultRunners = 4
	bulkRunnersPer = 4
)

func (w *Worker) runners() int {
	if w.Runners > 0 {
		return w.Runners
	}
	return defaultRunners
}

// enqueue hands r's job to its lane: the bulk lane for the work of an
// import, the other for everything someone waits for.
func (w *Worker) enqueue(ctx context.Context, r *request.Request) error {
	if r.Import != 0 {
		return w.Jobs.EnqueueBulkJob(ctx, r.ID)
	}
	return w.Jobs.EnqueueJob(ctx, r.ID)
}

// runLane takes the jobs of one lane and runs up to n at once, until ctx
// ends. One loop reads the lane, so a lane holds one Redis connection in a
// blocking read however many jobs it runs (a pool shared with the handlers
// must not be drained by waiting readers).
func (w *Worker) runLane(ctx context.Context, next func(context.Context, string, time.Duration) (*request.Job, error), n int) {
	slots := make(chan struct{}, n)
	var running sync.WaitGroup
	defer running.Wait()
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		job, err := next(ctx, w.Consumer, w.PollInterval*4)
		if err != nil || job == nil {
			<-slots
			if err != nil && ctx.Err() == nil {
				w.log().WithError(err).Warn("job stream unavailable")
				sleepCtx(ctx, time.Second)
			}
			continue
		}
		if w.Yield != nil {
			w.Yield()
		}
		running.Go(func() {
			defer func() { <-slots }()
			w.handleJob(ctx, job)
		})
	}
}

// commitLockTTL is shorter than the job stream's claim timeout: when a dead
// worker's job is claimed again, its commit lock has already expired, so a
// lock still held means a live worker has the request and the job in hand
// is a duplicate.
func (w *Worker) commitLockTTL() time.Duration { return 2 * w.claimRefresh() }

func (w *Worker) claimRefresh() time.Duration {
	if w.ClaimRefresh > 0 {
		return w.ClaimRefresh
	}
	return 5 * time.Second
}

func (w *Worker) handleJob(ctx context.Context, job *request.Job) {
	log := w.log().WithFields(logrus.Fields{"request": request.FormatID(job.RequestID), "job": job.ID})
	lock := "commit:" + request.FormatID(job.RequestID)
	ok, err := w.Watch.TryLock(ctx, lock, w.Consumer, w.commitLockTTL())
	if err != nil {
		log.WithError(err).Warn("commit lock unavailable; the job will be retried")
		return
	}
	if !ok {
		// Another live worker commits this request (a duplicate job).
		if err := w.Jobs.AckJob(ctx, job); err != nil {
			log.WithError(err).Warn("ack duplicate job")
		}
		return
	}
	defer func() {
		if err := w.Watch.Unlock(context.WithoutCancel(ctx), lock, w.Consumer); err != nil {
			log.WithError(err).Warn("release commit lock")
		}
	}()
	jobCtx, stop := context.WithCancel(ctx)
	defer stop()
	go w.keepClaim(jobCtx, stop, job, lock)

	if err := w.Commit(jobCtx, job.RequestID); err != nil {
		// A system fault (Redis down, shutdown, claim lost): leave the job
		// unacknowledged so that it is delivered again.
		log.WithError(err).Warn("job not finished; it will be retried")
		return
	}
	if err := w.Jobs.AckJob(ctx, job); err != nil {
		log.WithError(err).Warn("ack job")
	}
}

// keepClaim renews the job's claim and the commit lock while the job runs.
// If the lock is lost (this worker stalled past its TTL), the job is stopped:
// someone else may be committing the request now.
func (w *Worker) keepClaim(ctx context.Context, stop context.CancelFunc, job *request.Job, lock string) {
	t := time.NewTicker(w.claimRefresh())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.Jobs.RefreshJob(ctx, w.Consumer, job); err != nil && ctx.Err() == nil {
				w.log().WithError(err).Warn("refresh job claim")
			}
			held, err := w.Watch.ExtendLock(ctx, lock, w.Consumer, w.commitLockTTL())
			if err == nil && !held {
				w.log().WithField("request", request.FormatID(job.RequestID)).Warn("commit lock lost; stopping this job")
				stop()
				return
			}
		}
	}
}
