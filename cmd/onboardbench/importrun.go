package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/store"
)

// importSettleMax bounds the wait for an import's plans to settle.
const importSettleMax = 20 * time.Minute

// importRun is one run of scenario (g) or (g-kill): its sandbox (behind the
// recorder), its bots (one, or the killed one and its successor), the
// sandbox's counters at each mark and the plans in Redis.
type importRun struct {
	b    *bench
	name string
	set  importSet
	sb   *sandbox.Sandbox
	rec  *recorder
	wsrv *server
	st   *store.Store
	env  map[string]string

	bots     []*botProc
	samplers []func() int64
	peaks    []int64 // sampled peak RSS of each bot, once stopped

	slackBefore slackUse
	importID    int64
	precheck    time.Duration
	atStart     sandbox.Stats // before the import's command
	atApprove   sandbox.Stats // just before its Approve click
	atEnd       sandbox.Stats // once every plan had settled
	approveAt   time.Time
	endAt       time.Time // when the bench saw every plan settled
	slackEnd    slackUse  // Slack's calls and 429s at endAt, since the run began
	plans       *plans
}

// newImportRun starts the sandbox (--rate o.rate, 50 ms latency, 500 ms
// provisioning, as in (d)) and a bot with WORKER_CONCURRENCY=8 on a Redis
// prefix of its own. Slack's quotas start full.
func (b *bench) newImportRun(ctx context.Context, name, tag string) (*importRun, error) {
	b.slack.resetLimits()
	run := &importRun{b: b, name: name, set: newImportSet(tag, b.o.importCustomers, b.o.importUsers), slackBefore: b.slack.use()}
	opts := sandbox.DefaultOptions()
	opts.Rate, opts.Latency, opts.Delay = b.o.rate, 50*time.Millisecond, 500*time.Millisecond
	opts.Token = webexToken
	run.sb = sandbox.New(opts)
	run.rec = newRecorder(run.sb)
	srv, err := serve(run.rec)
	if err != nil {
		run.sb.Close()
		return nil, err
	}
	run.wsrv = srv
	run.st = store.New(b.rdb, b.prefix(name))
	// The sandbox's limit is known here, as a partner knows its token's:
	// WEBEX_RATE paces the bot to it instead of learning it from 429s.
	run.env = b.env(name, srv.URL, "WORKER_CONCURRENCY", "8", "WEBEX_RATE", strconv.FormatFloat(b.o.rate, 'f', -1, 64))
	if err := run.startBot(ctx, name); err != nil {
		run.close()
		return nil, err
	}
	return run, nil
}

// bot is the bot running now.
func (run *importRun) bot() *botProc { return run.bots[len(run.bots)-1] }

// startBot starts a bot on the run's environment and samples its RSS.
func (run *importRun) startBot(ctx context.Context, name string) error {
	bot, err := run.b.startBot(ctx, name, run.env)
	if err != nil {
		return err
	}
	run.bots = append(run.bots, bot)
	run.samplers = append(run.samplers, rssSampler(bot.cmd.Process.Pid, 100*time.Millisecond))
	return nil
}

// stopSampling ends the RSS samplers (once) and returns each bot's peak.
func (run *importRun) stopSampling() []int64 {
	for _, stop := range run.samplers[len(run.peaks):] {
		run.peaks = append(run.peaks, stop())
	}
	return run.peaks
}

// close stops the bots and the sandbox and logs what the bots asked of
// Slack over the run, the work left after its end included.
func (run *importRun) close() {
	run.stopSampling()
	for _, bot := range run.bots {
		bot.Stop()
	}
	if len(run.bots) > 0 {
		run.b.logf("(%s) bots stopped; over the run: %s", run.name, run.b.slack.use().since(run.slackBefore))
	}
	if run.wsrv != nil {
		run.wsrv.Close()
	}
	run.sb.Close()
}

// submit sends the import as UALICE and waits for its precheck (Webex
// prechecks every customer), which must pass.
func (run *importRun) submit(ctx context.Context) error {
	run.atStart = run.sb.Stats()
	run.b.logf("(%s) import of %d customers with %d users: %d bytes of command text", run.name, len(run.set.exts), run.set.userCount(), len(run.set.command()))
	t0 := time.Now()
	id, err := run.b.submitAndWait(ctx, run.bot(), run.st, run.set.command(), 5*time.Minute)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	run.importID, run.precheck = id, time.Since(t0)
	run.b.logf("(%s) %s submitted, precheck passed in %s", run.name, request.FormatID(id), run.precheck.Round(100*time.Millisecond))
	return nil
}

// approve clicks the import's Approve as UBOB and waits until the bot
// took it (the import left pending approval).
func (run *importRun) approve(ctx context.Context) error {
	r, err := run.st.Get(ctx, run.importID)
	if err != nil {
		return err
	}
	run.atApprove = run.sb.Stats()
	run.approveAt = time.Now()
	if _, err := ack(ctx, run.bot().URL+"/slack/interactions", clickBody("UBOB", "approve", r.Ref()+":"+r.Hash)); err != nil {
		return fmt.Errorf("approve %s: %w", r.Ref(), err)
	}
	if !waitFor(ctx, 30*time.Second, func() bool {
		r, err = run.st.Get(ctx, run.importID)
		return err == nil && r.State != request.StatePendingApproval
	}) {
		return fmt.Errorf("%s still pending 30 s after its Approve click", r.Ref())
	}
	run.plans = newPlans(run.st, run.importID)
	return nil
}

// wait polls Redis until every plan of the import has settled, calling
// hook at each poll (the probe, the kill) and logging progress every 10 s.
func (run *importRun) wait(ctx context.Context, hook func(context.Context) error) error {
	deadline := run.approveAt.Add(importSettleMax)
	nextLog := run.approveAt.Add(10 * time.Second)
	for {
		settled, err := run.plans.poll(ctx)
		if err != nil {
			return err
		}
		if settled {
			run.atEnd, run.endAt, run.slackEnd = run.sb.Stats(), time.Now(), run.b.slack.use().since(run.slackBefore)
			run.waitImport(ctx)
			return nil
		}
		if hook != nil {
			if err := hook(ctx); err != nil {
				return err
			}
		}
		if now := time.Now(); now.After(nextLog) {
			st := run.sb.Stats()
			use := webexSince(run.atApprove, st)
			run.b.logf("(%s) %s: %d/%d plans settled, %d customers created and %d users at the sandbox; %d Webex calls, %d answered 429",
				run.name, now.Sub(run.approveAt).Round(time.Second), len(run.plans.ended), len(run.plans.customers),
				st.Creates, st.Subscribers, use.total, use.limited)
			nextLog = nextLog.Add(10 * time.Second)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			run.atEnd, run.endAt, run.slackEnd = run.sb.Stats(), time.Now(), run.b.slack.use().since(run.slackBefore)
			return fmt.Errorf("%d of %d plans settled within %s", len(run.plans.ended), len(run.plans.customers), importSettleMax)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitImport gives the import request, whose check runs when one of its
// customers settles or its watch comes due, up to a minute to end after its
// plans did.
func (run *importRun) waitImport(ctx context.Context) {
	if !waitFor(ctx, time.Minute, func() bool {
		imp, err := run.st.Get(ctx, run.importID)
		return err == nil && imp.State.Final()
	}) {
		run.b.logf("(%s) %s not done a minute after its plans settled", run.name, request.FormatID(run.importID))
	}
}

// slackGaveUp counts the Slack calls the bots gave up after 429s (their
// logs' "rate limited after N attempts"): outcome lines, DMs, updates not
// sent.
func (run *importRun) slackGaveUp() int {
	n := 0
	for _, bot := range run.bots {
		b, err := os.ReadFile(bot.log)
		if err != nil {
			continue
		}
		n += bytes.Count(b, []byte("rate limited after"))
	}
	return n
}

// kill SIGKILLs the running bot, waits until it is gone and starts the
// next one on the same Redis and sandbox.
func (run *importRun) kill(ctx context.Context, next string) error {
	old := run.bot()
	if err := old.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("SIGKILL bot %s: %w", old.name, err)
	}
	if !waitFor(ctx, 10*time.Second, func() bool { return old.cmd.Process.Signal(syscall.Signal(0)) != nil }) {
		return fmt.Errorf("bot %s still there 10 s after SIGKILL", old.name)
	}
	return run.startBot(ctx, next)
}

// webexUse is the sandbox's calls between two snapshots: per operation
// ("POST /wholesale/subscribers"), in all, and how many were answered 429.
type webexUse struct {
	calls          map[string]int
	total, limited int
}

func webexSince(before, after sandbox.Stats) webexUse {
	u := webexUse{calls: map[string]int{}, limited: after.RateLimited - before.RateLimited}
	for op, n := range after.Calls {
		if d := n - before.Calls[op]; d > 0 {
			u.calls[op] = d
			u.total += d
		}
	}
	return u
}

// admitted is the calls the sandbox's rate limit let through.
func (u webexUse) admitted() int { return u.total - u.limited }

// byKind lists the operations, most calls first: "POST
// /wholesale/subscribers 2000, …".
func (u webexUse) byKind() string {
	ops := slices.Collect(maps.Keys(u.calls))
	slices.SortFunc(ops, func(a, b string) int {
		if u.calls[a] != u.calls[b] {
			return u.calls[b] - u.calls[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = fmt.Sprintf("%s %d", op, u.calls[op])
	}
	return strings.Join(parts, ", ")
}
