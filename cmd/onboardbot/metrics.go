package main

import (
	"context"
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onboardbot/onboardbot/handlers/background"
	"github.com/onboardbot/onboardbot/store"
)

// appMetrics are the application's metrics, registered in the bot's
// registry beside Slack's: Webex calls, the job stream, the watch list and
// digest runs; and, read at scrape time, the background queue and the
// requests by kind and state. A nil *appMetrics records nothing.
type appMetrics struct {
	webexCalls     *prometheus.CounterVec
	jobStreamDepth prometheus.Gauge
	jobOldestAge   prometheus.Gauge
	watchListSize  prometheus.Gauge
	digestRuns     prometheus.Counter
}

func newAppMetrics(reg *prometheus.Registry) *appMetrics {
	m := &appMetrics{
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
	}
	reg.MustRegister(m.webexCalls, m.jobStreamDepth, m.jobOldestAge, m.watchListSize, m.digestRuns)
	return m
}

// webexCall counts one Webex API call by its HTTP status, or error class.
func (m *appMetrics) webexCall(operation string, status int, err error) {
	m.webexCalls.WithLabelValues(operation, webexStatus(status, err)).Inc()
}

func (m *appMetrics) digestRun() { m.digestRuns.Inc() }

func webexStatus(status int, err error) string {
	switch {
	case status > 0:
		return strconv.Itoa(status)
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "timeout"
	default:
		return "error"
	}
}

// collect registers what is read at scrape time: the background queue
// (onboardbot_background_queued, onboardbot_background_shed_total; the
// summaries among the shed are posted by the republish loop) and the
// requests by kind and state (onboardbot_requests), counted in the store.
func (m *appMetrics) collect(reg *prometheus.Registry, q *background.Queue, st *store.Store) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "onboardbot_background_queued",
			Help: "Background tasks (summary posts, prechecks, click answers) waiting to run.",
		}, func() float64 { return float64(q.Backlog()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "onboardbot_background_shed_total",
			Help: "Background tasks dropped from a full queue (summaries among them are posted by the publish sweep).",
		}, func() float64 { return float64(q.Shed()) }),
		requestsCollector{st: st},
	)
}

// refreshGauges reads the job stream and the watch list into their gauges:
// a round of the replica's gauges loop.
func (m *appMetrics) refreshGauges(ctx context.Context, st *store.Store) {
	if n, oldest, err := st.JobStream(ctx); err == nil {
		m.jobStreamDepth.Set(float64(n))
		m.jobOldestAge.Set(oldest.Seconds())
	}
	if n, err := st.WatchListSize(ctx); err == nil {
		m.watchListSize.Set(float64(n))
	}
}

// requestsCollector reads the request counts at scrape time, so the gauge
// is never stale and nothing has to push updates into it.
type requestsCollector struct{ st *store.Store }

var requestsDesc = prometheus.NewDesc("onboardbot_requests",
	"Requests by kind and state.", []string{"kind", "state"}, nil)

func (c requestsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- requestsDesc }

func (c requestsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.st.RequestCounts(ctx)
	if err != nil {
		return
	}
	for _, rc := range counts {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.GaugeValue, float64(rc.Count), string(rc.Kind), string(rc.State))
	}
}
