package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
)

// useSandbox replaces e's sandbox by one with newE2E's settings changed by
// mutate, before any instance starts.
func (e *e2e) useSandbox(mutate func(o *sandbox.Options)) {
	e.t.Helper()
	sopts := sandbox.DefaultOptions()
	sopts.Delay = 100 * time.Millisecond
	sopts.Token = "webex-e2e-token"
	mutate(&sopts)
	e.sandbox = sandbox.New(sopts)
	e.webex = httptest.NewServer(e.sandbox)
	sb, srv := e.sandbox, e.webex
	e.t.Cleanup(func() { srv.Close(); sb.Close() })
	e.env["WEBEX_API_URL"] = e.webex.URL + "/v1"
}

// startApp runs one bot instance in HTTP mode, as start does, and returns it
// so that the test can stop it (Close) like a process that is shut down.
func (e *e2e) startApp() *App {
	e.t.Helper()
	cfg, err := config.Load(func(k string) string { return e.env[k] })
	if err != nil {
		e.t.Fatalf("config: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	app, err := Start(context.Background(), cfg, Options{Getenv: func(k string) string { return e.env[k] },
		Redis: e.rdb, Listener: ln, Stderr: testLogWriter{e.t}, PollInterval: 50 * time.Millisecond})
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	e.t.Cleanup(app.Close)
	return app
}

// submitAndApprove sends msCustomer to url as alice and approves it as bob
// once its precheck passed.
func (e *e2e) submitAndApprove(url string) {
	e.t.Helper()
	if resp := postSigned(e.t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now()); resp.StatusCode != http.StatusOK {
		e.t.Fatalf("command: status %d", resp.StatusCode)
	}
	waitFor(e.t, "the summary with a finished precheck", 10*time.Second, func() bool {
		return strings.Contains(e.slackText("chat.update"), "passed")
	})
	value := e.approveValue()
	if value == "" {
		e.t.Fatal("no Approve button on the summary")
	}
	if resp := postSigned(e.t, url+"/slack/interactions", testSecret, clickBody("UBOB", "approve", value), time.Now()); resp.StatusCode != http.StatusOK {
		e.t.Fatalf("approve: status %d", resp.StatusCode)
	}
}

// requestState reads R-1's state, "" while it cannot be read.
func (e *e2e) requestState() request.State {
	r, err := e.store().Get(context.Background(), 1)
	if err != nil {
		return ""
	}
	return r.State
}

// TestWaitingAcrossRestart is acceptance 2 of issue 3: a customer on
// compliance hold (or provisioning past PROVISION_DEADLINE) goes waiting; the
// bot instance that parked it is stopped and a new one on the same Redis and
// prefix finishes it from the watch list, with one create at Webex. The wait
// outlasts the first instance's life by far: the watch interval is
// PollInterval*4 = 200 ms, the wait 2 s.
func TestWaitingAcrossRestart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		env     []string
		sandbox func(o *sandbox.Options)
		waiting string // the outcome line's reason
	}{
		{"compliance hold", nil, func(o *sandbox.Options) {
			o.RPLReview, o.RPLDelay = regexp.MustCompile(`^Müller`), 2*time.Second
		}, "compliance review"},
		{"past the provision deadline", []string{"PROVISION_DEADLINE", "100ms"}, func(o *sandbox.Options) {
			o.Delay = 2 * time.Second
		}, "provisioning"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, c.env...)
			e.useSandbox(c.sandbox)
			first := e.startApp()
			e.submitAndApprove(first.URL)

			// Slack gets mrkdwn: the age "<1m" arrives escaped.
			waiting := regexp.MustCompile(`⏳ R-1 MS-001: ` + c.waiting + ` \(&lt;1m\)`)
			waitFor(t, "R-1 to wait: "+c.waiting, 10*time.Second, func() bool {
				return e.requestState() == request.StateWaiting && waiting.MatchString(e.slackText("chat.postMessage"))
			})
			first.Close()
			if st := e.requestState(); st != request.StateWaiting {
				t.Fatalf("after the first instance stopped R-1 is %s; the wait should outlast it", st)
			}
			if _, watched, err := e.store().WatchDue(context.Background(), 1); err != nil || !watched {
				t.Fatalf("waiting R-1 is not on the watch list (%v)", err)
			}

			e.startApp()
			waitFor(t, "the second instance to finish R-1", 15*time.Second, func() bool {
				return e.requestState() == request.StateDone &&
					strings.Contains(e.slackText("chat.postMessage"), "✅ R-1 MS-001 provisioned (org ")
			})
			r, err := e.store().Get(context.Background(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if r.Result.OrgID == "" || !strings.Contains(e.slackText("chat.postMessage"), "✅ R-1 MS-001 provisioned (org "+r.Result.OrgID+")") {
				t.Fatalf("the outcome line does not name org %q", r.Result.OrgID)
			}
			waitFor(t, "the summary to show R-1 provisioned", 10*time.Second, func() bool {
				updates := e.slack.Calls("chat.update")
				last := updates[len(updates)-1]
				return last.Form.Get("ts") == r.Summary.TS &&
					strings.Contains(jsonUnescaper.Replace(last.Form.Get("blocks")), "✅ provisioned (org "+r.Result.OrgID+")")
			})
			if got := e.sandbox.Stats().Creates; got != 1 {
				t.Fatalf("sandbox creates = %d, want exactly 1", got)
			}
			if _, watched, err := e.store().WatchDue(context.Background(), 1); err != nil || watched {
				t.Fatalf("done R-1 is still on the watch list (%v)", err)
			}
		})
	}
}
