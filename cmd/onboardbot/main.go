// Command onboardbot runs the bot (console, Socket Mode or HTTP), the
// stand-alone Webex sandbox, and small helpers. main owns the process:
// signals, flags and the root context; the app itself starts inside tests.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/onboardbot/onboardbot/config"
)

// version is stamped at build time (make build).
var version = "dev"

func main() {
	tuneGC(os.Getenv)
	// Ctrl-C or SIGTERM cancels ctx: the console ends at once with exit 0,
	// servers and the worker shut down (bounded). Once it is cancelled the
	// signals get their default action back, so a second Ctrl-C ends a
	// shutdown that takes too long.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// gcPercent is the bot's GOGC unless the environment sets one: its live
// heap is a few megabytes, so Go's default of 100 collects many times a
// second under a burst of Slack requests; 200 roughly halves that CPU for a
// few megabytes more (docs/performance.md).
const gcPercent = 200

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "version", "--version", "-v":
			fmt.Fprintln(stdout, "onboardbot", version)
			return 0
		case "sandbox":
			return runSandbox(ctx, args[1:], stdout, stderr)
		case "healthcheck":
			return runHealthcheck(ctx, getenv, stderr)
		case "manifest":
			return runManifest(args[1:], stdout, stderr)
		case "doctor":
			return runDoctor(ctx, args[1:], getenv, stdout, stderr)
		case "help", "--help", "-h":
			fmt.Fprintln(stdout, usage)
			return 0
		default:
			fmt.Fprintf(stderr, "onboardbot: unknown command %q\n%s\n", args[0], usage)
			return 2
		}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		// A partial Slack configuration (config.ModeError) and every other
		// configuration problem are usage errors: exit 2.
		fmt.Fprintln(stderr, "onboardbot: configuration:", err)
		return 2
	}
	app, err := Start(ctx, cfg, Options{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr, Version: version})
	if err != nil {
		fmt.Fprintln(stderr, "onboardbot:", err)
		return 1
	}
	if err := app.Wait(); err != nil {
		fmt.Fprintln(stderr, "onboardbot:", err)
		return 1
	}
	return 0
}

const usage = `usage:
  onboardbot            run the bot (mode from ONBOARDBOT_MODE or the Slack variables; none: console)
  onboardbot sandbox    run the Webex sandbox on --addr (see --help)
  onboardbot manifest   print the Slack app manifest (--mode socket|http [--url BASE])
  onboardbot doctor     check Slack, Webex, Redis and the clock before going live (exit 1 on a failure)
  onboardbot healthcheck  probe /healthz on HTTP_ADDR (for container health checks)
  onboardbot version    print the version`
