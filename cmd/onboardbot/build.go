package main

import (
	"context"
	"fmt"
	"time"

	"github.com/onboardbot/onboardbot/bot"
	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/handlers"
	"github.com/onboardbot/onboardbot/handlers/background"
	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
)

// start builds the parts of a replica in order — store, Webex client, the
// transport's outgoing side, handler, worker — then runs the worker, the
// loops and the digest schedule, and serves the mode's transport.
func (a *App) start(ctx context.Context, opts Options) error {
	if err := a.openStore(ctx, opts); err != nil {
		return err
	}
	customers, err := a.webexCustomers(ctx, opts)
	if err != nil {
		return err
	}
	out := a.outgoing(opts)
	a.buildHandler(customers, out)
	poll := pollInterval(a.cfg.Mode, opts)
	a.buildWorker(customers, opts, poll)
	a.app.collect(a.metrics.Registry(), a.queue, a.store)

	loopCtx, stopLoops := context.WithCancel(ctx)
	a.closers = append(a.closers, func() error { stopLoops(); return nil })
	a.goBackground(func() { a.worker.Run(loopCtx) })
	for _, l := range a.loops(poll) {
		a.goBackground(func() { l.run(loopCtx, a.log.WithField("component", "loops")) })
	}
	if err := a.scheduleDigests(loopCtx); err != nil {
		return err
	}
	return a.serve(ctx, opts, out.console)
}

// openStore connects to REDIS_URL (or opts.Redis) and loads the store's
// scripts.
func (a *App) openStore(ctx context.Context, opts Options) error {
	cfg := a.cfg
	rdb := opts.Redis
	if rdb == nil {
		client, closeRedis, err := store.Open(ctx, cfg.RedisURL.Value())
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		rdb = client
		a.closers = append(a.closers, closeRedis)
		if cfg.RedisURL == "" && cfg.Mode != config.ModeConsole {
			a.log.Warn("REDIS_URL is not set: using an embedded in-process Redis; run one replica only, state is lost on exit")
		}
	}
	storeLog := a.log.WithField("component", "store")
	a.store = store.New(rdb, cfg.RedisPrefix).WithClaimTimeout(opts.ClaimTimeout).WithErrorHandler(func(op string, err error) {
		// Follow-up writes after a committed write (indexes, a reservation's
		// confirmation or release, a job): the loops repair them (indexes
		// every five minutes, lost jobs every minute), but operators should
		// know.
		storeLog.WithError(err).Warn(op + " failed; a sweep will repair it")
	})
	loadCtx, cancelLoad := context.WithTimeout(ctx, 2*time.Second)
	err := a.store.LoadScripts(loadCtx)
	cancelLoad()
	if err != nil {
		// Not fatal: Redis may come later, and scripts load on first use.
		storeLog.WithError(err).Warn("Redis scripts not loaded at start; they load on first use")
	}
	return nil
}

// outgoingSide is how the bot speaks to people: Slack's Web API, or the
// console.
type outgoingSide struct {
	messenger chat.Messenger
	views     handlers.Views // modals: the console prints them as forms
	files     handlers.Files // uploads of forms (the users form's CSV file)
	console   *bot.Console   // console mode only
}

func (a *App) outgoing(opts Options) outgoingSide {
	cfg := a.cfg
	if cfg.Mode == config.ModeConsole {
		piped := !isTerminal(opts.Stdin)
		if opts.Piped != nil {
			piped = *opts.Piped
		}
		console := &bot.Console{In: opts.Stdin, Out: opts.Stdout, Piped: piped, Sandbox: cfg.WebexSandbox}
		if a.sandbox != nil {
			sb := a.sandbox
			console.SandboxStats = func() string { return sb.Stats().Line() }
		}
		return outgoingSide{messenger: console, views: console, files: console, console: console}
	}
	api := bot.NewSlackAPI(cfg.SlackBotToken.Value(), cfg.SlackAPIURL, a.log.WithField("component", "slack")).WithMetrics(a.metrics)
	if cfg.WebexSandbox {
		api.WithSandboxMark()
	}
	a.slack = api
	// The last progress update of a message may be held back by the
	// throttle: send it before exiting.
	a.closers = append(a.closers, func() error {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		api.Flush(flushCtx)
		return nil
	})
	return outgoingSide{messenger: api, views: api, files: api}
}

// buildHandler builds the background queue, the digests and the handler.
func (a *App) buildHandler(customers *worker.WebexCustomers, out outgoingSide) {
	cfg := a.cfg
	a.queue = background.New(a.log.WithField("component", "handlers"))
	ux := handlers.UX{ApproverGroup: cfg.ApproverGroup, AutoApprove: cfg.AutoApprove, Lister: a.store}
	if a.slack != nil {
		ux.Groups, ux.Home = a.slack, a.slack
	}
	a.digests = digest.New(digest.Deps{
		Store: a.store, Drafts: a.store.Drafts(cfg.DraftTTL), Subscribers: digest.WebexSubscribers{API: customers.Client},
		Messenger: out.messenger, Log: a.log.WithField("component", "digest"), OnRun: a.app.digestRun, DescribeDraft: handlers.DescribeDraft,
		Settings: digest.Settings{Channel: cfg.DigestChannel, Admins: cfg.Admins, Sandbox: cfg.WebexSandbox,
			StaleApprovalAfter: cfg.StaleApprovalAfter, IdleDraftAfter: cfg.IdleDraftAfter,
			StuckAfter: cfg.StuckAfter, ConsentWaitAfter: cfg.ConsentWaitAfter},
	})
	a.handler = handlers.New(handlers.Deps{
		UX: ux, Digest: a.digests, Queue: a.queue,
		Store: a.store, Templates: a.store, Drafts: a.store.Drafts(cfg.DraftTTL), Locks: a.store,
		Messenger: out.messenger, Views: out.views, Files: out.files,
		Prechecker: customers, Finder: customers,
		Setup: &worker.SetupChecks{API: customers.Client, Rows: a.store},
		Settings: handlers.Settings{
			ApprovalChannel:    cfg.ApprovalChannel,
			Approvers:          cfg.Approvers,
			Admins:             cfg.Admins,
			Requesters:         cfg.Requesters,
			SupportedCountries: cfg.SupportedCountries,
			SubPartnerOrgID:    cfg.WebexSubPartnerOrgID,
			Sandbox:            cfg.WebexSandbox,
			// Only the piped console refuses a command short of keys: a
			// console in a terminal opens the form like Slack does.
			Interactive: out.console == nil || !out.console.Piped,
		},
		Log:     a.log.WithField("component", "handlers"),
		Limiter: handlers.NewSubmissionLimiter(cfg.NewRequestsPerMinute),
	})
}

// pollInterval is how often a provisioning customer is polled and the
// watch list checked: quicker in the console, where a person watches.
func pollInterval(mode config.Mode, opts Options) time.Duration {
	switch {
	case opts.PollInterval > 0:
		return opts.PollInterval
	case mode == config.ModeConsole:
		return 250 * time.Millisecond
	}
	return 2 * time.Second
}

func (a *App) buildWorker(customers *worker.WebexCustomers, opts Options, poll time.Duration) {
	a.worker = &worker.Worker{
		Store: a.store, Jobs: a.store, Watch: a.store, Customers: customers, Events: a.handler,
		Templates:         a.store,
		Setup:             customers.Client,
		Rows:              a.store,
		Concurrency:       a.cfg.WorkerConcurrency,
		Runners:           a.cfg.WorkerJobs,
		Log:               a.log.WithField("component", "worker"),
		Consumer:          consumerName(),
		PollInterval:      poll,
		ProvisionDeadline: a.cfg.ProvisionDeadline,
		ClaimRefresh:      claimRefresh(opts.ClaimTimeout),
		WatchInterval:     poll * 4,
		Yield:             a.queue.YieldToAcks,
		Dependents:        a.store,
	}
}

// scheduleDigests runs the digests at each occurrence of DIGEST_SCHEDULE.
// Every replica runs the schedule; claims make each digest go out once.
func (a *App) scheduleDigests(ctx context.Context) error {
	digestLog := a.log.WithField("component", "digest")
	sched := &digest.Scheduler{Spec: a.cfg.DigestSchedule, Location: a.cfg.DigestTZ, Log: digestLog,
		Run: func(ctx context.Context, at time.Time) {
			rep, err := a.digests.Run(ctx, at)
			if err != nil {
				digestLog.WithError(err).WithField("occurrence", at).Warn("digest run")
			}
			digestLog.WithField("occurrence", at).Infof("digest run: %d due, %d sent, %d claimed elsewhere, %d failed", rep.Due, rep.Sent, rep.Claimed, rep.Failed)
		}}
	if err := sched.Start(ctx); err != nil {
		return fmt.Errorf("DIGEST_SCHEDULE: %w", err)
	}
	a.goBackground(sched.Wait) // shutdown waits for a run in progress
	return nil
}

// serve starts the mode's transport: the console reads its input, HTTP
// serves Slack's request URLs, Socket Mode connects (and HTTP_ADDR still
// serves /healthz, /readyz and /metrics).
func (a *App) serve(ctx context.Context, opts Options, console *bot.Console) error {
	cfg := a.cfg
	switch cfg.Mode {
	case config.ModeConsole:
		console.Router = a.handler
		console.Busy = a.handler.Busy
		console.Moving = a.handler.Moving
		go func() {
			err := console.Run(ctx)
			a.done <- err
		}()
	case config.ModeHTTP:
		return a.serveHTTP(ctx, opts)
	case config.ModeSocket:
		if err := a.serveHTTP(ctx, opts); err != nil {
			return err
		}
		runner := bot.NewSocketRunner(bot.SocketOptions{
			AppToken: cfg.SlackAppToken.Value(), BotToken: cfg.SlackBotToken.Value(), APIURL: cfg.SlackAPIURL,
			Router: a.handler, Messenger: a.slack, Logger: a.log.WithField("component", "socket"),
			MinBackoff: opts.SocketBackoff,
		})
		a.goBackground(func() { _ = runner.Run(ctx) })
	default:
		return fmt.Errorf("mode %s is not available in this build", cfg.Mode)
	}
	return nil
}
