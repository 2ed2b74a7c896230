package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	neturl "net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
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

// snapshot is every key under the test's prefix with its value as text:
// two equal snapshots mean nothing in Redis changed. (DUMP would do, but
// miniredis has it for strings only.)
func snapshot(t *testing.T, e *e2e) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := e.rdb.Scan(ctx, 0, e.prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		var v any
		var err error
		switch typ, _ := e.rdb.Type(ctx, k).Result(); typ {
		case "string":
			v, err = e.rdb.Get(ctx, k).Result()
		case "hash":
			v, err = e.rdb.HGetAll(ctx, k).Result()
		case "set":
			v, err = e.rdb.SMembers(ctx, k).Result()
		case "zset":
			v, err = e.rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "list":
			v, err = e.rdb.LRange(ctx, k, 0, -1).Result()
		case "stream":
			v, err = e.rdb.XRange(ctx, k, "-", "+").Result()
		default:
			v = typ
		}
		if err != nil {
			t.Fatalf("read %s: %v", k, err)
		}
		out[k] = fmt.Sprintf("%v", v)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pendingCustomer submits msCustomer and waits until its precheck has
// passed and its publisher has let go of the request: from then on nothing
// changes in Redis until someone acts on it.
func pendingCustomer(t *testing.T, e *e2e, url string) string {
	t.Helper()
	postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now())
	waitFor(t, "the precheck", 10*time.Second, func() bool { return strings.Contains(e.slackText("chat.update"), "passed") })
	value := e.approveValue()
	ref, _, _ := strings.Cut(value, ":")
	ctx := context.Background()
	waitFor(t, "the publish lock released", 10*time.Second, func() bool {
		held, err := e.rdb.Exists(ctx, e.prefix+"lock:publish:"+ref).Result()
		_, listed := e.rdb.ZScore(ctx, e.prefix+"locks", "publish:"+ref).Result()
		return err == nil && held == 0 && errors.Is(listed, redis.Nil)
	})
	return value
}

// TestSignatureMatrixInteractions is the signature matrix on the Approve
// button of a pending request: every bad variant is refused 401 with Redis
// unchanged key by key; a payload smuggled in the query string is ignored.
func TestSignatureMatrixInteractions(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	url := e.start()
	value := pendingCustomer(t, e, url)
	body := clickBody("UBOB", "approve", value)
	rejectForm, _ := neturl.ParseQuery(clickBody("UCAROL", "reject", "R-1"))
	evil := "?" + rejectForm.Encode() // a valid reject, but unsigned
	now := time.Now()
	before := snapshot(t, e)
	cases := []struct {
		name  string
		query string
		body  string
		sign  func(r *http.Request)
		want  int
	}{
		{"unsigned", "", body, func(r *http.Request) { r.Header.Del("X-Slack-Signature"); r.Header.Del("X-Slack-Request-Timestamp") }, 401},
		{"wrong secret", "", body, func(r *http.Request) { r.Header.Set("X-Slack-Signature", slackSign("other-secret", now.Unix(), body)) }, 401},
		{"stale", "", body, signedAt(now.Add(-6*time.Minute), body), 401},
		{"more than 5 min in the future", "", body, signedAt(now.Add(6*time.Minute), body), 401},
		{"tampered", "", strings.Replace(body, "UBOB", "UCAROL", 1), signedAt(now, body), 401},
		{"payload only in the query", evil, "x=1", signedAt(now, "x=1"), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url+"/slack/interactions"+c.query, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			signedAt(now, c.body)(req)
			c.sign(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
	if after := snapshot(t, e); !maps.Equal(before, after) {
		t.Fatalf("refused requests changed Redis: %d keys before, %d after", len(before), len(after))
	}
	t.Logf("figure: %d refused requests, all %d keys under the prefix unchanged", len(cases), len(before))
	// Signed body approves, query string rejects: the body wins.
	if resp := postSigned(t, url+"/slack/interactions"+evil, testSecret, body, time.Now()); resp.StatusCode != http.StatusOK {
		t.Fatalf("good click: status %d", resp.StatusCode)
	}
	waitFor(t, "the approval", 10*time.Second, func() bool {
		r, err := e.store().Get(context.Background(), 1)
		return err == nil && r.ApprovedBy == "UBOB"
	})
	if r, _ := e.store().Get(context.Background(), 1); r.RejectedBy != "" {
		t.Fatalf("the query string's reject was applied: %+v", r)
	}
}

func signedAt(at time.Time, body string) func(r *http.Request) {
	return func(r *http.Request) {
		r.Header.Set("X-Slack-Request-Timestamp", itoa(at.Unix()))
		r.Header.Set("X-Slack-Signature", slackSign(testSecret, at.Unix(), body))
	}
}

// TestHundredApproveClicksThreeInstances: 100 clicks at once, spread over
// three replicas and two approvers, create the customer exactly once; every
// other click is told who approved.
func TestHundredApproveClicksThreeInstances(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	urls := []string{e.start(), e.start(), e.start()}
	value := pendingCustomer(t, e, urls[0])
	const clicks = 100
	var wg sync.WaitGroup
	for i := range clicks {
		user := []string{"UBOB", "UCAROL"}[i%2]
		wg.Go(func() {
			if resp := postSigned(t, urls[i%3]+"/slack/interactions", testSecret, clickBody(user, "approve", value), time.Now()); resp.StatusCode != http.StatusOK {
				t.Errorf("click %d: status %d", i, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	waitFor(t, "every click answered", 15*time.Second, func() bool { return len(e.slack.Calls("chat.postEphemeral")) >= clicks })
	waitFor(t, "provisioned", 15*time.Second, func() bool { return strings.Contains(e.slackText("chat.update"), "provisioned (org ") })
	if got := e.sandbox.Stats().Creates; got != 1 {
		t.Fatalf("sandbox creates = %d, want exactly 1", got)
	}
	if got := strings.Count(e.slackText("chat.postEphemeral"), "already approved by"); got != clicks-1 {
		t.Fatalf("%d clicks were told it was already approved, want %d", got, clicks-1)
	}
	t.Logf("figure: %d clicks over 3 instances: 1 create, %d told 'already approved'", clicks, clicks-1)
}

// TestStaleButtonsShowCurrentState: buttons of a request that moved on are
// answered with what happened to it, by whom, and its state now.
func TestStaleButtonsShowCurrentState(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	url := e.start()
	value := pendingCustomer(t, e, url)
	postSigned(t, url+"/slack/interactions", testSecret, clickBody("UBOB", "approve", value), time.Now())
	waitFor(t, "provisioned", 15*time.Second, func() bool { return strings.Contains(e.slackText("chat.update"), "provisioned (org ") })
	tests := []struct{ user, action, value, want string }{
		{"UCAROL", "approve", value, "R-1: already approved by <@UBOB> at "},
		{"UCAROL", "reject", "R-1", "R-1: already approved by <@UBOB> at "},
	}
	for _, tt := range tests {
		n := len(e.slack.Calls("chat.postEphemeral"))
		postSigned(t, url+"/slack/interactions", testSecret, clickBody(tt.user, tt.action, tt.value), time.Now())
		waitFor(t, "the answer to a stale "+tt.action, 10*time.Second, func() bool { return len(e.slack.Calls("chat.postEphemeral")) > n })
		got := e.slack.Calls("chat.postEphemeral")[n].Form.Get("text")
		if !strings.Contains(got, tt.want) || !strings.Contains(got, "(now done)") {
			t.Fatalf("stale %s answered %q, want %q … (now done)", tt.action, got, tt.want)
		}
	}
}

// TestSubmissionLimitSharedAcrossInstances: with NEW_REQUESTS_PER_MINUTE=3,
// invalid submissions cost nothing, three accepted ones over two replicas
// use up the budget, the fourth is refused without saving, and another user
// is unaffected.
func TestSubmissionLimitSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	e := newE2E(t, "NEW_REQUESTS_PER_MINUTE", "3")
	urls := []string{e.start(), e.start()}
	steps := []struct {
		user, text, want string
	}{
		{"UALICE", invalidCommands[0].text, "nothing was submitted"},
		{"UALICE", invalidCommands[1].text, "nothing was submitted"},
		{"UALICE", customerCommand("LIM-1"), "R-1 submitted"},
		{"UALICE", customerCommand("LIM-1"), `⛔ external-id: external-id "LIM-1" is already used by R-1`},
		{"UALICE", customerCommand("LIM-2"), "R-2 submitted"},
		{"UALICE", customerCommand("LIM-3"), "R-3 submitted"},
		{"UALICE", customerCommand("LIM-4"), "⛔ you have submitted 3 requests in the last minute (NEW_REQUESTS_PER_MINUTE): nothing was submitted, try again in a minute"},
		{"UALICE", invalidCommands[2].text, "nothing was submitted"},
		{"UDAVE", customerCommand("LIM-5"), "R-4 submitted"},
	}
	for i, s := range steps {
		_, body := postSignedBody(t, urls[i%2]+"/slack/commands", testSecret, commandBody(s.user, s.text), time.Now())
		if got := ackText(t, body); !strings.Contains(got, s.want) {
			t.Fatalf("step %d (%s): got %q, want %q", i+1, s.user, got, s.want)
		}
	}
	if n, err := e.store().Count(context.Background(), request.AllStates...); err != nil || n != 4 {
		t.Fatalf("%d requests stored (%v), want 4", n, err)
	}
}

// TestLogsHoldNoSecrets runs the end-to-end paths at LOG_LEVEL=debug, error
// paths included (bad signatures, an oversized body, invalid commands, a
// Webex token that Webex refuses, an address Webex rejects), and counts
// every configured secret in everything logged: there must be none.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	const wrongWebexToken = "webex-token-webex-refuses-0123"
	logs := &logCapture{t: t}
	scenarios := []struct {
		name string
		env  []string
		sb   func(o *sandbox.Options)
		run  func(t *testing.T, e *e2e, url string)
	}{
		{"provisioned", nil, nil, func(t *testing.T, e *e2e, url string) {
			value := pendingCustomer(t, e, url)
			postSigned(t, url+"/slack/interactions", testSecret, clickBody("UBOB", "approve", value), time.Now())
			waitFor(t, "provisioned", 15*time.Second, func() bool { return strings.Contains(e.slackText("chat.update"), "provisioned (org ") })
		}},
		{"refused requests", nil, nil, func(t *testing.T, e *e2e, url string) {
			postSigned(t, url+"/slack/commands", "not-the-secret", commandBody("UALICE", msCustomer), time.Now())
			postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now().Add(-time.Hour))
			postSigned(t, url+"/slack/interactions", testSecret, "payload=%7Bnot+json", time.Now())
			postSigned(t, url+"/slack/commands", testSecret, strings.Repeat("x", 1<<20+1), time.Now())
			for _, c := range invalidCommands {
				postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", c.text), time.Now())
			}
			postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", "status R-404"), time.Now())
		}},
		{"webex refuses the token", []string{"WEBEX_TOKEN", wrongWebexToken}, nil, func(t *testing.T, e *e2e, url string) {
			postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now())
			// A 401 is final after one refresh, which a static token cannot do.
			waitFor(t, "the precheck to fail", 20*time.Second, func() bool {
				r, err := e.store().Get(context.Background(), 1)
				return err == nil && r.Precheck.Status != request.PrecheckRunning
			})
			postSigned(t, url+"/slack/interactions", testSecret, clickBody("UBOB", "approve", e.approveValue()), time.Now())
		}},
		{"webex rejects the address", nil, func(o *sandbox.Options) { o.RejectAddress = regexp.MustCompile("Hauptstraße") }, func(t *testing.T, e *e2e, url string) {
			postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now())
			waitFor(t, "the precheck to fail", 10*time.Second, func() bool {
				r, err := e.store().Get(context.Background(), 1)
				return err == nil && r.Precheck.Status == request.PrecheckFailed
			})
		}},
	}
	for _, s := range scenarios {
		e := newE2E(t, s.env...)
		if s.sb != nil {
			e.useSandbox(s.sb)
		}
		inst := startInstance(e, logs, nil)
		s.run(t, e, inst.URL)
		inst.app.Close() // its last lines are logged before counting
	}
	out := logs.String()
	lines := strings.Count(out, "\n")
	if lines == 0 || !strings.Contains(out, `"level":"debug"`) || !strings.Contains(out, `"level":"warning"`) {
		t.Fatalf("expected debug and warning lines, got %d lines", lines)
	}
	for _, secret := range []string{testSecret, testToken, "webex-e2e-token", wrongWebexToken} {
		if n := strings.Count(out, secret); n != 0 {
			t.Errorf("a configured secret appears %d times in the logs", n)
		}
	}
	t.Logf("figure: %d log lines (%d debug, %d warning, %d error), 0 secrets", lines,
		strings.Count(out, `"level":"debug"`), strings.Count(out, `"level":"warning"`), strings.Count(out, `"level":"error"`))
}
