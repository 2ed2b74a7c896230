package main

import (
	"context"
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/onboardbot/onboardbot/bot"
	"github.com/onboardbot/onboardbot/handlers"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// sweep heals indexes at start and every five minutes, and every minute
// queues approved requests whose job was lost (an enqueue that failed after
// the approval): the worker's commit lock makes a duplicate job harmless;
// and it publishes pending requests whose summary or precheck never came
// (a task shed from a full queue, a crash): publish's lock and fresh read
// make that harmless too.
func (a *App) sweep(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for tick := 0; ; tick++ {
		if tick%5 == 0 {
			if _, err := a.store.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.log.WithError(err).Warn("sweep")
			}
		}
		a.requeueApproved(ctx, time.Minute)
		a.republish(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *App) requeueApproved(ctx context.Context, olderThan time.Duration) {
	// Committing requests too: one whose job was lost (a crash before the
	// job was written) would otherwise stay committing; for a live one the
	// duplicate job is acked at once (the commit lock is held).
	approved, err := a.store.List(ctx, store.Query{States: []request.State{request.StateApproved, request.StateCommitting}, Limit: 100})
	if err != nil {
		if ctx.Err() == nil {
			a.log.WithError(err).Warn("list approved requests")
		}
		return
	}
	for _, r := range approved {
		if time.Since(r.UpdatedAt) < olderThan {
			continue
		}
		if err := a.store.EnqueueJob(ctx, r.ID); err != nil {
			a.log.WithError(err).WithField("request", r.Ref()).Warn("requeue approved request")
		}
	}
}

// republishBatch bounds the pending requests one sweep reads, oldest first:
// far more than a partner has waiting for approval at a time.
const republishBatch = 1000

func (a *App) republish(ctx context.Context) {
	pending, err := a.store.List(ctx, store.Query{States: []request.State{request.StatePendingApproval}, Limit: republishBatch})
	if err != nil {
		if ctx.Err() == nil {
			a.log.WithError(err).Warn("list pending requests")
		}
		return
	}
	now := time.Now()
	for _, r := range pending {
		if handlers.Unpublished(r, now) && !a.handler.Republish(ctx, r) {
			return // the queue is full: the next sweep goes on
		}
	}
}

func webexStatus(status int, err error) string {
	switch {
	case status > 0:
		return strconv.Itoa(status)
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "timeout"
	default:
		return "error"
	}
}

func (a *App) wireMetrics(poll time.Duration) {
	_ = a.metrics.CollectBackground(
		func() float64 { return float64(a.queue.Backlog()) },
		func() float64 { return float64(a.queue.Shed()) })
	_ = a.metrics.CollectRequests(func() []bot.RequestCount {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		counts, err := a.store.RequestCounts(ctx)
		if err != nil {
			return nil
		}
		out := make([]bot.RequestCount, 0, len(counts))
		for _, c := range counts {
			out = append(out, bot.RequestCount{Kind: string(c.Kind), State: string(c.State), Count: float64(c.Count)})
		}
		return out
	})
}

func (a *App) refreshGauges(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, oldest, err := a.store.JobStream(ctx); err == nil {
			a.metrics.SetJobStream(int(n), oldest)
		}
		if n, err := a.store.WatchListSize(ctx); err == nil {
			a.metrics.SetWatchListSize(int(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
