package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/store"
)

// usersTimeMax is target (d): the batch takes at most 1.15× N/R.
const usersTimeMax = 1.15

var submittedRE = regexp.MustCompile(`R-(\d+) submitted`)

// runUsers is (d): a customer, then a batch of o.users users, both through
// the bot's HTTP endpoints as Slack would send them, at a sandbox limited to
// o.rate requests/s (burst = rate) with 50 ms latency, WORKER_CONCURRENCY=8.
// The figure is the time from the Approve click to the batch's end, against
// N/R; duplicates, lost rows and early retries come from the sandbox.
func (b *bench) runUsers(ctx context.Context) error {
	b.slack.resetLimits()
	slackBefore := b.slack.use()
	opts := sandbox.DefaultOptions()
	opts.Rate, opts.Latency, opts.Delay = b.o.rate, 50*time.Millisecond, 500*time.Millisecond
	sb, wsrv, err := webex(opts)
	if err != nil {
		return err
	}
	defer func() { wsrv.Close(); sb.Close() }()
	bot, err := b.startBot(ctx, "d", b.env("d", wsrv.URL, "WORKER_CONCURRENCY", "8"))
	if err != nil {
		return err
	}
	defer bot.Stop()
	st := store.New(b.rdb, b.prefix("d"))

	b.logf("(d) customer BENCH-D")
	cust, err := b.submitAndWait(ctx, bot, st, customerText("BENCH-D"), 30*time.Second)
	if err != nil {
		return fmt.Errorf("customer: %w", err)
	}
	if _, err := b.approveAndWait(ctx, bot, st, cust, 60*time.Second); err != nil {
		return fmt.Errorf("customer: %w", err)
	}

	n := b.o.users
	b.logf("(d) %d users: precheck", n)
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf("Ann,User%04d,user%04d@bench-d.example,webex_calling,,%d,HQ", i, i, 2000+i)
	}
	t0 := time.Now()
	batch, err := b.submitAndWait(ctx, bot, st, "users BENCH-D rows="+strings.Join(rows, ";"), 5*time.Minute)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	precheck := time.Since(t0)
	before := sb.Stats()
	b.logf("(d) %d users: commit (precheck took %s)", n, precheck.Round(100*time.Millisecond))
	took, err := b.approveAndWait(ctx, bot, st, batch, 5*time.Minute)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	after := sb.Stats()
	outcomes, err := st.RowOutcomes(ctx, batch)
	if err != nil {
		return err
	}
	done := 0
	for _, o := range outcomes {
		if o.Status == request.RowDone || o.Status == request.RowExisted {
			done++
		}
	}
	// A duplicate is a subscriber created beyond the rows; a lost row is
	// one the bot or Webex does not have at the end.
	dup := max(0, after.SubscriberCreates-before.SubscriberCreates-done)
	lost := max(n-done, n-after.Subscribers)
	ideal := time.Duration(float64(n) / b.o.rate * float64(time.Second))
	ratio := took.Seconds() / ideal.Seconds()
	figure := fmt.Sprintf("%s for %d users = %.2f× N/R (%s); %d duplicates, %d lost, %d early retries, %d answered 429; precheck %s",
		took.Round(100*time.Millisecond), n, ratio, ideal, dup, lost, after.EarlyRetries, after.RateLimited-before.RateLimited,
		precheck.Round(100*time.Millisecond))
	// Slack's share: the whole scenario, the customer and its summary included.
	figure = join(figure, b.slack.use().since(slackBefore).String())
	b.add(row{scenario: fmt.Sprintf("(d) %d users, sandbox --rate %g, 50 ms, WORKER_CONCURRENCY=8", n, b.o.rate), figure: figure,
		target: "≤ 1.15× N/R; 0 dup, 0 lost, 0 early", verdict: judge(ratio <= usersTimeMax && dup == 0 && lost == 0 && after.EarlyRetries == 0)})
	b.logf("(d) %s", figure)
	return nil
}

// submitAndWait sends a slash command as UALICE and waits until the
// request's precheck is over; it must have passed.
func (b *bench) submitAndWait(ctx context.Context, bot *botProc, st *store.Store, text string, limit time.Duration) (int64, error) {
	reply, err := ack(ctx, bot.URL+"/slack/commands", commandBody("UALICE", text))
	if err != nil {
		return 0, err
	}
	m := submittedRE.FindStringSubmatch(reply)
	if m == nil {
		return 0, fmt.Errorf("not submitted: %.300s", reply)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	var r *request.Request
	if !waitFor(ctx, limit, func() bool {
		r, err = st.Get(ctx, id)
		return err == nil && r.Precheck.Status != request.PrecheckRunning
	}) {
		return 0, fmt.Errorf("R-%d: precheck not done within %s", id, limit)
	}
	if r.Precheck.Status != request.PrecheckOK {
		return 0, fmt.Errorf("R-%d: precheck %s: %s", id, r.Precheck.Status, r.Precheck.Message)
	}
	return id, nil
}

// approveAndWait clicks Approve as UBOB and waits until the request rests;
// it returns the time from the click to done.
func (b *bench) approveAndWait(ctx context.Context, bot *botProc, st *store.Store, id int64, limit time.Duration) (time.Duration, error) {
	r, err := st.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := ack(ctx, bot.URL+"/slack/interactions", clickBody("UBOB", "approve", r.Ref()+":"+r.Hash)); err != nil {
		return 0, err
	}
	if !waitFor(ctx, limit, func() bool {
		r, err = st.Get(ctx, id)
		return err == nil && (r.State == request.StateDone || r.State == request.StateFailed || r.State == request.StateWaiting)
	}) {
		return 0, fmt.Errorf("%s not done within %s", request.FormatID(id), limit)
	}
	took := time.Since(start)
	if r.State != request.StateDone {
		return 0, errors.New(r.Ref() + " ended " + string(r.State) + ": " + r.Result.Message)
	}
	return took, nil
}
