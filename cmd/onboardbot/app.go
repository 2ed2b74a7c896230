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
	metrics *bot.Metrics // the registry, with Slack's metrics
	app     *appMetrics  // the application's, in the same registry
	digests *digest.Digester
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
	a.app = newAppMetrics(a.metrics.Registry())
	a.log = newLogger(cfg, opts.Stderr, opts.Getenv)
	if err := a.start(ctx, opts); err != nil {
		cancel()
		a.closeAll()
		return nil, err
	}
	return a, nil
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
