package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// Targets of scenario (g).
const (
	importTimeMax  = 1.15 // wall time ≤ 1.15 × the ideal (admitted calls ÷ rate)
	importCallsMax = 2.5  // Webex calls per onboarded user
	importRSSMax   = 150 << 20
	probeMax       = 5 * time.Second // a single `new` approved during the import: Approve → its create at Webex
	probeAfter     = 10 * time.Second
	probeExt       = "BENCH-G-PROBE"
)

// runImport is (g): an import of o.importCustomers customers with
// o.importUsers users each, every customer a plan (customer → PSTN → numbers
// → users), through the bot's endpoints: the signed slash command, then
// the Approve click by another user, at a sandbox limited to o.rate
// requests/s with 50 ms latency, WORKER_CONCURRENCY=8, Slack's rate limits
// on. About 10 s after the Approve a single `new` customer is submitted
// and approved, and the time until its create reaches the sandbox is
// measured.
func (b *bench) runImport(ctx context.Context) error {
	run, err := b.startImport(ctx, "g", "G")
	if err != nil {
		return err
	}
	defer run.close()
	b.logf("(g) approved; a single new %s follows in %s", probeExt, probeAfter)
	pr := run.probe(ctx)
	waitErr := run.wait(ctx, nil)
	res := <-pr
	if res.err != nil {
		b.logf("(g) probe: %v", res.err)
	}
	if err := run.report(ctx, res, waitErr); err != nil {
		return err
	}
	return waitErr
}

// probeResult is the single `new` of (g): its request, and when its
// Approve was clicked.
type probeResult struct {
	id        int64
	approveAt time.Time
	precheck  time.Duration
	err       error
}

// probe submits and approves the single `new` probeAfter after the
// import's Approve, in the background; the recorder follows its calls
// from its submission on.
func (run *importRun) probe(ctx context.Context) <-chan probeResult {
	out := make(chan probeResult, 1)
	go func() {
		var res probeResult
		defer func() { out <- res }()
		select {
		case <-time.After(time.Until(run.approveAt.Add(probeAfter))):
		case <-ctx.Done():
			res.err = ctx.Err()
			return
		}
		run.rec.follow(probeExt)
		t0 := time.Now()
		if res.id, res.err = run.b.submitAndWait(ctx, run.bot(), run.st, customerText(probeExt), 5*time.Minute); res.err != nil {
			return
		}
		res.precheck = time.Since(t0)
		r, err := run.st.Get(ctx, res.id)
		if err != nil {
			res.err = err
			return
		}
		res.approveAt = time.Now()
		if _, res.err = ack(ctx, run.bot().URL+"/slack/interactions", clickBody("UBOB", "approve", r.Ref()+":"+r.Hash)); res.err == nil {
			run.b.logf("(g) %s %s approved %s after the import's Approve (its precheck took %s)", r.Ref(), probeExt,
				res.approveAt.Sub(run.approveAt).Round(100*time.Millisecond), res.precheck.Round(100*time.Millisecond))
		}
	}()
	return out
}

// probeFigure is the probe's row: from its Approve to its create at the
// sandbox, as the recorder in front of the sandbox saw it, with the audit's
// "creating" (written just before the bot sends the create) beside it.
// It waits up to 3 minutes for a create that had not come by the end of
// the import.
func (run *importRun) probeFigure(ctx context.Context, res probeResult) row {
	r := row{scenario: "(g) a single new, approved ~10 s into the import", target: "≤ 5 s from its Approve to its create at the sandbox", verdict: missed}
	if res.err != nil || res.approveAt.IsZero() {
		r.figure = fmt.Sprintf("not measured: %v", res.err)
		return r
	}
	waitFor(ctx, 3*time.Minute, func() bool { first, _ := run.rec.created(); return !first.IsZero() })
	first, accepted := run.rec.created()
	creating, err := auditAt(ctx, run.st, res.id, func(e request.AuditEntry) bool { return e.Action == request.ActionCreating }, false)
	if err != nil {
		run.b.logf("(g) probe audit: %v", err)
	}
	since := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Sub(res.approveAt).Round(10 * time.Millisecond).String()
	}
	at := res.approveAt.Sub(run.approveAt).Round(100 * time.Millisecond)
	r.figure = fmt.Sprintf("approved %s after the import's Approve; its create reached the sandbox %s after its Approve (accepted %s; audit \"creating\" %s); its precheck took %s",
		at, since(first), since(accepted), since(creating), res.precheck.Round(100*time.Millisecond))
	r.verdict = judge(!first.IsZero() && first.Sub(res.approveAt) <= probeMax)
	return r
}

// probeCallsUntil counts the probe's calls that reached the sandbox before
// t, and how many of them were answered 429.
func (run *importRun) probeCallsUntil(t time.Time) (calls, limited int) {
	for _, c := range run.rec.probeCalls() {
		if c.at.Before(t) {
			calls++
			if c.status == http.StatusTooManyRequests {
				limited++
			}
		}
	}
	return calls, limited
}

// startImport starts an import run (its sandbox and bot), submits the
// import and approves it; the caller closes the run.
func (b *bench) startImport(ctx context.Context, name, tag string) (*importRun, error) {
	run, err := b.newImportRun(ctx, name, tag)
	if err != nil {
		return nil, err
	}
	if err := run.submit(ctx); err == nil {
		err = run.approve(ctx)
	}
	if err != nil {
		run.close()
		return nil, err
	}
	return run, nil
}
