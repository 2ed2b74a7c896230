package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/store"
)

const (
	// requesters spread the submissions over users, as a team would.
	requesters = 64
	// rssIdleMax and rssLoadMax are targets (f), in bytes.
	rssIdleMax = 40 << 20
	rssLoadMax = 120 << 20
	// p99Max is the latency target of (b) and (c) at the largest client count.
	p99Max = 25 * time.Millisecond
	// newMin is target (b): `new` reaches half the durable floor, the least
	// a bot that saves before it answers can do.
	newMin = 0.5
	// clickMin is target (c), against the floor.
	clickMin = 0.25
)

func requester(seq int64) string { return fmt.Sprintf("UREQ%02d", seq%requesters) }

// customerText is a complete `new` for external id ext.
func customerText(ext string) string {
	return `new name="Bench ` + ext + ` GmbH" email=it@` + ext + `.example external-id=` + ext +
		` country=DE package=webex_calling provisioning-id=PROV-DE-1 supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115 timezone=Europe/Berlin language=de_DE`
}

// fastWebex is the sandbox of the ack-path scenarios: no rate limit, short
// provisioning, so the background work the acks start finishes quickly.
func fastWebex() (*sandbox.Sandbox, *server, error) {
	opts := sandbox.DefaultOptions()
	opts.Delay = 100 * time.Millisecond
	return webex(opts)
}

// fastBot starts one bot for scenario on its own fastWebex; stop ends both
// and logs what the bot asked of Slack in its life, the work its load runs
// left behind included. Slack's quotas start full.
func (b *bench) fastBot(ctx context.Context, scenario string) (bot *botProc, stop func(), err error) {
	b.slack.resetLimits()
	slackBefore := b.slack.use()
	sb, wsrv, err := fastWebex()
	if err != nil {
		return nil, nil, err
	}
	if bot, err = b.startBot(ctx, scenario, b.env(scenario, wsrv.URL)); err != nil {
		wsrv.Close()
		sb.Close()
		return nil, nil, err
	}
	return bot, func() {
		bot.Stop()
		b.logf("bot %s stopped; over its life: %s", scenario, b.slack.use().since(slackBefore))
		wsrv.Close()
		sb.Close()
	}, nil
}

// runHelpNew runs (a) help, (b) complete `new` commands and (f) memory on
// one bot.
func (b *bench) runHelpNew(ctx context.Context) error {
	bot, stop, err := b.fastBot(ctx, "ab")
	if err != nil {
		return err
	}
	defer stop()
	pid := bot.cmd.Process.Pid
	if b.o.has("f") {
		// Settled: the start-up (Redis, Slack auth, the first sweep) is over.
		time.Sleep(2 * time.Second)
		rss, _, err := memory(pid)
		if err != nil {
			return fmt.Errorf("read RSS: %w", err)
		}
		b.add(row{scenario: "(f) RSS idle", figure: mb(rss), target: "≤ 40 MB", verdict: judge(rss <= rssIdleMax)})
		b.logf("(f) idle RSS %s", mb(rss))
	}
	if b.o.has("a") {
		b.logf("(a) help")
		body := commandBody("UALICE", "help")
		for _, c := range b.o.clients {
			res, use := b.load(ctx, bot.URL+"/slack/commands", c, func(int64) string { return body })
			r := row{scenario: "(a) help", clients: c, res: &res, floor: b.floor[c], target: "≥ 0.7× floor", figure: join(errorsFigure(res), use.String())}
			r.verdict = judge(res.failed == 0 && r.ratio() >= 0.7)
			b.add(r)
		}
	}
	if !b.o.has("b") {
		return nil
	}
	b.logf("(b) new, complete")
	st := store.New(b.rdb, b.prefix("ab"))
	var peak int64
	for _, c := range b.o.clients {
		before, _ := st.Count(ctx, request.AllStates...)
		stopRSS := rssSampler(pid, 100*time.Millisecond)
		res, use := b.load(ctx, bot.URL+"/slack/commands", c, func(seq int64) string {
			return commandBody(requester(seq), customerText(fmt.Sprintf("BN-%d-%d", c, seq)))
		})
		peak = max(peak, stopRSS())
		after, _ := st.Count(ctx, request.AllStates...)
		// A 200 may carry a refusal; only saved requests count as done work.
		figure := join(join(fmt.Sprintf("%d saved", after-before), errorsFigure(res)), use.String())
		b.add(b.ackRow("(b) new", c, res, figure, int(after-before) >= res.ok, true, newMin))
	}
	if b.o.has("f") {
		_, hwm, _ := memory(pid)
		b.add(row{scenario: "(f) RSS under (b)", figure: fmt.Sprintf("%s (peak sampled; VmHWM %s)", mb(peak), mb(hwm)),
			target: "≤ 120 MB", verdict: judge(peak <= rssLoadMax)})
		b.logf("(f) RSS under (b): peak %s, VmHWM %s", mb(peak), mb(hwm))
	}
	return nil
}

// ackRow judges (b) and (c): at least minRatio of the durable floor (b) or
// of the floor (c), and p99 ≤ 25 ms at the largest client count. Both
// ratios are shown.
func (b *bench) ackRow(name string, c int, res result, figure string, sound, durable bool, minRatio float64) row {
	r := row{scenario: name, clients: c, res: &res, floor: b.floor[c], durable: b.durable[c], figure: figure}
	ratio, of := r.ratio(), "floor"
	if durable {
		ratio, of = r.durableRatio(), "durable floor"
	}
	r.target = fmt.Sprintf("≥ %g× %s", minRatio, of)
	ok := sound && res.failed == 0 && ratio >= minRatio
	if c == b.o.maxClients() {
		r.target += ", p99 ≤ 25 ms"
		ok = ok && res.pct(0.99) <= p99Max
	}
	r.verdict = judge(ok)
	return r
}

// poolSize is how many pending requests the click runs may use up: enough
// for runs of 10,000 clicks/s, above what the bot reaches on a small
// machine; a run that empties the pool is measured up to that point (the
// table says so).
func (b *bench) poolSize(runs int) int {
	if b.o.pool > 0 {
		return b.o.pool
	}
	return min(runs*int((b.o.duration+b.o.warmup).Seconds()*10000), 400000)
}

// pendingPool creates n requests waiting for approval, precheck passed and
// summary posted, straight in the store: the state `new` leaves behind once
// its background work is done. It returns the Approve buttons' values.
func pendingPool(ctx context.Context, st *store.Store, scenario string, n int) ([]string, error) {
	spec, missing, errs := input.ParseCustomer(map[string]string{
		"name": "Bench Pool GmbH", "email": "it@pool.example", "external-id": "POOL", "country": "DE",
		"package": "webex_calling", "provisioning-id": "PROV-DE-1", "supported-location": "yes",
		"address": "Hauptstraße 1", "city": "Berlin", "zip": "10115", "timezone": "Europe/Berlin", "language": "de_DE",
	}, input.CustomerOptions{})
	if len(missing) > 0 || len(errs) > 0 {
		return nil, fmt.Errorf("pool customer: missing %v, %v", missing, errs)
	}
	values := make([]string, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				s := *spec
				s.ExternalID = fmt.Sprintf("BP-%s-%d", scenario, i)
				raw, err := json.Marshal(&s)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				r := &request.Request{
					Kind: request.KindCustomer, State: request.StatePendingApproval,
					Requester: requester(i), Subject: s.ExternalID, ExternalID: s.ExternalID, Spec: raw,
					Hash:     request.HashSpec(raw),
					Precheck: request.Precheck{Status: request.PrecheckOK, At: time.Now()},
					Summary:  request.MessageRef{Channel: "CAPPROVALS", TS: fmt.Sprintf("1700000000.%06d", i)},
				}
				if err := st.Create(ctx, r); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				values[i] = r.Ref() + ":" + r.Hash
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return values, firstErr
}

// clicks hands out the pool's buttons in order, each once, to approvers
// other than the requester.
type clicks struct {
	pool []string
	next atomic.Int64
}

func (c *clicks) body(int64) string {
	i := c.next.Add(1) - 1
	if i >= int64(len(c.pool)) {
		return ""
	}
	approver := "UBOB"
	if i%2 == 1 {
		approver = "UCAROL"
	}
	return clickBody(approver, "approve", c.pool[i])
}

// runClicks is (c): Approve clicks, each on its own pending request.
func (b *bench) runClicks(ctx context.Context) error {
	bot, stop, err := b.fastBot(ctx, "c")
	if err != nil {
		return err
	}
	defer stop()
	n := b.poolSize(len(b.o.clients))
	b.logf("(c) creating %d pending requests", n)
	pool, err := pendingPool(ctx, store.New(b.rdb, b.prefix("c")), "c", n)
	if err != nil {
		return err
	}
	b.logf("(c) approve clicks")
	cl := &clicks{pool: pool}
	b.slack.clickAnswers() // start counting here
	for _, c := range b.o.clients {
		// The answers of the run before go out in the background: let them
		// finish, so that this run does not pay for them.
		sent := int(min(cl.next.Load(), int64(len(pool))))
		if !waitFor(ctx, 30*time.Second, func() bool { return b.slack.answered() >= sent }) {
			b.logf("(c) %d of %d click answers out after 30 s; the next run starts anyway", b.slack.answered(), sent)
		}
		res, use := b.load(ctx, bot.URL+"/slack/interactions", c, cl.body)
		figure := errorsFigure(res)
		if res.exhausted {
			figure = join(figure, "pool ran out; measured until then")
		}
		b.add(b.ackRow("(c) approve click", c, res, join(figure, use.String()), true, false, clickMin))
	}
	return nil
}

// runReplicas is (e): Approve clicks through one round-robin reverse proxy
// to 1 replica, then to 3, all on one Redis. Every click must be handled
// once: one "approved" answer per request, no refusal, and as many requests
// approved in the store as clicks answered 200.
func (b *bench) runReplicas(ctx context.Context) error {
	b.slack.resetLimits()
	sb, wsrv, err := fastWebex()
	if err != nil {
		return err
	}
	defer func() { wsrv.Close(); sb.Close() }()
	// All three start before the pool exists: a replica's start-up sweep
	// reads every request, and one started between the runs would measure
	// that instead of the clicks. Outside the proxy a replica only polls.
	bots, err := b.startReplicas(ctx, b.env("e", wsrv.URL), 3)
	defer func() {
		for _, bot := range bots {
			bot.Stop()
		}
	}()
	if err != nil {
		return err
	}
	st := store.New(b.rdb, b.prefix("e"))
	n := b.poolSize(2)
	b.logf("(e) creating %d pending requests", n)
	pool, err := pendingPool(ctx, st, "e", n)
	if err != nil {
		return err
	}
	rr := newRoundRobin()
	proxy, err := serve(rr)
	if err != nil {
		return err
	}
	defer proxy.Close()
	c := b.o.maxClients()
	cl := &clicks{pool: pool}
	b.slack.clickAnswers() // start counting here
	// Each setup runs twice for half the time, in the order 1, 3, 3, 1, so
	// that a drift in the machine's other load weighs on both alike.
	byReplicas := map[int][]result{}
	slackBy := map[int]slackUse{}
	for _, replicas := range []int{1, 3, 3, 1} {
		var urls []string
		for _, bot := range bots[:replicas] {
			urls = append(urls, bot.URL)
		}
		if err := rr.set(urls...); err != nil {
			return err
		}
		b.logf("(e) %d replica(s) behind the proxy", replicas)
		before := b.slack.use()
		res := load{url: proxy.URL + "/slack/interactions", secret: signingSecret, clients: c,
			warmup: b.o.warmup, measure: b.o.duration / 2, body: cl.body}.run(ctx)
		use := b.slack.use().since(before)
		b.logf("  %d clients: %.0f rps, p99 %s, %d failed; %s", c, res.rps(), ms(res.pct(0.99)), res.failed, use)
		byReplicas[replicas] = append(byReplicas[replicas], res)
		slackBy[replicas] = slackBy[replicas].add(use)
		// The answers of one run's clicks go out in the background: let
		// them finish, so that the next run does not pay for them.
		sent := int(min(cl.next.Load(), int64(len(pool))))
		waitFor(ctx, 30*time.Second, func() bool { return b.slack.answered() >= sent })
	}
	// Every click sent, warm-up included, must be answered exactly once.
	check, once, err := b.clickedOnce(ctx, st, n, int(min(cl.next.Load(), int64(len(pool)))))
	if err != nil {
		return err
	}
	one, three := merge(byReplicas[1]...), merge(byReplicas[3]...)
	ratio := 0.0
	if one.rps() > 0 {
		ratio = three.rps() / one.rps()
	}
	b.add(row{scenario: "(e) 1 replica behind the proxy", clients: c, res: &one, figure: join(errorsFigure(one), slackBy[1].String())})
	b.add(row{scenario: "(e) 3 replicas behind the proxy", clients: c, res: &three,
		figure: join(join(fmt.Sprintf("3/1 = %.2f×; %s", ratio, check), errorsFigure(three)), slackBy[3].String()),
		target: "≥ 0.9× of 1 replica; every click once", verdict: judge(ratio >= 0.9 && once && one.failed+three.failed == 0)})
	if !once {
		return errors.New("(e) clicks were not all handled exactly once: " + check)
	}
	return nil
}

// startReplicas starts n bots e1, e2, … with env; it returns those it
// started, also on an error.
func (b *bench) startReplicas(ctx context.Context, env map[string]string, n int) ([]*botProc, error) {
	var bots []*botProc
	for i := range n {
		bot, err := b.startBot(ctx, fmt.Sprintf("e%d", i+1), env)
		if err != nil {
			return bots, err
		}
		bots = append(bots, bot)
	}
	return bots, nil
}

// clickedOnce checks that each of the sent clicks on a pool of n pending
// requests was answered "approved" exactly once, none refused, and that
// Redis holds as many approved: what it says, and whether it holds.
func (b *bench) clickedOnce(ctx context.Context, st *store.Store, n, sent int) (string, bool, error) {
	approved, refused := b.slack.clickAnswers()
	twice := 0
	for _, k := range approved {
		if k > 1 {
			twice++
		}
	}
	pending, err := st.Count(ctx, request.StatePendingApproval)
	if err != nil {
		return "", false, err
	}
	handled := int64(n) - pending
	once := twice == 0 && refused == 0 && len(approved) == sent && handled == int64(sent)
	return fmt.Sprintf("%d clicks: %d approved once, %d twice, %d refused; %d approved in Redis", sent, len(approved)-twice, twice, refused, handled), once, nil
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
