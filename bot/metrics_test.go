package bot

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	return string(body)
}

func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	if err := m.CollectRequests(func() []RequestCount {
		return []RequestCount{{Kind: "customer", State: "pending_approval", Count: 2}, {Kind: "users", State: "waiting", Count: 1}}
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.CollectBackground(func() float64 { return 7 }, func() float64 { return 2 }); err != nil {
		t.Fatal(err)
	}
	m.ObserveAck("commands", 30*time.Millisecond)
	m.WebexCall("createCustomer", "201")
	m.SetJobStream(3, 90*time.Second)
	m.SetWatchListSize(5)
	m.DigestRun()
	m.SlackCall("chat.update")
	m.SlackRateLimited("chat.update")

	out := scrape(t, m)
	for _, want := range []string{
		`onboardbot_ack_seconds_bucket{route="commands",le="0.05"} 1`,
		`onboardbot_requests{kind="customer",state="pending_approval"} 2`,
		`onboardbot_requests{kind="users",state="waiting"} 1`,
		`onboardbot_webex_calls_total{operation="createCustomer",status="201"} 1`,
		`onboardbot_job_stream_depth 3`,
		`onboardbot_job_oldest_age_seconds 90`,
		`onboardbot_watch_list_size 5`,
		`onboardbot_digest_runs_total 1`,
		`onboardbot_slack_api_calls_total{method="chat.update"} 1`,
		`onboardbot_slack_rate_limited_total{method="chat.update"} 1`,
		`onboardbot_background_queued 7`,
		`onboardbot_background_shed_total 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

func TestMetricsInstancesAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := NewMetrics(), NewMetrics() // would panic on a shared registry
	a.DigestRun()
	if strings.Contains(scrape(t, b), "onboardbot_digest_runs_total 1") {
		t.Error("a's digest run shows in b")
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.ObserveAck("commands", time.Second)
	m.WebexCall("op", "500")
	m.SetJobStream(1, time.Second)
	m.SetWatchListSize(1)
	m.DigestRun()
	m.SlackCall("auth.test")
	m.SlackRateLimited("auth.test")
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 404 {
		t.Errorf("nil Metrics handler: %d, want 404", w.Code)
	}
}
