package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/store"
)

// `onboardbot doctor` is the read-only preflight an admin runs before going
// live: it checks Slack, Webex, Redis and the clock as the environment
// configures them for the bot, prints one line per check and exits 1 when any
// check failed. "Read-only" has one exception, the Webex OAuth refresh, which
// checkWebex explains.

const doctorUsage = `usage: onboardbot doctor

Checks, with the bot's own environment variables, that Slack accepts the bot
token and it has the manifest's scopes, that the bot is in APPROVAL_CHANNEL and
that APPROVERS, ADMINS and APPROVER_GROUP resolve; that Webex accepts the
token (or the OAuth refresh) and lists wholesale customers; that Redis answers,
is 7 or later and persists its data; and that this machine's clock agrees with
Slack's and Webex's. One line per check: ✅ passed, ❌ failed (with the fix),
– skipped (with why). Exit 1 when any check failed, 0 otherwise.`

const (
	// doctorCallTimeout bounds each call to Slack, Webex or Redis.
	doctorCallTimeout = 10 * time.Second
	// doctorTimeout bounds the whole run.
	doctorTimeout = 3 * time.Minute
	// maxClockSkew: beyond a minute, Slack's request signatures (valid 5
	// minutes either way), token expiries and the digest schedule start to go
	// wrong in ways that are hard to trace back to the clock.
	maxClockSkew = time.Minute
)

type checkStatus int

const (
	checkPassed checkStatus = iota
	checkFailed
	checkSkipped
)

// checkResult is one line of doctor's output.
type checkResult struct {
	status checkStatus
	name   string // what was checked, e.g. "Slack scopes"
	detail string // what was found
	fix    string // what to do about a failure
}

func passed(name, detail string) checkResult {
	return checkResult{status: checkPassed, name: name, detail: detail}
}

func failed(name, detail, fix string) checkResult {
	return checkResult{status: checkFailed, name: name, detail: detail, fix: fix}
}

func skipped(name, why string) checkResult {
	return checkResult{status: checkSkipped, name: name, detail: why}
}

func (r checkResult) line() string {
	switch r.status {
	case checkPassed:
		return "✅ " + r.name + ": " + r.detail
	case checkFailed:
		return "❌ " + r.name + ": " + r.detail + " — fix: " + r.fix
	default:
		return "– " + r.name + ": skipped: " + r.detail
	}
}

// doctorDeps are doctor's seams: the clock (for the skew check) and how
// Redis is opened (tests answer INFO, which miniredis does not know).
type doctorDeps struct {
	now       func() time.Time
	openRedis func(ctx context.Context, rawURL string) (redis.UniversalClient, func() error, error)
	hc        *http.Client
}

func defaultDoctorDeps() doctorDeps {
	return doctorDeps{now: time.Now, openRedis: store.Open, hc: &http.Client{Timeout: doctorCallTimeout}}
}

// serverDate is the Date header of one answer and when, by our clock, the
// answer was under way.
type serverDate struct {
	date      time.Time
	sent, got time.Time
}

// doctor runs the checks in order and prints each line as soon as it is
// known, so a slow service shows where the run is.
type doctor struct {
	cfg  *config.Config
	deps doctorDeps
	out  *redactingWriter

	failures, passes, skips int

	dates     map[string]serverDate // by service: "Slack", "Webex"
	clockSkip map[string]string     // why a service has no date
	// rdb is the Redis the bot would use, once it answered a ping.
	rdb     redis.UniversalClient
	closers []func() error
}

// runDoctor is `onboardbot doctor`.
func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runDoctorWith(ctx, args, getenv, stdout, stderr, defaultDoctorDeps())
}

func runDoctorWith(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, deps doctorDeps) int {
	if len(args) > 0 {
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(stdout, doctorUsage)
			return 0
		}
		fmt.Fprintf(stderr, "onboardbot doctor: unexpected argument %q\n%s\n", args[0], doctorUsage)
		return 2
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		// Problems never carry a secret's value (config's promise).
		var all *config.Errors
		problems := []error{err}
		if errors.As(err, &all) {
			problems = all.Problems
		}
		for _, p := range problems {
			fmt.Fprintln(stdout, failed("configuration", p.Error(), "correct the variable named, then run doctor again").line())
		}
		fmt.Fprintln(stdout, "doctor: the configuration does not load; nothing else was checked")
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	d := &doctor{
		cfg: cfg, deps: deps, out: newRedactingWriter(stdout, cfg.Secrets()),
		dates: map[string]serverDate{}, clockSkip: map[string]string{},
	}
	defer d.close()
	d.run(ctx)
	d.out.printf("doctor: %d passed, %d failed, %d skipped\n", d.passes, d.failures, d.skips)
	if d.failures > 0 {
		return 1
	}
	return 0
}

func (d *doctor) run(ctx context.Context) {
	d.out.printf("onboardbot doctor (%s mode, %s)\n", d.cfg.Mode, webexTarget(d.cfg))
	d.checkSlack(ctx)
	// Redis before Webex: the OAuth refresh keeps the rotated refresh token
	// in Redis and must not run without it.
	d.checkRedis(ctx)
	d.checkWebex(ctx)
	d.checkClock("Slack")
	d.checkClock("Webex")
}

func webexTarget(cfg *config.Config) string {
	switch {
	case cfg.WebexSandbox:
		return "embedded Webex sandbox"
	case cfg.WebexToken != "":
		return "Webex with WEBEX_TOKEN"
	default:
		return "Webex with the OAuth refresh flow"
	}
}

func (d *doctor) add(r checkResult) {
	switch r.status {
	case checkPassed:
		d.passes++
	case checkFailed:
		d.failures++
	default:
		d.skips++
	}
	d.out.printf("%s\n", r.line())
}

// skipAll marks every named check skipped for the same reason, given in
// full on the first line only.
func (d *doctor) skipAll(why string, names ...string) {
	for i, n := range names {
		if i > 0 {
			why = "as above"
		}
		d.add(skipped(n, why))
	}
}

func (d *doctor) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		_ = d.closers[i]()
	}
}

// observeDate keeps the first Date header a service answered with.
func (d *doctor) observeDate(service string, h http.Header, sent, got time.Time) {
	if _, ok := d.dates[service]; ok {
		return
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	d.dates[service] = serverDate{date: date, sent: sent, got: got}
}

// checkClock compares this machine's clock with a service's Date header.
// The header has whole seconds and the answer was produced somewhere
// between sending and receiving, so the skew is measured from the middle of
// the exchange to the middle of the header's second.
func (d *doctor) checkClock(service string) {
	name := "Clock vs " + service
	sd, ok := d.dates[service]
	if !ok {
		why := d.clockSkip[service]
		if why == "" {
			why = "no answer from " + service + " carried a Date header"
		}
		d.add(skipped(name, why))
		return
	}
	local := sd.sent.Add(sd.got.Sub(sd.sent) / 2)
	skew := local.Sub(sd.date.Add(500 * time.Millisecond)).Round(time.Second)
	ahead := "ahead of"
	if skew < 0 {
		ahead, skew = "behind", -skew
	}
	if skew > maxClockSkew {
		d.add(failed(name, fmt.Sprintf("this machine's clock is %s %s %s's", skew, ahead, service),
			"synchronise the clock with NTP (chrony or systemd-timesyncd); Slack refuses requests signed more than 5 minutes off"))
		return
	}
	d.add(passed(name, fmt.Sprintf("within %s of %s's clock", max(skew, time.Second), service)))
}

// redactingWriter replaces every configured secret (and any token doctor
// obtains) in what it prints. Doctor's own lines never include a secret;
// this catches an error text from a server or library that quotes one.
type redactingWriter struct {
	w       io.Writer
	secrets []string
}

func newRedactingWriter(w io.Writer, secrets []string) *redactingWriter {
	r := &redactingWriter{w: w}
	for _, s := range secrets {
		r.addSecret(s)
	}
	return r
}

func (r *redactingWriter) addSecret(s string) {
	if s != "" {
		r.secrets = append(r.secrets, s)
	}
}

func (r *redactingWriter) printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	_, _ = io.WriteString(r.w, s)
}
