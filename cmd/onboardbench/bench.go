package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/store"
)

const (
	// Fixed bench credentials: they never leave loopback.
	signingSecret = "bench-signing-secret-0123456789"
	botToken      = "xoxb-bench-bot-token-0123456789"
	webexToken    = "bench-webex-token"
)

// bench holds what every scenario shares: the work directory, the bot
// binary, Redis, the fake Slack API and the floor's figures.
type bench struct {
	o       options
	out     io.Writer
	dir     string
	bin     string
	redis   *redisServer // nil when REDIS_URL was given
	rdb     redis.UniversalClient
	rdbURL  string
	slack   *fakeSlack
	slackS  *server
	floor   map[int]float64 // clients → floor rps
	durable map[int]float64 // clients → durable floor rps
	tag     string          // makes REDIS_PREFIX unique per run
	rows    []row
}

func newBench(ctx context.Context, o options, out io.Writer) (*bench, error) {
	b := &bench{o: o, out: out, floor: map[int]float64{}, durable: map[int]float64{}, tag: strconv.FormatInt(time.Now().Unix(), 36)}
	dir, err := os.MkdirTemp("", "onboardbench-")
	if err != nil {
		return nil, err
	}
	b.dir = dir
	fail := func(err error) (*bench, error) { b.close(); return nil, err }
	if b.bin = o.bot; b.bin == "" {
		b.logf("building ./cmd/onboardbot")
		if b.bin, err = buildBot(ctx, dir); err != nil {
			return fail(err)
		}
	}
	if b.rdbURL = os.Getenv("REDIS_URL"); b.rdbURL == "" {
		if b.redis, err = startRedis(ctx, dir); err != nil {
			return fail(err)
		}
		b.rdbURL = b.redis.URL
		b.logf("redis-server on %s", b.rdbURL)
	}
	if b.rdb, _, err = store.Open(ctx, b.rdbURL); err != nil {
		return fail(fmt.Errorf("REDIS_URL: %w", err))
	}
	if err := b.rdb.Ping(ctx).Err(); err != nil {
		return fail(fmt.Errorf("redis at REDIS_URL does not answer: %w", err))
	}
	var limits []slackLimit
	if o.slackLimits {
		limits = slackLimits
		b.logf("fake Slack enforces Slack's rate limits (429 with Retry-After; each scenario starts with full buckets):")
		for _, l := range limits {
			b.logf("  Slack limit: %s", l)
		}
		b.logf("  not limited: chat.postEphemeral (the click answers (c) and (e) count), auth.test and the rest")
	} else {
		b.logf("fake Slack enforces no rate limits (-slack-limits=false)")
	}
	b.slack = newFakeSlack(limits)
	if b.slackS, err = serve(b.slack); err != nil {
		return fail(err)
	}
	return b, nil
}

func (b *bench) close() {
	if b.slackS != nil {
		b.slackS.Close()
	}
	if b.rdb != nil {
		b.cleanRedis()
		_ = b.rdb.Close()
	}
	if b.redis != nil {
		b.redis.Stop()
	}
	if b.o.keep {
		fmt.Fprintln(b.out, "work directory kept:", b.dir)
	} else if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// cleanRedis removes this run's keys from a Redis the bench did not start
// (a bounded SCAN: the bench never touches other prefixes).
func (b *bench) cleanRedis() {
	if b.redis != nil {
		return // ours: it goes away with its process
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cursor uint64
	for {
		keys, next, err := b.rdb.Scan(ctx, cursor, "onboardbench-"+b.tag+"-*", 1000).Result()
		if err != nil {
			return
		}
		if len(keys) > 0 {
			_ = b.rdb.Unlink(ctx, keys...).Err() // a page at a time: a run leaves ~10⁵ keys
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) prefix(scenario string) string {
	return "onboardbench-" + b.tag + "-" + scenario + ":"
}

// env is a bot's environment: HTTP mode against the fakes, one Redis,
// the submission limit raised for the load runs.
func (b *bench) env(scenario, webexURL string, extra ...string) map[string]string {
	env := map[string]string{
		"ONBOARDBOT_MODE": "http", "SLACK_SIGNING_SECRET": signingSecret, "SLACK_BOT_TOKEN": botToken,
		"SLACK_API_URL": b.slackS.URL + "/", "REDIS_URL": b.rdbURL, "REDIS_PREFIX": b.prefix(scenario),
		"WEBEX_API_URL": webexURL + "/v1", "WEBEX_TOKEN": webexToken,
		"APPROVAL_CHANNEL": "CAPPROVALS", "APPROVERS": "UBOB,UCAROL", "ADMINS": "UBOB",
		"NEW_REQUESTS_PER_MINUTE": "10000", "WORKER_CONCURRENCY": "8", "LOG_LEVEL": b.o.logLevel,
	}
	for _, kv := range b.o.botEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// webex starts a sandbox with opts on loopback.
func webex(opts sandbox.Options) (*sandbox.Sandbox, *server, error) {
	opts.Token = webexToken
	sb := sandbox.New(opts)
	srv, err := serve(sb)
	if err != nil {
		sb.Close()
		return nil, nil, err
	}
	return sb, srv, nil
}

// runAll runs the chosen scenarios in an order that lets them share
// processes: the floor first, then (a), (b) and (f) on one bot, (c), (e),
// (d), and the imports (g) and (g-kill) last. A scenario that cannot run
// is reported and the next one still runs.
func (b *bench) runAll(ctx context.Context) ([]row, error) {
	var errs []error
	step := func(name string, f func(context.Context) error) {
		if ctx.Err() != nil {
			return
		}
		if err := f(ctx); err != nil {
			b.logf("%s: %v", name, err)
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if b.o.has("a") || b.o.has("b") || b.o.has("c") {
		step("floor", b.runFloor)
	}
	if b.o.has("a") || b.o.has("b") || b.o.has("f") {
		step("a/b/f", b.runHelpNew)
	}
	if b.o.has("c") {
		step("c", b.runClicks)
	}
	if b.o.has("e") {
		step("e", b.runReplicas)
	}
	if b.o.has("d") {
		step("d", b.runUsers)
	}
	if b.o.has("g") {
		step("g", b.runImport)
	}
	if b.o.has("g-kill") {
		step("g-kill", b.runImportKill)
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return b.rows, errors.Join(errs...)
}

// runFloor measures the floor handler at every client count.
func (b *bench) runFloor(ctx context.Context) error {
	srv, err := serve(floorHandler(signingSecret))
	if err != nil {
		return err
	}
	defer srv.Close()
	body := commandBody("UALICE", "help")
	for _, c := range b.o.clients {
		res, _ := b.load(ctx, srv.URL+"/slack/commands", c, func(int64) string { return body })
		b.floor[c] = res.rps()
		b.add(row{scenario: "floor: verify HMAC, parse, 200", clients: c, res: &res, figure: errorsFigure(res)})
	}
	if err := b.runDurableFloor(ctx); err != nil {
		return err
	}
	// The same handler in a process of its own, like the bot: not a
	// target, it shows what crossing processes costs on this machine.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	proc, err := startBot(ctx, self, b.dir, "floor", map[string]string{"SLACK_SIGNING_SECRET": signingSecret}, floorCommand)
	if err != nil {
		return err
	}
	defer proc.Stop()
	for _, c := range b.o.clients {
		res, _ := b.load(ctx, proc.URL+"/slack/commands", c, func(int64) string { return body })
		b.add(row{scenario: "floor in its own process (for comparison)", clients: c, res: &res, floor: b.floor[c], figure: errorsFigure(res)})
	}
	return nil
}

// durableFloorName is the durable floor's row.
const durableFloorName = "durable floor: floor + MULTI INCR HSET ZADD EXEC"

// runDurableFloor measures the durable floor at every client count, in this
// process like the floor, on the Redis the bots use, with a client opened
// like theirs, and the bodies of (b). Its keys have a prefix of their own
// and are deleted before the bots run.
func (b *bench) runDurableFloor(ctx context.Context) error {
	rdb, closeRDB, err := store.Open(ctx, b.rdbURL)
	if err != nil {
		return err
	}
	defer func() { _ = closeRDB() }()
	keys := durableKeys{prefix: "onboardbench-" + b.tag + "-durable-floor:{df}:"}
	srv, err := serve(durableFloorHandler(signingSecret, rdb, keys))
	if err != nil {
		return err
	}
	defer srv.Close()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		n, err := deleteDurable(cctx, rdb, keys)
		if err != nil {
			b.logf("durable floor: deleting its keys (%s*): %v", keys.prefix, err)
			return
		}
		b.logf("durable floor: deleted its %d saved requests (%s*)", n, keys.prefix)
	}()
	for _, c := range b.o.clients {
		res, _ := b.load(ctx, srv.URL+"/slack/commands", c, func(seq int64) string {
			return commandBody(requester(seq), customerText(fmt.Sprintf("DF-%d-%d", c, seq)))
		})
		b.durable[c] = res.rps()
		b.add(row{scenario: durableFloorName, clients: c, res: &res, floor: b.floor[c], figure: errorsFigure(res)})
	}
	return nil
}

// floorCommand makes this binary serve the floor on HTTP_ADDR instead.
const floorCommand = "serve-floor"

// serveFloor is the floor as a child process: /readyz for startBot, the
// floor handler on /slack/commands, until the bench stops it.
func serveFloor(ctx context.Context, stderr io.Writer) int {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ready\n") })
	mux.Handle("POST /slack/commands", floorHandler(os.Getenv("SLACK_SIGNING_SECRET")))
	srv := &http.Server{Addr: os.Getenv("HTTP_ADDR"), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "onboardbench serve-floor:", err)
		return 1
	}
	return 0
}

// load runs one load generator with the bench's timing. It returns the
// calls the fake Slack received meanwhile, warm-up included, and how many
// it answered 429.
func (b *bench) load(ctx context.Context, url string, clients int, body func(int64) string) (result, slackUse) {
	before, conns := b.slack.use(), b.slack.conns.Load()
	res := load{url: url, secret: signingSecret, clients: clients, warmup: b.o.warmup, measure: b.o.duration, body: body}.run(ctx)
	use := b.slack.use().since(before)
	b.logf("  %d clients: %.0f rps, p99 %s, %d failed; %s, on %d new connections",
		clients, res.rps(), ms(res.pct(0.99)), res.failed, use, b.slack.conns.Load()-conns)
	return res, use
}

func (b *bench) add(r row) { b.rows = append(b.rows, r) }

// startBot starts a bot and logs its pid, for `perf record -g -p PID`.
func (b *bench) startBot(ctx context.Context, name string, env map[string]string) (*botProc, error) {
	bot, err := startBot(ctx, b.bin, b.dir, name, env)
	if err == nil {
		b.logf("bot %s: pid %d on %s", name, bot.cmd.Process.Pid, bot.URL)
	}
	return bot, err
}

// errorsFigure says what went wrong in a load run, if anything did.
func errorsFigure(res result) string {
	if res.failed == 0 {
		return ""
	}
	return fmt.Sprintf("%d failed (%s)", res.failed, res.firstErr)
}

// waitFor polls cond until it holds or limit passes; it never sleeps
// longer than needed by more than one poll.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(25 * time.Millisecond)
	}
	return true
}

// ack sends one signed request and returns the answer's body.
func ack(ctx context.Context, url, body string) (string, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := signedPost(ctx, hc, url, signingSecret, body, time.Now())
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return string(b), nil
}
