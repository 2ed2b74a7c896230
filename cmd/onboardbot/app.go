package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/onboardbot/onboardbot/bot"
	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/handlers"
	"github.com/onboardbot/onboardbot/handlers/background"
	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
)

// Options are the process-level inputs of an App.
type Options struct {
	Getenv  func(string) string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Version string
	// Piped forces the console's piped behaviour; nil detects a terminal.
	Piped *bool
	// Redis, when set, is used instead of REDIS_URL (tests share one).
	Redis redis.UniversalClient
	// Listener, when set, serves HTTP mode instead of HTTP_ADDR.
	Listener net.Listener
	// PollInterval overrides the worker's poll interval (tests).
	PollInterval time.Duration
	// SocketBackoff is the first wait before a Socket Mode reconnect (tests
	// shorten it); 0 means the runner's default.
	SocketBackoff time.Duration
	// ClaimTimeout overrides how long a handed-back job waits before another
	// worker takes it over (store.DefaultClaimTimeout); the claim refresh
	// scales with it so a live worker keeps its job (tests).
	ClaimTimeout time.Duration
	// WebexTimeout overrides the Webex client's per-call HTTP timeout (30 s),
	// so fault tests see held calls time out quickly.
	WebexTimeout time.Duration
}

// App is one running onboardbot process: store, worker, transport.
type App struct {
	cfg     *config.Config
	log     *logrus.Logger
	store   *store.Store
	handler *handlers.Handler
	queue   *background.Queue
	worker  *worker.Worker
	sandbox *sandbox.Sandbox
	metrics *bot.Metrics
	slack   *bot.SlackAPI // nil in console mode

	closers []func() error
	cancel  context.CancelFunc
	done    chan error
	bgWG    sync.WaitGroup
	// URL is the base URL of the HTTP listener (HTTP mode).
	URL string
}

// Start builds and starts everything cfg asks for. In console mode it reads
// opts.Stdin until end of input; Wait returns then.
func Start(parent context.Context, cfg *config.Config, opts Options) (*App, error) {
	ctx, cancel := context.WithCancel(parent)
	a := &App{cfg: cfg, cancel: cancel, done: make(chan error, 1), metrics: bot.NewMetrics()}
	a.log = newLogger(cfg, opts.Stderr, opts.Getenv)
	if err := a.start(ctx, opts); err != nil {
		cancel()
		a.closeAll()
		return nil, err
	}
	return a, nil
}

func (a *App) start(ctx context.Context, opts Options) error {
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
		// confirmation or release, a job): the sweeps repair them (indexes
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

	customers, err := a.webexCustomers(ctx, opts)
	if err != nil {
		return err
	}

	var messenger chat.Messenger
	var views handlers.Views // modals: the console prints them as forms
	var files handlers.Files // uploads of forms (the users form's CSV file)
	var console *bot.Console
	switch cfg.Mode {
	case config.ModeConsole:
		piped := !isTerminal(opts.Stdin)
		if opts.Piped != nil {
			piped = *opts.Piped
		}
		console = &bot.Console{In: opts.Stdin, Out: opts.Stdout, Piped: piped, Sandbox: cfg.WebexSandbox}
		if a.sandbox != nil {
			sb := a.sandbox
			console.SandboxStats = func() string { return sb.Stats().Line() }
		}
		messenger, views, files = console, console, console
	default:
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
		messenger, views, files = api, api, api
	}

	a.queue = background.New(a.log.WithField("component", "handlers"))
	ux := handlers.UX{ApproverGroup: cfg.ApproverGroup, AutoApprove: cfg.AutoApprove, Lister: a.store}
	if a.slack != nil {
		ux.Groups, ux.Home = a.slack, a.slack
	}
	digests := digest.New(digest.Deps{
		Store: a.store, Drafts: a.store.Drafts(cfg.DraftTTL), Subscribers: digest.WebexSubscribers{API: customers.Client},
		Messenger: messenger, Log: a.log.WithField("component", "digest"), OnRun: a.metrics.DigestRun, DescribeDraft: handlers.DescribeDraft,
		Settings: digest.Settings{Channel: cfg.DigestChannel, Admins: cfg.Admins, Sandbox: cfg.WebexSandbox,
			StaleApprovalAfter: cfg.StaleApprovalAfter, IdleDraftAfter: cfg.IdleDraftAfter,
			StuckAfter: cfg.StuckAfter, ConsentWaitAfter: cfg.ConsentWaitAfter},
	})
	a.handler = handlers.New(handlers.Deps{
		UX:         ux,
		Digest:     digests,
		Queue:      a.queue,
		Store:      a.store,
		Templates:  a.store,
		Messenger:  messenger,
		Prechecker: customers,
		Finder:     customers,
		Setup:      &worker.SetupChecks{API: customers.Client, Rows: a.store},
		Views:      views,
		Files:      files,
		Drafts:     a.store.Drafts(cfg.DraftTTL),
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
			Interactive: console == nil || !console.Piped,
		},
		Log:     a.log.WithField("component", "handlers"),
		Limiter: handlers.NewSubmissionLimiter(cfg.NewRequestsPerMinute),
		Locks:   a.store,
	})

	poll := 2 * time.Second
	if cfg.Mode == config.ModeConsole {
		poll = 250 * time.Millisecond
	}
	if opts.PollInterval > 0 {
		poll = opts.PollInterval
	}
	a.worker = &worker.Worker{
		Store: a.store, Jobs: a.store, Watch: a.store, Customers: customers, Events: a.handler,
		Templates:         a.store,
		Setup:             customers.Client,
		Rows:              a.store,
		Concurrency:       cfg.WorkerConcurrency,
		Log:               a.log.WithField("component", "worker"),
		Consumer:          consumerName(),
		PollInterval:      poll,
		ProvisionDeadline: cfg.ProvisionDeadline,
		ClaimRefresh:      claimRefresh(opts.ClaimTimeout),
		WatchInterval:     poll * 4,
		Yield:             a.queue.YieldToAcks,
		Dependents:        a.store,
	}
	a.wireMetrics(poll)
	workerCtx, stopWorker := context.WithCancel(ctx)
	a.closers = append(a.closers, func() error { stopWorker(); return nil })
	a.goBackground(func() { a.worker.Run(workerCtx) })
	a.goBackground(func() { a.sweep(workerCtx) })
	a.goBackground(func() { a.handler.RunUserGroups(workerCtx) })
	a.goBackground(func() { a.refreshGauges(workerCtx, poll*4) })
	// Every replica runs the schedule; claims make each digest go out once.
	digestLog := a.log.WithField("component", "digest")
	sched := &bot.Scheduler{Spec: cfg.DigestSchedule, Location: cfg.DigestTZ, Log: digestLog,
		Run: func(ctx context.Context, at time.Time) {
			rep, err := digests.Run(ctx, at)
			if err != nil {
				digestLog.WithError(err).WithField("occurrence", at).Warn("digest run")
			}
			digestLog.WithField("occurrence", at).Infof("digest run: %d due, %d sent, %d claimed elsewhere, %d failed", rep.Due, rep.Sent, rep.Claimed, rep.Failed)
		}}
	if err := sched.Start(workerCtx); err != nil {
		return fmt.Errorf("DIGEST_SCHEDULE: %w", err)
	}
	a.goBackground(sched.Wait) // shutdown waits for a run in progress

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
		// HTTP_ADDR still serves /healthz, /readyz and /metrics.
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

func (a *App) serveHTTP(ctx context.Context, opts Options) error {
	ln := opts.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", a.cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
		}
	}
	a.URL = "http://" + ln.Addr().String()
	var router handlers.Router = a.handler
	if a.cfg.Mode == config.ModeSocket {
		router = nil // Slack's requests arrive over the socket
	}
	srv := &http.Server{
		Handler: bot.NewHTTPServer(bot.HTTPOptions{
			SigningSecret: a.cfg.SlackSigningSecret.Value(),
			Router:        router,
			Ready:         a.ready,
			Metrics:       a.metrics.Handler(),
			Stats:         a.metrics,
			Logger:        a.log.WithField("component", "http"),
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.done <- err
	}()
	// Tracked with the worker, so Close returns only once the listener is
	// closed and in-flight requests are answered: no new work after Close.
	a.goBackground(func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	})
	return nil
}

// ready is /readyz: Redis answers and, in Slack modes, Slack accepts the
// bot token.
func (a *App) ready(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return errors.New("redis unreachable")
	}
	if a.slack != nil {
		if err := a.slack.AuthTest(ctx); err != nil {
			return errors.New("slack auth.test failed")
		}
	}
	return nil
}

func (a *App) goBackground(f func()) {
	a.bgWG.Go(f)
}

// Wait blocks until the transport ends (console input done, server closed or
// the context cancelled), then shuts down: the worker hands back its job and
// background work drains (bounded).
func (a *App) Wait() error {
	err := <-a.done
	a.Close()
	return err
}

// Close stops everything; safe to call twice.
func (a *App) Close() {
	a.cancel()
	drained := make(chan struct{})
	go func() {
		a.bgWG.Wait()
		if a.handler != nil {
			a.handler.Wait()
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(15 * time.Second):
		a.log.Warn("shutdown: background work did not finish in 15s")
	}
	a.closeAll()
}

func (a *App) closeAll() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.WithError(err).Warn("shutdown")
		}
	}
	a.closers = nil
}

// claimRefresh renews a held job's claim well within the claim timeout (and
// the commit lock, whose TTL is twice this, stays below it), so that only
// jobs of stopped workers are taken over.
func claimRefresh(claimTimeout time.Duration) time.Duration {
	if claimTimeout <= 0 {
		return 5 * time.Second
	}
	return max(claimTimeout/3, 10*time.Millisecond)
}

func consumerName() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
