package main

import (
	"context"
	"fmt"
	"time"

	"github.com/onboardbot/onboardbot/handlers"
	"github.com/sirupsen/logrus"
)

// A loop is one periodic part of a replica. Every replica runs every loop,
// so each round must be safe to run on several at once: locks, claims or
// idempotent writes make it so.
type loop struct {
	name  string
	every time.Duration
	round func(ctx context.Context)
}

// loops is every periodic part of a replica, in one list. The worker's job
// stream (worker.Run) and the digests (a cron schedule, scheduleDigests)
// run beside them.
func (a *App) loops(poll time.Duration) []loop {
	return []loop{
		// Waiting requests, until Webex settles them; one replica checks an
		// item at a time, under its lock.
		{"watch list", poll, a.worker.CheckWatchList},
		// Indexes rebuilt from the documents, external ids of requests that
		// were never written freed: a crash between a write and its
		// follow-ups heals itself.
		{"store sweep", 5 * time.Minute, a.sweepStore},
		// Jobs lost between an approval and the stream, queued again; the
		// worker's commit lock makes a duplicate harmless.
		{"requeue lost jobs", time.Minute, func(ctx context.Context) { a.worker.RequeueLost(ctx, a.store, time.Minute) }},
		// Summaries and prechecks that never came (a task shed from a full
		// queue, a process that stopped); publish's lock and fresh read
		// make a second one harmless.
		{"republish", time.Minute, a.handler.RepublishPending},
		// The member lists of APPROVER_GROUP and the groups in REQUESTERS.
		{"user groups", handlers.UserGroupRefresh, a.handler.RefreshUserGroups},
		// The job stream and watch list gauges of /metrics.
		{"gauges", poll * 4, func(ctx context.Context) { a.app.refreshGauges(ctx, a.store) }},
	}
}

// run runs a round at once and then every l.every until ctx ends. A round
// that panics is logged under the loop's name; the next round comes.
func (l loop) run(ctx context.Context, log *logrus.Entry) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		l.once(ctx, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *App) sweepStore(ctx context.Context) {
	if _, err := a.store.Sweep(ctx); err != nil && ctx.Err() == nil {
		a.log.WithError(err).Warn("sweep")
	}
}

func (l loop) once(ctx context.Context, log *logrus.Entry) {
	defer func() {
		if p := recover(); p != nil {
			log.WithFields(logrus.Fields{"loop": l.name, "panic": fmt.Sprint(p)}).Error("loop round panicked")
		}
	}()
	l.round(ctx)
}
