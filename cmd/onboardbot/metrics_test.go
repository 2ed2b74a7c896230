package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
)

// TestMetricsAfterEndToEnd drives three customers through the HTTP bot and
// then reads /metrics while every family of issue 8 has something to show:
//
//	R-1 MS-001  provisioned                         → requests{customer,done}
//	R-2 MS-002  compliance review (sandbox RPL)     → waiting, on the watch list
//	R-3 MS-003  its create call held by the test    → committing, its job unacknowledged
//
// The first chat.postMessage is answered 429 (Retry-After: 0), so the rate
// limit counter has a sample without the test waiting. Gauges are read by
// polling /metrics with a deadline: they may be computed at scrape time or
// refreshed by a loop, as long as that loop runs at least every few seconds.
func TestMetricsAfterEndToEnd(t *testing.T) {
	sopts := sandbox.DefaultOptions()
	sopts.Delay = 100 * time.Millisecond
	sopts.Token = "webex-e2e-token"
	sopts.RPLReview = regexp.MustCompile(`^Review `)
	sopts.RPLDelay = time.Hour
	sb := sandbox.New(sopts)
	webexAPI := newHeldCreate(sb, `"externalId":"MS-003"`)
	t.Cleanup(func() { webexAPI.Close(); sb.Close() })

	e := newE2E(t)
	slackAPI := httptest.NewServer(firstCallRateLimited("chat.postMessage", e.slack.Config.Handler))
	t.Cleanup(slackAPI.Close)
	e.env["WEBEX_API_URL"] = webexAPI.URL + "/v1"
	e.env["SLACK_API_URL"] = slackAPI.URL + "/"
	url := e.start()

	customers := []struct {
		id    int64
		ext   string
		name  string
		state request.State
	}{
		{1, "MS-001", "Müller & Söhne GmbH", request.StateDone},
		{2, "MS-002", "Review Kunde AG", request.StateWaiting},
		{3, "MS-003", "Dritte Kunde GmbH", request.StateCommitting},
	}
	for _, c := range customers {
		text := strings.Replace(strings.Replace(msCustomer, "MS-001", c.ext, 1), "Müller & Söhne GmbH", c.name, 1)
		if resp := postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", text), time.Now()); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: command status %d", c.ext, resp.StatusCode)
		}
		waitFor(t, c.ext+"'s precheck", 10*time.Second, func() bool {
			r, err := e.store().Get(context.Background(), c.id)
			return err == nil && r.Precheck.Status == request.PrecheckOK
		})
		value := approveValueFor(e, c.id)
		if value == "" {
			t.Fatalf("%s: no Approve button", c.ext)
		}
		if resp := postSigned(t, url+"/slack/interactions", testSecret, clickBody("UBOB", "approve", value), time.Now()); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: approve status %d", c.ext, resp.StatusCode)
		}
		if c.state == request.StateCommitting {
			waitFor(t, "the held create call", 15*time.Second, webexAPI.Held)
		}
		waitFor(t, fmt.Sprintf("%s %s", c.ext, c.state), 15*time.Second, func() bool {
			r, err := e.store().Get(context.Background(), c.id)
			return err == nil && r.State == c.state
		})
	}

	checks := []struct {
		what string
		ok   func(f metricFamilies) bool
	}{
		{"onboardbot_ack_seconds has routes commands and interactions", func(f metricFamilies) bool {
			return f.histogramCount("onboardbot_ack_seconds", "route", "commands") >= 3 &&
				f.histogramCount("onboardbot_ack_seconds", "route", "interactions") >= 3
		}},
		{"onboardbot_requests{kind=customer}: done 1, waiting 1, committing 1", func(f metricFamilies) bool {
			return f.value("onboardbot_requests", "kind", "customer", "state", "done") == 1 &&
				f.value("onboardbot_requests", "kind", "customer", "state", "waiting") == 1 &&
				f.value("onboardbot_requests", "kind", "customer", "state", "committing") == 1
		}},
		{"onboardbot_webex_calls_total counts the creates (POST /wholesale/customers, 202) and prechecks (…/validate, 200)", func(f metricFamilies) bool {
			return f.value("onboardbot_webex_calls_total", "operation", "POST /wholesale/customers", "status", "202") >= 2 &&
				f.value("onboardbot_webex_calls_total", "operation", "POST /wholesale/customers/validate", "status", "200") >= 3
		}},
		{"onboardbot_webex_calls_total operation labels are routes of webex.Operations (bounded, no ids)", func(f metricFamilies) bool {
			ops := f.labelValues("onboardbot_webex_calls_total", "operation")
			return len(ops) > 0 && !slices.ContainsFunc(ops, func(op string) bool { return !slices.Contains(webex.Operations, op) })
		}},
		{"onboardbot_job_stream_depth ≥ 1 while R-3 is committing", func(f metricFamilies) bool {
			return f.value("onboardbot_job_stream_depth") >= 1
		}},
		{"onboardbot_job_oldest_age_seconds > 0 while R-3 is committing", func(f metricFamilies) bool {
			return f.value("onboardbot_job_oldest_age_seconds") > 0
		}},
		{"onboardbot_watch_list_size = 1 (R-2)", func(f metricFamilies) bool {
			return f.value("onboardbot_watch_list_size") == 1
		}},
		// No digest is due during the test: the counter only has to exist.
		{"onboardbot_digest_runs_total is exposed", func(f metricFamilies) bool {
			return f["onboardbot_digest_runs_total"] != nil
		}},
		{"onboardbot_slack_api_calls_total counts chat.postMessage, the 429 included", func(f metricFamilies) bool {
			return f.value("onboardbot_slack_api_calls_total", "method", "chat.postMessage") >= 2
		}},
		{"onboardbot_slack_rate_limited_total{method=chat.postMessage} = 1", func(f metricFamilies) bool {
			return f.value("onboardbot_slack_rate_limited_total", "method", "chat.postMessage") == 1
		}},
	}
	var failing []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := scrape(t, url+"/metrics")
		failing = failing[:0]
		for _, c := range checks {
			if !c.ok(fams) {
				failing = append(failing, c.what)
			}
		}
		if len(failing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Let R-3 finish, so the run ends like the other end-to-end tests.
	webexAPI.Release()
	waitFor(t, "MS-003 done", 15*time.Second, func() bool {
		r, err := e.store().Get(context.Background(), 3)
		return err == nil && r.State == request.StateDone
	})

	if len(failing) > 0 {
		t.Errorf("/metrics after the end-to-end run lacks:\n  %s", strings.Join(failing, "\n  "))
	}
}

// approveValueFor finds the Approve button's value of request id.
func approveValueFor(e *e2e, id int64) string {
	prefix := fmt.Sprintf("R-%d:", id)
	for _, c := range append(e.slack.Calls("chat.postMessage"), e.slack.Calls("chat.update")...) {
		for _, m := range approveValueRE.FindAllStringSubmatch(c.Form.Get("blocks"), -1) {
			if v := m[1] + m[2]; strings.HasPrefix(v, prefix) {
				return v
			}
		}
	}
	return ""
}

// heldCreate is the Webex API in front of a sandbox that holds the create
// call whose body contains match until Release, so the test can look at
// the bot while a job is in the worker's hands.
type heldCreate struct {
	*httptest.Server
	match    string
	held     chan struct{}
	heldOnce sync.Once
	release  chan struct{}
	relOnce  sync.Once
}

func newHeldCreate(next http.Handler, match string) *heldCreate {
	h := &heldCreate{match: match, held: make(chan struct{}), release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/wholesale/customers" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte(h.match)) {
				h.heldOnce.Do(func() { close(h.held) })
				select {
				case <-h.release:
				case <-r.Context().Done():
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	}))
	return h
}

// Held reports whether the matching create call has arrived.
func (h *heldCreate) Held() bool {
	select {
	case <-h.held:
		return true
	default:
		return false
	}
}

// Release lets the held call through; Close releases it too.
func (h *heldCreate) Release() { h.relOnce.Do(func() { close(h.release) }) }

func (h *heldCreate) Close() { h.Release(); h.Server.Close() }

// firstCallRateLimited answers the first call of method 429 with
// Retry-After: 0 (Slack's shape, without making anyone wait) and passes
// everything else to next.
func firstCallRateLimited(method string, next http.Handler) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limited := false
		if strings.TrimPrefix(r.URL.Path, "/") == method {
			once.Do(func() { limited = true })
		}
		if limited {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "rate limited", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// metricFamilies is one parsed /metrics page.
type metricFamilies map[string]*dto.MetricFamily

func scrape(t *testing.T, url string) metricFamilies {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample finds the first metric of family name whose labels include the
// given name/value pairs.
func (f metricFamilies) sample(name string, labels ...string) *dto.Metric {
	fam := f[name]
	if fam == nil {
		return nil
	}
	for _, m := range fam.GetMetric() {
		if hasLabels(m, labels) {
			return m
		}
	}
	return nil
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
			return l.GetName() == pairs[i] && l.GetValue() == pairs[i+1]
		}) {
			return false
		}
	}
	return true
}

// value is a gauge's or counter's value; -1 when there is no such sample,
// so "== 0" checks cannot pass on a missing metric.
func (f metricFamilies) value(name string, labels ...string) float64 {
	m := f.sample(name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return -1
}

func (f metricFamilies) histogramCount(name string, labels ...string) uint64 {
	return f.sample(name, labels...).GetHistogram().GetSampleCount()
}

func (f metricFamilies) labelValues(name, label string) []string {
	var out []string
	for _, m := range f[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && !slices.Contains(out, l.GetValue()) {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}
