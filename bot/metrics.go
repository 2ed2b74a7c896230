package bot

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// RequestCount is one value of the onboardbot_requests gauge: how many
// requests of a kind are in a state right now.
type RequestCount struct {
	Kind, State string
	Count       float64
}

// Metrics holds onboardbot's Prometheus metrics in a registry of its own,
// so tests and several bots in one process never collide on the global one.
// A nil *Metrics is valid and records nothing.
type Metrics struct {
	reg *prometheus.Registry

	ackSeconds       *prometheus.HistogramVec
	webexCalls       *prometheus.CounterVec
	jobStreamDepth   prometheus.Gauge
	jobOldestAge     prometheus.Gauge
	watchListSize    prometheus.Gauge
	digestRuns       prometheus.Counter
	slackCalls       *prometheus.CounterVec
	slackRateLimited *prometheus.CounterVec
}

// NewMetrics registers every metric, plus the Go runtime and process
// collectors. The onboardbot_requests gauge appears once CollectRequests
// has been given its source.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ackSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "onboardbot_ack_seconds",
			Help: "Time from receiving a Slack request to answering it (Slack gives up after 3 s).",
			// Buckets around Slack's 3 s deadline, where it matters.
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 3, 5},
		}, []string{"route"}),
		webexCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboardbot_webex_calls_total",
			Help: "Webex API calls by operation and HTTP status (or error class).",
		}, []string{"operation", "status"}),
		jobStreamDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onboardbot_job_stream_depth",
			Help: "Jobs in the stream not yet acknowledged.",
		}),
		jobOldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onboardbot_job_oldest_age_seconds",
			Help: "Age of the oldest unacknowledged job.",
		}),
		watchListSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onboardbot_watch_list_size",
			Help: "Waiting requests polled from the watch list.",
		}),
		digestRuns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onboardbot_digest_runs_total",
			Help: "Scheduled digest runs.",
		}),
		slackCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboardbot_slack_api_calls_total",
			Help: "Slack Web API calls by method, retries included.",
		}, []string{"method"}),
		slackRateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboardbot_slack_rate_limited_total",
			Help: "Slack Web API calls answered 429.",
		}, []string{"method"}),
	}
	m.reg.MustRegister(m.ackSeconds, m.webexCalls, m.jobStreamDepth, m.jobOldestAge,
		m.watchListSize, m.digestRuns, m.slackCalls, m.slackRateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// CollectBackground exposes the handlers' background queue:
// onboardbot_background_queued (tasks waiting) and
// onboardbot_background_shed_total (tasks dropped from a full queue; the
// summaries among them are posted by the publish sweep). Call it once.
func (m *Metrics) CollectBackground(queued, shed func() float64) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "onboardbot_background_queued",
		Help: "Background tasks (summary posts, prechecks, click answers) waiting to run.",
	}, queued)); err != nil {
		return err
	}
	return m.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "onboardbot_background_shed_total",
		Help: "Background tasks dropped from a full queue (summaries among them are posted by the publish sweep).",
	}, shed))
}

// CollectRequests makes fn the source of the onboardbot_requests{kind,state}
// gauge: it is called on each scrape (cmd reads the counts from the store)
// and must return each kind/state pair once. Call it once.
func (m *Metrics) CollectRequests(fn func() []RequestCount) error {
	if m == nil || fn == nil {
		return nil
	}
	return m.reg.Register(&requestsCollector{fn: fn})
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

// WebexCall counts one Webex API call; status is the HTTP status code as
// text, or an error class such as "timeout".
func (m *Metrics) WebexCall(operation, status string) {
	if m != nil {
		m.webexCalls.WithLabelValues(operation, status).Inc()
	}
}

// SetJobStream reports the job stream's depth and the age of its oldest job.
func (m *Metrics) SetJobStream(depth int, oldest time.Duration) {
	if m != nil {
		m.jobStreamDepth.Set(float64(depth))
		m.jobOldestAge.Set(oldest.Seconds())
	}
}

// SetWatchListSize reports how many requests are waiting on the watch list.
func (m *Metrics) SetWatchListSize(n int) {
	if m != nil {
		m.watchListSize.Set(float64(n))
	}
}

// DigestRun counts one scheduled digest run.
func (m *Metrics) DigestRun() {
	if m != nil {
		m.digestRuns.Inc()
	}
}

// SlackCall counts one Slack Web API call (each retry is a call).
func (m *Metrics) SlackCall(method string) {
	if m != nil {
		m.slackCalls.WithLabelValues(method).Inc()
	}
}

// SlackRateLimited counts one 429 answer from Slack.
func (m *Metrics) SlackRateLimited(method string) {
	if m != nil {
		m.slackRateLimited.WithLabelValues(method).Inc()
	}
}

// requestsCollector reads the request counts at scrape time, so the gauge
// is never stale and nothing has to push updates into it.
type requestsCollector struct {
	fn func() []RequestCount
}

var requestsDesc = prometheus.NewDesc("onboardbot_requests",
	"Requests by kind and state.", []string{"kind", "state"}, nil)

func (c *requestsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- requestsDesc }

func (c *requestsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, rc := range c.fn() {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.GaugeValue, rc.Count, rc.Kind, rc.State)
	}
}
