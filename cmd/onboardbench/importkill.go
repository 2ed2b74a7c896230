package main

import (
	"context"
	"fmt"
	"time"
)

// runImportKill is (g-kill): the import of (g) (its own external ids,
// sandbox and Redis prefix; no single new), the bot SIGKILLed once about
// half the users exist at the sandbox, and started again on the same
// Redis and sandbox. At the end the sandbox must hold every customer and
// every user of the import exactly once, and nothing else.
func (b *bench) runImportKill(ctx context.Context) error {
	run, err := b.startImport(ctx, "g-kill", "GK")
	if err != nil {
		return err
	}
	defer run.close()
	half := run.set.userCount() / 2
	var killAt, readyAt time.Time
	var usersAtKill int
	waitErr := run.wait(ctx, func(ctx context.Context) error {
		if !killAt.IsZero() {
			return nil
		}
		if usersAtKill = run.sb.Stats().Subscribers; usersAtKill < half {
			return nil
		}
		killAt = time.Now()
		b.logf("(g-kill) SIGKILL bot %s: %d users at the sandbox, %s after Approve", run.bot().name, usersAtKill,
			killAt.Sub(run.approveAt).Round(100*time.Millisecond))
		if err := run.kill(ctx, "g-kill-2"); err != nil {
			return err
		}
		readyAt = time.Now()
		return nil
	})
	o, err := run.outcome(ctx)
	if err != nil {
		return err
	}
	n := run.set.userCount()
	dup, lost := o.tally.duplicates(o.extra), o.lost(n)
	killed := "never killed: the import settled before half its users existed"
	if !killAt.IsZero() {
		killed = fmt.Sprintf("SIGKILL %s after Approve with %d of %d users at the sandbox, the next bot ready %s later",
			killAt.Sub(run.approveAt).Round(100*time.Millisecond), usersAtKill, n, readyAt.Sub(killAt).Round(100*time.Millisecond))
	}
	peaks := run.stopSampling()
	figure := fmt.Sprintf("%s; every plan settled %s after Approve (%s); %s; %d other customers at the sandbox; %d duplicates, %d lost (Redis: %d of %d rows done); %d early retries; %d Webex calls from Approve (%d answered 429); %s, %d given up after 429s; RSS peaks %s",
		killed, o.wall.Round(100*time.Millisecond), o.plansSaid(), o.tally, o.extra, dup, lost, o.usersDone, n,
		o.tally.earlyRetries, o.window.total, o.window.limited, run.slackEnd, run.slackGaveUp(), peakList(peaks))
	if waitErr != nil {
		figure = "NOT SETTLED: " + waitErr.Error() + "; " + figure
	}
	b.add(row{scenario: fmt.Sprintf("(g-kill) (g)'s import, the bot SIGKILLed at about %d users and started again", half),
		figure: figure, target: "every customer and user of the import once: 0 dup, 0 lost",
		verdict: judge(waitErr == nil && !killAt.IsZero() && dup == 0 && lost == 0 && o.extra == 0)})
	b.logf("(g-kill) %s", figure)
	b.logf("(g-kill) requests in Redis: %s", run.requestsOf(ctx))
	return waitErr
}

// peakList is "91.2 MB, 88.0 MB": each bot's sampled peak RSS in order.
func peakList(peaks []int64) string {
	s := ""
	for i, p := range peaks {
		if i > 0 {
			s += ", "
		}
		s += mb(p)
	}
	return s
}
