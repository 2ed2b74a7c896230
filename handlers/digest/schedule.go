package digest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"
)

// Scheduler runs a job at each occurrence of a cron schedule (the digest,
// DIGEST_SCHEDULE). Every replica runs one: the job receives the scheduled
// occurrence itself, not the time it woke up, so all replicas name the
// same occurrence when they claim its work.
type Scheduler struct {
	// Spec is a five-field cron schedule, optionally after CRON_TZ=Zone
	// (which wins over Location).
	Spec     string
	Location *time.Location // nil: UTC
	Run      func(ctx context.Context, occurrence time.Time)
	Log      *logrus.Entry

	// Now and After are the clock; tests replace them. nil: the real one.
	Now   func() time.Time
	After func(d time.Duration) <-chan time.Time

	wg sync.WaitGroup
}

// parse checks the schedule; Start reports its error.
func (s *Scheduler) parse() (cron.Schedule, error) {
	sched, err := cron.ParseStandard(s.Spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", s.Spec, err)
	}
	return sched, nil
}

// Next is the first occurrence after t.
func (s *Scheduler) Next(t time.Time) (time.Time, error) {
	sched, err := s.parse()
	if err != nil {
		return time.Time{}, err
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	// A CRON_TZ= prefix makes the schedule compute in its own zone; else
	// it computes in the zone of the time it is given.
	return sched.Next(t.In(loc)), nil
}

// Start runs the schedule until ctx ends. The job runs in the scheduler's
// goroutine: a run that outlasts the next occurrence delays it rather than
// overlapping it.
func (s *Scheduler) Start(ctx context.Context) error {
	if s.Run == nil {
		return fmt.Errorf("scheduler: no job")
	}
	if _, err := s.parse(); err != nil {
		return err
	}
	now, after := s.Now, s.After
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	s.wg.Go(func() {
		var last time.Time
		for {
			// From the last occurrence at least: a timer that fired early
			// must not yield the same occurrence twice.
			from := now()
			if from.Before(last) {
				from = last
			}
			next, err := s.Next(from)
			if err != nil || next.IsZero() {
				return // parsed above; a zero time means no occurrence ever
			}
			select {
			case <-ctx.Done():
				return
			case <-after(next.Sub(now())):
			}
			// A timer may fire a little early; the job still gets the
			// occurrence it was set for.
			s.run(ctx, next)
			last = next
		}
	})
	return nil
}

// Wait blocks until the scheduler has stopped (its context ended) and the
// run in progress, if any, has returned: shutdown drains it.
func (s *Scheduler) Wait() { s.wg.Wait() }

func (s *Scheduler) run(ctx context.Context, occurrence time.Time) {
	defer func() {
		if p := recover(); p != nil && s.Log != nil {
			s.Log.WithField("panic", fmt.Sprint(p)).Error("scheduled job panicked")
		}
	}()
	if ctx.Err() != nil {
		return
	}
	s.Run(ctx, occurrence)
}
