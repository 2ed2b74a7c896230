package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
)

// TestWebexFaults runs customers through the real worker against a sandbox
// that rate-limits (20/s), answers 20 % of calls 503 and holds 5 % past the
// client's timeout, with a fixed seed: every job must end done, with exactly
// one create per customer and no call made before a Retry-After ran out.
func TestWebexFaults(t *testing.T) {
	t.Parallel()
	const customers = 10
	e := newE2E(t)
	e.useSandbox(func(o *sandbox.Options) {
		o.Rate, o.P5xx, o.PTimeout, o.Seed = 20, 0.2, 0.05, 11
		// A held call outlasts the client's timeout (300 ms below) by far, as
		// with the real defaults (35 s against 30 s), without a 30 s test.
		o.HoldTimeout = time.Second
	})
	inst := startInstance(e, nil, func(o *Options) { o.WebexTimeout = 300 * time.Millisecond })
	st := e.store()
	ctx := context.Background()

	began := time.Now()
	for i := range customers {
		resp, body := postSignedBody(t, inst.URL+"/slack/commands", testSecret, commandBody("UALICE", customerCommand(fmt.Sprintf("FLT-%02d", i))), time.Now())
		if resp.StatusCode != http.StatusOK || !submittedRE.MatchString(ackText(t, body)) {
			t.Fatalf("customer %d: %d %q", i, resp.StatusCode, body)
		}
	}
	// Approve each once its precheck has finished (passed, or unavailable
	// when Webex kept failing: the worker prechecks again then).
	approved := map[int64]bool{}
	waitFor(t, "every request approved", 60*time.Second, func() bool {
		values := approveValues(e)
		for id := int64(1); id <= customers; id++ {
			r, err := st.Get(ctx, id)
			if err != nil || approved[id] || r.Precheck.Status == request.PrecheckRunning || values[id] == "" {
				continue
			}
			postSigned(t, inst.URL+"/slack/interactions", testSecret, clickBody("UBOB", "approve", values[id]), time.Now())
			if r, err := st.Get(ctx, id); err == nil && r.State != request.StatePendingApproval {
				approved[id] = true
			}
		}
		return len(approved) == customers
	})
	waitFor(t, "every job to settle", 120*time.Second, func() bool {
		n, err := st.Count(ctx, request.StateDone, request.StateFailed, request.StateWaiting)
		return err == nil && n == customers
	})
	for id := int64(1); id <= customers; id++ {
		r, err := st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != request.StateDone {
			t.Errorf("%s ended %s: %s (trackingId %s)", r.Ref(), r.State, r.Result.Message, r.Result.TrackingID)
		}
	}
	s := e.sandbox.Stats()
	calls := 0
	for _, n := range s.Calls {
		calls += n
	}
	t.Logf("figure: %d customers in %s: %d Webex calls, %d answered 429, %d injected 503, %d held past the timeout; creates %d, early retries %d",
		customers, time.Since(began).Round(100*time.Millisecond), calls, s.RateLimited, s.Injected5xx, s.InjectedTimeouts, s.Creates, s.EarlyRetries)
	if s.Creates != customers {
		t.Errorf("sandbox creates = %d, want %d (one per customer)", s.Creates, customers)
	}
	if s.EarlyRetries != 0 {
		t.Errorf("early retries = %d (by token %v), want 0", s.EarlyRetries, s.EarlyRetriesByToken)
	}
	// One worker stays under 20 calls/s (each 503 closes the token's gate
	// for its Retry-After of 1 s), so 429s are rare here; the 503s carry
	// Retry-After too and are what exercises the gate.
	if s.Injected5xx == 0 || s.InjectedTimeouts == 0 {
		t.Errorf("the faults were not injected (503: %d, held: %d): the test proves nothing", s.Injected5xx, s.InjectedTimeouts)
	}
}

var approveAnyRE = regexp.MustCompile(`"value":"(R-(\d+):[0-9a-f]+)"`)

// approveValues maps request ids to the newest Approve button value shown
// for them on a summary.
func approveValues(e *e2e) map[int64]string {
	out := map[int64]string{}
	for _, c := range append(e.slack.Calls("chat.postMessage"), e.slack.Calls("chat.update")...) {
		for _, m := range approveAnyRE.FindAllStringSubmatch(c.Form.Get("blocks"), -1) {
			id, err := request.ParseID(m[2])
			if err == nil {
				out[id] = m[1]
			}
		}
	}
	return out
}
