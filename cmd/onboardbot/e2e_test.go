package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

const (
	testSecret = "e2e-signing-secret-0123456789"
	testToken  = "xoxb-e2e-bot-token-0123456789"
)

// e2e is one end-to-end setup: a Slack fake, a Webex sandbox, one Redis and
// any number of bot instances sharing them.
type e2e struct {
	t       *testing.T
	slack   *fakeSlack
	sandbox *sandbox.Sandbox
	webex   *httptest.Server
	rdb     redis.UniversalClient
	prefix  string
	env     map[string]string
}

func newE2E(t *testing.T, extraEnv ...string) *e2e {
	t.Helper()
	e := &e2e{t: t, slack: newFakeSlack(t), rdb: storetest.Client(t), prefix: storetest.Prefix(t)}
	sopts := sandbox.DefaultOptions()
	sopts.Delay = 100 * time.Millisecond
	sopts.Token = "webex-e2e-token"
	e.sandbox = sandbox.New(sopts)
	e.webex = httptest.NewServer(e.sandbox)
	t.Cleanup(func() { e.webex.Close(); e.sandbox.Close() })
	e.env = map[string]string{
		"SLACK_SIGNING_SECRET": testSecret, "SLACK_BOT_TOKEN": testToken,
		"SLACK_API_URL": e.slack.URL + "/", "APPROVAL_CHANNEL": "CAPPROVALS",
		"APPROVERS": "UBOB,UCAROL", "ADMINS": "UBOB",
		"WEBEX_API_URL": e.webex.URL + "/v1", "WEBEX_TOKEN": "webex-e2e-token",
		"REDIS_PREFIX": e.prefix, "LOG_LEVEL": "debug",
	}
	for i := 0; i+1 < len(extraEnv); i += 2 {
		e.env[extraEnv[i]] = extraEnv[i+1]
	}
	return e
}

// start runs one bot instance in HTTP mode and returns its base URL.
func (e *e2e) start() string {
	e.t.Helper()
	cfg, err := config.Load(func(k string) string { return e.env[k] })
	if err != nil {
		e.t.Fatalf("config: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := Start(ctx, cfg, Options{Getenv: func(k string) string { return e.env[k] }, Redis: e.rdb,
		Listener: ln, Stderr: testLogWriter{e.t}, PollInterval: 50 * time.Millisecond})
	if err != nil {
		cancel()
		e.t.Fatalf("start: %v", err)
	}
	e.t.Cleanup(func() { cancel(); app.Close() })
	return app.URL
}

func (e *e2e) store() *store.Store { return store.New(e.rdb, e.prefix) }

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

const msCustomer = `new name="Müller & Söhne GmbH" email=it@mueller.example external-id=MS-001 country=DE package=webex_calling provisioning-id=PROV-DE-1 supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115 timezone=Europe/Berlin language=de_DE`

var approveValueRE = regexp.MustCompile(`"action_id":"approve"[^}]*?"value":"(R-\d+:[0-9a-f]+)"|"value":"(R-\d+:[0-9a-f]+)"[^}]*?"action_id":"approve"`)

// approveValue finds the Approve button's value in the newest summary.
func (e *e2e) approveValue() string {
	calls := append(e.slack.Calls("chat.postMessage"), e.slack.Calls("chat.update")...)
	for i := len(calls) - 1; i >= 0; i-- {
		if m := approveValueRE.FindStringSubmatch(calls[i].Form.Get("blocks")); m != nil {
			return m[1] + m[2]
		}
	}
	return ""
}

// slackText is every text and block sent with method, with Go's JSON
// escapes of & < > undone so that assertions read like Slack renders.
func (e *e2e) slackText(method string) string {
	var b strings.Builder
	for _, c := range e.slack.Calls(method) {
		b.WriteString(c.Form.Get("text") + "\n" + c.Form.Get("blocks") + "\n")
	}
	return jsonUnescaper.Replace(b.String())
}

var jsonUnescaper = strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">")

func TestEndToEndCustomerProvisioned(t *testing.T) {
	e := newE2E(t)
	url := e.start()

	resp := postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("command: status %d", resp.StatusCode)
	}
	waitFor(t, "the summary with a finished precheck", 10*time.Second, func() bool {
		return strings.Contains(e.slackText("chat.update"), "passed")
	})
	posted := e.slackText("chat.postMessage")
	// mrkdwn carries a typed & as &amp; (Slack shows "&"), escaped once.
	if !strings.Contains(posted, "Müller &amp; Söhne GmbH") || strings.Contains(posted, "&amp;amp;") {
		t.Fatalf("summary should show the name as data, escaped once; got:\n%s", posted)
	}
	value := e.approveValue()
	if value == "" {
		t.Fatal("no Approve button on the summary")
	}
	resp = postSigned(t, url+"/slack/interactions", testSecret, clickBody("UBOB", "approve", value), time.Now())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: status %d", resp.StatusCode)
	}
	waitFor(t, "the summary to end provisioned", 15*time.Second, func() bool {
		return strings.Contains(e.slackText("chat.update"), "provisioned (org ")
	})
	if got := e.sandbox.Stats().Creates; got != 1 {
		t.Fatalf("sandbox creates = %d, want 1", got)
	}
	r, err := e.store().Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != request.StateDone || r.ApprovedBy != "UBOB" || r.Result.OrgID == "" {
		t.Fatalf("request = %+v", r)
	}
	if !strings.Contains(e.slackText("chat.postMessage"), "✅ R-1 MS-001 provisioned (org "+r.Result.OrgID+")") {
		t.Fatal("the thread has no outcome line")
	}
}

func TestSignatureMatrix(t *testing.T) {
	e := newE2E(t)
	url := e.start()
	body := commandBody("UALICE", msCustomer)
	now := time.Now()
	cases := []struct {
		name   string
		mutate func(r *http.Request)
	}{
		{"unsigned", func(r *http.Request) { r.Header.Del("X-Slack-Signature"); r.Header.Del("X-Slack-Request-Timestamp") }},
		{"wrong signature", func(r *http.Request) { r.Header.Set("X-Slack-Signature", slackSign("other-secret", now.Unix(), body)) }},
		{"stale", func(r *http.Request) {
			old := now.Add(-6 * time.Minute)
			r.Header.Set("X-Slack-Request-Timestamp", itoa(old.Unix()))
			r.Header.Set("X-Slack-Signature", slackSign(testSecret, old.Unix(), body))
		}},
		{"future", func(r *http.Request) {
			later := now.Add(6 * time.Minute)
			r.Header.Set("X-Slack-Request-Timestamp", itoa(later.Unix()))
			r.Header.Set("X-Slack-Signature", slackSign(testSecret, later.Unix(), body))
		}},
		{"tampered", func(r *http.Request) {
			tampered := strings.Replace(body, "MS-001", "MS-666", 1)
			r.Body = io.NopCloser(strings.NewReader(tampered))
			r.ContentLength = int64(len(tampered))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url+"/slack/commands", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Slack-Request-Timestamp", itoa(now.Unix()))
			req.Header.Set("X-Slack-Signature", slackSign(testSecret, now.Unix(), body))
			c.mutate(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
		})
	}
	n, err := e.store().Count(context.Background(), request.AllStates...)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 || len(e.slack.Calls("chat.postMessage")) != 0 {
		t.Fatalf("rejected requests changed state: %d requests, %d posts", n, len(e.slack.Calls("chat.postMessage")))
	}
	if resp := postSigned(t, url+"/slack/commands", testSecret, body, now); resp.StatusCode != http.StatusOK {
		t.Fatalf("good request: status %d", resp.StatusCode)
	}
}

func TestConcurrentApproveClicksTwoInstances(t *testing.T) {
	e := newE2E(t)
	urls := []string{e.start(), e.start()}
	postSigned(t, urls[0]+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now())
	waitFor(t, "the precheck", 10*time.Second, func() bool { return strings.Contains(e.slackText("chat.update"), "passed") })
	value := e.approveValue()

	const clicks = 20
	var wg sync.WaitGroup
	for i := range clicks {
		user := []string{"UBOB", "UCAROL"}[i%2]
		wg.Go(func() {
			resp := postSigned(t, urls[i%2]+"/slack/interactions", testSecret, clickBody(user, "approve", value), time.Now())
			if resp.StatusCode != http.StatusOK {
				t.Errorf("click %d: status %d", i, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	waitFor(t, "every click answered", 10*time.Second, func() bool { return len(e.slack.Calls("chat.postEphemeral")) >= clicks })
	waitFor(t, "provisioned", 15*time.Second, func() bool {
		return strings.Contains(e.slackText("chat.update"), "provisioned (org ")
	})
	if got := e.sandbox.Stats().Creates; got != 1 {
		t.Fatalf("sandbox creates = %d, want exactly 1", got)
	}
	answers := e.slackText("chat.postEphemeral")
	if got := strings.Count(answers, "already approved by"); got != clicks-1 {
		t.Fatalf("%d clicks were told it was already approved, want %d:\n%s", got, clicks-1, answers)
	}
}

func TestInvalidCommandsCreateNothing(t *testing.T) {
	e := newE2E(t)
	url := e.start()
	for _, c := range invalidCommands {
		resp, body := postSignedBody(t, url+"/slack/commands", testSecret, commandBody("UALICE", c.text), time.Now())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", c.name, resp.StatusCode)
		}
		// The ephemeral answer names the key and says nothing was saved.
		var reply struct{ Text string }
		if err := json.Unmarshal([]byte(body), &reply); err != nil {
			t.Fatalf("%s: reply %q: %v", c.name, body, err)
		}
		if !strings.Contains(reply.Text, "nothing was submitted") || !strings.Contains(reply.Text, "• "+c.want) {
			t.Errorf("%s: the reply does not name %q: %s", c.name, c.want, reply.Text)
		}
	}
	// Nothing saved, nothing posted.
	n, err := e.store().Count(context.Background(), request.AllStates...)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 || len(e.slack.Calls("chat.postMessage")) != 0 {
		t.Fatalf("invalid commands created %d requests and %d posts", n, len(e.slack.Calls("chat.postMessage")))
	}
}

// invalidCommands each break one rule of the command grammar; want is the key the
// error must name.
var invalidCommands = []struct{ name, text, want string }{
	{"email", strings.Replace(msCustomer, "it@mueller.example", "not-an-email", 1), "email"},
	{"country", strings.Replace(msCustomer, "country=DE", "country=XX", 1), "country"},
	{"timezone", strings.Replace(msCustomer, "Europe/Berlin", "Mars/Base", 1), "timezone"},
	{"package", strings.Replace(msCustomer, "package=webex_calling", "package=webex_golf", 1), "package"},
	{"address", strings.Replace(msCustomer, `"Hauptstraße 1"`, `"`+strings.Repeat("ü", 51)+`"`, 1), "address"},
	{"quote", strings.Replace(msCustomer, `city=Berlin`, `city="Berlin`, 1), "city"},
	{"request-like id", strings.Replace(msCustomer, "MS-001", "R-5", 1), "external-id"},
	{"digits id", strings.Replace(msCustomer, "MS-001", "10042", 1), "external-id"},
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
