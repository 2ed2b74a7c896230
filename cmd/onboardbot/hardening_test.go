package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/config"
)

// Helpers shared by the hardening tests (faults, outage, shutdown): an app
// instance that can be closed on its own, and its logs kept for inspection.

// logCapture keeps every log line of the instances that write to it and
// passes them on to the test log.
type logCapture struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	c.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// instance is one running bot process of an e2e setup.
type instance struct {
	app  *App
	URL  string
	logs *logCapture
}

// startInstance is e2e.start with control over Options (set o.Redis to nil
// to make the app open REDIS_URL itself) and with the instance returned, so a
// test can close it while others keep running.
func startInstance(e *e2e, logs *logCapture, mutate func(o *Options)) *instance {
	e.t.Helper()
	getenv := func(k string) string { return e.env[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		e.t.Fatalf("config: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	if logs == nil {
		logs = &logCapture{t: e.t}
	}
	opts := Options{Getenv: getenv, Redis: e.rdb, Listener: ln, Stderr: logs, PollInterval: 50 * time.Millisecond}
	if mutate != nil {
		mutate(&opts)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := Start(ctx, cfg, opts)
	if err != nil {
		cancel()
		e.t.Fatalf("start: %v", err)
	}
	e.t.Cleanup(func() { cancel(); app.Close() })
	return &instance{app: app, URL: app.URL, logs: logs}
}

// ackText is the text of a slash command's ephemeral answer.
func ackText(t *testing.T, body string) string {
	t.Helper()
	if body == "" {
		return ""
	}
	var m struct{ Text string }
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("ack body %q is not JSON: %v", body, err)
	}
	return m.Text
}

var (
	submittedRE = regexp.MustCompile(`^📨 (R-\d+) submitted`)
	faultRE     = regexp.MustCompile(`could not save — nothing was submitted \(ref [0-9a-f]{8}\)`)
)

// customerCommand is msCustomer with another external id.
func customerCommand(extID string) string { return strings.Replace(msCustomer, "MS-001", extID, 1) }

// readyStatus is the status of GET /readyz (0 when it did not answer).
func readyStatus(base string) int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
