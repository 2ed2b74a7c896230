// Command onboardbench measures onboardbot on loopback (issue "Performance"):
// the ack path of help, new and Approve clicks against a same-run floor
// handler, a 1,000-user batch through a rate-limited Webex sandbox, 1 and 3
// replicas behind one reverse proxy, the bot's memory, and an import of 50
// customers with 2,000 users (also with the bot SIGKILLed half-way). It builds
// ./cmd/onboardbot and runs it as child processes in HTTP mode, so every
// figure is the real binary's and RSS is per process; the fake Slack Web
// API (which enforces Slack's rate limits), the sandbox, the floor and the
// durable floor, the proxy and the load generator run in this process.
// Redis is REDIS_URL, or a redis-server started on a free port.
//
//	go run ./cmd/onboardbench                      # a to g, about 7½ minutes on 2 cores
//	go run ./cmd/onboardbench -scenarios a,b -duration 5s
//	go run ./cmd/onboardbench -scenarios g,g-kill  # the import, then with a SIGKILL
//
// It is a command, not a test: `make test` does not run it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the bench's flags.
type options struct {
	scenarios   []string
	duration    time.Duration
	warmup      time.Duration
	clients     []int
	users       int
	rate        float64
	pool        int
	bot         string
	logLevel    string
	botEnv      []string // extra K=V for the bots (GOGC=200, …)
	keep        bool
	cpuprofile  string
	slackLimits bool // the fake Slack enforces Slack's rate limits
	// importCustomers and importUsers size the import of (g) and (g-kill):
	// customers, and users per customer.
	importCustomers, importUsers int
}

// allScenarios can be chosen with -scenarios; defaultScenarios run without
// it. (g) runs in about 2¼ minutes and is one of them; (g-kill), its
// crash-and-restart twin, runs only when asked for.
var (
	allScenarios     = []string{"a", "b", "c", "d", "e", "f", "g", "g-kill"}
	defaultScenarios = []string{"a", "b", "c", "d", "e", "f", "g"}
)

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("onboardbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scen := fs.String("scenarios", strings.Join(defaultScenarios, ","), "scenarios to run: a help, b new, c approve clicks, d 1,000 users at the sandbox's rate, e 1 vs 3 replicas, f RSS, g an import of 50 customers × 40 users; not by default: g-kill the import with the bot SIGKILLed half-way")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of each load run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "time before each load run's measurement starts")
	clients := fs.String("clients", "4,32", "concurrent clients of the load runs (comma list); (e) uses the largest")
	fs.IntVar(&o.users, "users", 1000, "rows of the batch of scenario (d)")
	fs.Float64Var(&o.rate, "rate", 50, "the sandbox's --rate in scenarios (d) and (g), requests/s (burst = rate)")
	fs.IntVar(&o.importCustomers, "import-customers", 50, "customers of the import of (g) and (g-kill)")
	fs.IntVar(&o.importUsers, "import-users", 40, "users per customer of the import of (g) and (g-kill)")
	fs.IntVar(&o.pool, "pool", 0, "pending requests created for the click scenarios (0: sized from -duration)")
	fs.StringVar(&o.bot, "bot", "", "onboardbot binary to run (default: go build ./cmd/onboardbot)")
	fs.StringVar(&o.logLevel, "log-level", "info", "LOG_LEVEL of the bots (info is the production default)")
	botEnv := fs.String("bot-env", "", "extra environment of the bots, comma list of K=V (e.g. GOGC=200)")
	fs.BoolVar(&o.slackLimits, "slack-limits", true, "the fake Slack enforces Slack's rate limits (429 with Retry-After); false: it answers every call")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory with the bots' logs")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of this process (floor, proxy, fakes, load generator)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var errs []error
	for _, s := range strings.Split(*scen, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		switch {
		case s == "":
		case !slices.Contains(allScenarios, s):
			errs = append(errs, fmt.Errorf("-scenarios: unknown scenario %q (expected some of %s)", s, strings.Join(allScenarios, ",")))
		case !slices.Contains(o.scenarios, s):
			o.scenarios = append(o.scenarios, s)
		}
	}
	if len(o.scenarios) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("-scenarios: none given"))
	}
	for _, c := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 1024 {
			errs = append(errs, fmt.Errorf("-clients: %q is not a count between 1 and 1024", c))
			continue
		}
		o.clients = append(o.clients, n)
	}
	for _, kv := range strings.Split(*botEnv, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			errs = append(errs, fmt.Errorf("-bot-env: %q is not K=V", kv))
			continue
		}
		o.botEnv = append(o.botEnv, kv)
	}
	if o.duration <= 0 || o.duration > time.Minute {
		errs = append(errs, fmt.Errorf("-duration: %s is not between 0 and 1m", o.duration))
	}
	if o.warmup < 0 || o.warmup > 10*time.Second {
		errs = append(errs, fmt.Errorf("-warmup: %s is not between 0 and 10s", o.warmup))
	}
	if o.users < 1 || o.users > 5000 {
		errs = append(errs, fmt.Errorf("-users: %d is not between 1 and 5000", o.users))
	}
	if o.importCustomers < 1 || o.importCustomers > 500 {
		errs = append(errs, fmt.Errorf("-import-customers: %d is not between 1 and 500", o.importCustomers))
	}
	if o.importUsers < 1 || o.importUsers > numbersPerBlock-10 || o.importCustomers*o.importUsers > 5000 {
		errs = append(errs, fmt.Errorf("-import-users: %d is not between 1 and %d, or the import has more than 5000 users", o.importUsers, numbersPerBlock-10))
	}
	if o.rate <= 0 || o.rate > 1000 {
		errs = append(errs, fmt.Errorf("-rate: %v is not between 0 and 1000", o.rate))
	}
	if o.pool < 0 || o.pool > 500000 {
		errs = append(errs, fmt.Errorf("-pool: %d is not between 0 and 500000", o.pool))
	}
	return o, errors.Join(errs...)
}

func (o options) has(s string) bool { return slices.Contains(o.scenarios, s) }

func (o options) maxClients() int { return slices.Max(o.clients) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == floorCommand {
		return serveFloor(ctx, stderr)
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "onboardbench:", err)
		return 2
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "onboardbench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "onboardbench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	b, err := newBench(ctx, o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "onboardbench:", err)
		return 1
	}
	defer b.close()
	started := time.Now()
	rows, err := b.runAll(ctx)
	fmt.Fprintln(stdout)
	writeTable(stdout, rows)
	fmt.Fprintf(stdout, "\n%s; whole run %s\n", machine(), time.Since(started).Round(time.Second))
	if err != nil {
		fmt.Fprintln(stderr, "onboardbench:", err)
		return 1
	}
	return 0
}

// machine describes where the figures come from: cores, CPU model, RAM.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	ram := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					ram = fmt.Sprintf(", %.1f GB RAM", float64(kb)/(1<<20))
				}
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			load = ", load " + f[0] + " at the end"
		}
	}
	return fmt.Sprintf("%d cores (nproc), %s%s%s", runtime.NumCPU(), model, ram, load)
}
