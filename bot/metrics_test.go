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
	m.ObserveAck("commands", 30*time.Millisecond)
	m.SlackCall("chat.update")
	m.SlackWaited("chat.update", 3*time.Second)
	m.SlackRateLimited("chat.update")

	out := scrape(t, m)
	for _, want := range []string{
		`onboardbot_ack_seconds_bucket{route="commands",le="0.05"} 1`,
		`onboardbot_slack_api_calls_total{method="chat.update"} 1`,
		`onboardbot_slack_rate_limited_total{method="chat.update"} 1`,
		`onboardbot_slack_wait_seconds_bucket{method="chat.update",le="5"} 1`,
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
	a.SlackCall("auth.test")
	if strings.Contains(scrape(t, b), `onboardbot_slack_api_calls_total{method="auth.test"} 1`) {
		t.Error("a's call shows in b")
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.ObserveAck("commands", time.Second)
	m.SlackCall("auth.test")
	m.SlackWaited("auth.test", time.Second)
	m.SlackRateLimited("auth.test")
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 404 {
		t.Errorf("nil Metrics handler: %d, want 404", w.Code)
	}
}
