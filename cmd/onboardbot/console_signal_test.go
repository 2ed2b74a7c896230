package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/config"
)

// lockedBuffer is an output both the console and the test read.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// endsWithin waits for done, failing the test when it has not come within
// limit: a deadline on a hang, not a timing assertion.
func endsWithin[T any](t *testing.T, what string, limit time.Duration, done <-chan T) T {
	t.Helper()
	select {
	case v := <-done:
		return v
	case <-time.After(limit):
		t.Fatalf("%s did not end within %s of the signal", what, limit)
	}
	var zero T
	return zero
}

// Ctrl-C or SIGTERM (the context main cancels on them) ends an interactive
// console whose input never sends a line: at once, cleanly, exit 0.
func TestConsoleSignalEndsInteractive(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LOG_LEVEL": "warn"}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	stdin, typing := io.Pipe()
	defer typing.Close()
	var out, errOut lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interactive := false
	app, err := Start(ctx, cfg, Options{Getenv: getenv, Stdin: stdin, Stdout: &out, Stderr: &errOut, Piped: &interactive})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the banner", 30*time.Second, func() bool { return strings.Contains(out.String(), "onboardbot console") })
	done := make(chan error, 1)
	go func() { done <- app.Wait() }()
	cancel() // the signal
	if err := endsWithin(t, "the interactive console", 30*time.Second, done); err != nil {
		t.Fatalf("Wait() = %v, want nil (exit 0)\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	noErrorPrinted(t, out.String(), errOut.String())
}

// A signal during a piped run ends it promptly too, while a line's work is
// still settling: run returns 0 and prints no error.
func TestConsoleSignalEndsPiped(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LOG_LEVEL": "warn"}
	stdin, typing := io.Pipe()
	defer typing.Close()
	var out, errOut lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, stdin, &out, &errOut) }()
	go func() {
		// The approval starts a commit the sandbox takes a second to finish.
		_, _ = io.WriteString(typing, msCommand+"\n/as bob\n/click Approve\n")
	}()
	waitFor(t, "the approval", 60*time.Second, func() bool { return strings.Contains(out.String(), "R-1 approved") })
	cancel() // the signal
	if code := endsWithin(t, "the piped console", 30*time.Second, done); code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	noErrorPrinted(t, out.String(), errOut.String())
}

// noErrorPrinted fails when the console's output, or run's own error line on
// stderr, says that the signal was an error. (The log may say that the
// worker handed its job back: that is what shutdown does.)
func noErrorPrinted(t *testing.T, stdout, stderr string) {
	t.Helper()
	if strings.Contains(stdout, "context canceled") || strings.Contains(stderr, "onboardbot: ") {
		t.Fatalf("a signal printed an error\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}
