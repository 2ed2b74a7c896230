package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// outcome is what an import run left behind, read once every plan had
// settled: times, Webex calls, what the sandbox holds, Redis's rows.
type outcome struct {
	wall       time.Duration // Approve → the last request of the plans done or failed (audit)
	importDone time.Duration // Approve → the import's done (audit); 0: not done
	importMsg  string
	done, fail int // plans
	failures   []string
	window     webexUse // Approve → end
	all        webexUse // the import's command → end
	tally      tally
	extra      int // customers at the sandbox that are not the import's (the probe)
	usersDone  int // Redis: rows of the users steps done or existed
	hwm        int64
	// created and firstUser are when the import's last customer create
	// was accepted at the sandbox (the recorder) and its first user was
	// created there (the subscribers' creation times).
	created, firstUser time.Time
}

// outcome reads the run's figures; the sandbox's contents are listed
// through its API after the figures were taken.
func (run *importRun) outcome(ctx context.Context) (outcome, error) {
	var o outcome
	o.window, o.all = webexSince(run.atApprove, run.atEnd), webexSince(run.atStart, run.atEnd)
	last, err := run.plans.settledAt(ctx)
	if err != nil {
		return o, err
	}
	if o.wall = run.endAt.Sub(run.approveAt); !last.IsZero() && last.Before(run.endAt) {
		o.wall = last.Sub(run.approveAt)
	}
	imp, err := run.st.Get(ctx, run.importID)
	if err != nil {
		return o, err
	}
	o.importMsg = string(imp.State) + ": " + imp.Result.Message
	if at, err := finalAt(ctx, run.st, run.importID); err == nil && !at.IsZero() {
		o.importDone = at.Sub(run.approveAt)
	}
	o.failures = run.plans.failed()
	o.fail = len(o.failures)
	o.done = len(run.plans.ended) - o.fail
	if o.usersDone, err = run.plans.usersDone(ctx); err != nil {
		return o, err
	}
	if _, hwm, err := memory(run.bot().cmd.Process.Pid); err == nil {
		o.hwm = hwm
	}
	// The counters first: a create landing during the listing is then found
	// without counting as a duplicate.
	counters := run.sb.Stats()
	got, err := listSandbox(ctx, run.wsrv.URL+"/v1")
	if err != nil {
		return o, err
	}
	o.tally = run.set.check(got, counters)
	o.created, o.firstUser = run.rec.createdAll(len(run.set.exts)), got.firstUser
	for ext, n := range got.customers {
		if !slices.Contains(run.set.exts, ext) {
			o.extra += n
		}
	}
	o.tally.earlyRetries = run.atEnd.EarlyRetries
	return o, nil
}

// lost is the import's customers and users missing at the sandbox, or
// users Redis does not hold done, whichever is more.
func (o outcome) lost(users int) int {
	return o.tally.customersMissing + max(o.tally.usersMissing, users-o.usersDone)
}

// plansSaid is "50 done, 0 failed; the import done 181.2s after Approve
// (done: 50/50 customers provisioned)".
func (o outcome) plansSaid() string {
	s := fmt.Sprintf("%d done, %d failed", o.done, o.fail)
	if o.importDone > 0 {
		s += fmt.Sprintf("; the import done %s after Approve", o.importDone.Round(100*time.Millisecond))
	}
	s += fmt.Sprintf(" (%s)", o.importMsg)
	if len(o.failures) > 0 {
		s += "; first failure: " + o.failures[0]
	}
	return s
}

// phasesSaid is "the import's last customer created at the sandbox 28.3s
// after Approve, its first user 35.1s".
func (o outcome) phasesSaid(approveAt time.Time) string {
	at := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Sub(approveAt).Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("the import's last customer created at the sandbox %s after Approve, its first user %s", at(o.created), at(o.firstUser))
}

// report adds (g)'s rows.
func (run *importRun) report(ctx context.Context, pr probeResult, waitErr error) error {
	b := run.b
	o, err := run.outcome(ctx)
	if err != nil {
		return err
	}
	n := run.set.userCount()
	ideal := time.Duration(float64(o.window.admitted()) / b.o.rate * float64(time.Second))
	ratio := o.wall.Seconds() / ideal.Seconds()
	scen := fmt.Sprintf("(g) import of %d customers × %d users, each a plan customer → PSTN → numbers → users; sandbox --rate %g, 50 ms, WORKER_CONCURRENCY=8, WEBEX_RATE=rate",
		len(run.set.exts), b.o.importUsers, b.o.rate)
	wall := fmt.Sprintf("%s from Approve until every plan was done or failed in Redis (%s); ideal %s = %d Webex calls let through ÷ %g/s (%d made, %d answered 429) → %.2f× ideal; %s; the import's precheck took %s",
		o.wall.Round(100*time.Millisecond), o.plansSaid(), ideal.Round(100*time.Millisecond), o.window.admitted(), b.o.rate,
		o.window.total, o.window.limited, ratio, o.phasesSaid(run.approveAt), run.precheck.Round(100*time.Millisecond))
	if waitErr != nil {
		wall = "NOT SETTLED: " + waitErr.Error() + "; " + wall
	}
	b.add(row{scenario: scen, figure: wall, target: "≤ 1.15× ideal", verdict: judge(waitErr == nil && ratio <= importTimeMax)})
	b.add(row{scenario: "(g) Webex calls from Approve to the end, by kind", figure: o.window.byKind()})
	pc, pl := run.probeCallsUntil(run.endAt)
	calls, admitted := o.all.total-pc, o.all.admitted()-(pc-pl)
	perUser, perUserAdmitted := float64(calls)/float64(max(o.tally.usersOnce, 1)), float64(admitted)/float64(max(o.tally.usersOnce, 1))
	b.add(row{scenario: "(g) Webex calls per onboarded user", target: "≤ 2.5",
		figure: fmt.Sprintf("%.2f: %d calls from the import's command to the end, prechecks included (%d before Approve), the single new's %d left out, for %d users onboarded; %.2f counting only the calls the rate limit let through",
			perUser, calls, o.all.total-o.window.total, pc, o.tally.usersOnce, perUserAdmitted),
		verdict: judge(o.tally.usersOnce > 0 && perUser <= importCallsMax)})
	dup, lost := o.tally.duplicates(o.extra), o.lost(n)
	_, slack429 := run.slackEnd.totals()
	b.add(row{scenario: "(g) duplicates, lost rows, early retries, Slack 429s",
		figure: fmt.Sprintf("%s; %d duplicates, %d lost (Redis: %d of %d rows done); %d early retries; %s (from the command to the end), %d Slack calls given up after 429s (bot log)",
			o.tally, dup, lost, o.usersDone, n, o.tally.earlyRetries, run.slackEnd, run.slackGaveUp()),
		target: "0 dup, 0 lost, 0 early retries, 0 Slack 429s", verdict: judge(dup == 0 && lost == 0 && o.tally.earlyRetries == 0 && slack429 == 0)})
	peak := run.stopSampling()[0]
	b.add(row{scenario: "(g) bot RSS", figure: fmt.Sprintf("peak %s sampled every 100 ms (VmHWM %s)", mb(peak), mb(o.hwm)),
		target: "≤ 150 MB", verdict: judge(max(peak, o.hwm) <= importRSSMax)})
	b.add(run.probeFigure(ctx, pr))
	for _, r := range b.rows[len(b.rows)-6:] {
		b.logf("%s: %s", r.scenario, r.figure)
	}
	b.logf("(g) requests in Redis: %s", run.requestsOf(ctx))
	if cs := run.plans.customers; len(cs) > 0 {
		b.logf("(g) the first plan's audit, from Approve: %s", run.plans.timeline(ctx, cs[0], run.approveAt))
		b.logf("(g) the last plan's audit, from Approve: %s", run.plans.timeline(ctx, cs[len(cs)-1], run.approveAt))
	}
	return nil
}

// requestsOf counts the requests in Redis under the run's prefix by kind
// and state, for the log: "customer done 51, pstn done 50, …".
func (run *importRun) requestsOf(ctx context.Context) string {
	counts, err := run.st.RequestCounts(ctx)
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, c := range counts {
		if c.Count > 0 {
			parts = append(parts, fmt.Sprintf("%s %s %d", c.Kind, c.State, c.Count))
		}
	}
	return strings.Join(parts, ", ")
}
