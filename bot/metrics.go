package bot

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is onboardbot's Prometheus registry, of its own so that tests
// and several bots in one process never collide on the global one, with
// the metrics of Slack's side: ack latency, Web API calls, their waits
// under the rate limits and 429s. cmd
// registers the application's metrics in it (Registry). A nil *Metrics is
// valid and records nothing.
type Metrics struct {
	reg *prometheus.Registry

	ackSeconds       *prometheus.HistogramVec
	slackCalls       *prometheus.CounterVec
	slackWait        *prometheus.HistogramVec
	slackRateLimited *prometheus.CounterVec
}

// NewMetrics registers Slack's metrics, plus the Go runtime and process
// collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ackSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "onboardbot_ack_seconds",
			Help: "Time from receiving a Slack request to answering it (Slack gives up after 3 s).",
			// Buckets around Slack's 3 s deadline, where it matters.
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 3, 5},
		}, []string{"route"}),
		slackCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboardbot_slack_api_calls_total",
			Help: "Slack Web API calls by method, retries included.",
		}, []string{"method"}),
		slackWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "onboardbot_slack_wait_seconds",
			Help: "Time a Slack Web API call waited before it went out: behind the posts before it in its channel, a 429's Retry-After, its rate limit's pace.",
			// From no wait to the minutes a backlog of posts can take.
			Buckets: []float64{0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300},
		}, []string{"method"}),
		slackRateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboardbot_slack_rate_limited_total",
			Help: "Slack Web API calls answered 429.",
		}, []string{"method"}),
	}
	m.reg.MustRegister(m.ackSeconds, m.slackCalls, m.slackWait, m.slackRateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry lets cmd or tests add collectors of their own.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// ObserveAck records how long answering a Slack request on route took.
func (m *Metrics) ObserveAck(route string, d time.Duration) {
	if m != nil {
		m.ackSeconds.WithLabelValues(route).Observe(d.Seconds())
	}
}

// SlackCall counts one Slack Web API call (each retry is a call).
func (m *Metrics) SlackCall(method string) {
	if m != nil {
		m.slackCalls.WithLabelValues(method).Inc()
	}
}

// SlackWaited records how long one call of method waited before it went
// out (each retry is a call).
func (m *Metrics) SlackWaited(method string, d time.Duration) {
	if m != nil {
		m.slackWait.WithLabelValues(method).Observe(d.Seconds())
	}
}

// SlackRateLimited counts one 429 answer from Slack.
func (m *Metrics) SlackRateLimited(method string) {
	if m != nil {
		m.slackRateLimited.WithLabelValues(method).Inc()
	}
}
