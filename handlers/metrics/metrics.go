// Package metrics is wsusfix's Prometheus instrumentation: the counters
// the HTTP layer, the run recorder and the event streams update, and the
// gauges read from the store at each scrape. Every label takes values from
// a bounded set (route patterns, status codes, the run vocabulary, WinRM
// error kinds): never a host or user name, so a large estate cannot blow
// up the series count.
package metrics

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wsusfix/store"
	"wsusfix/store/run"
)

// Registry holds wsusfix's collectors. A nil *Registry is valid and
// records nothing, so tests and tools need not build one.
type Registry struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	runs     *prometheus.CounterVec
	steps    *prometheus.HistogramVec
	winrm    *prometheus.CounterVec
	watchers prometheus.Gauge
	pages    *prometheus.CounterVec
}

// New returns a registry with the Go runtime and process collectors and
// the gauges read from st (active and queued runs, the last good sync,
// the database's size on disk at dbPath and its -wal file).
func New(st *store.Store, dbPath string) *Registry {
	m := &Registry{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsusfix_http_requests_total",
		Help: "HTTP requests by route pattern, method and status code."}, []string{"route", "method", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wsusfix_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern (event streams excluded).", Buckets: prometheus.DefBuckets},
		[]string{"route"})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsusfix_runs_finished_total",
		Help: "Runs finished, by procedure and outcome."}, []string{"procedure", "outcome"})
	m.steps = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wsusfix_step_duration_seconds",
		Help:    "Time each step of a run took, by step and status.",
		Buckets: []float64{.1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}}, []string{"step", "status"})
	m.winrm = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsusfix_winrm_errors_total",
		Help: "Runs that ended on a WinRM connection or sign-in failure, by kind."}, []string{"kind"})
	m.watchers = prometheus.NewGauge(prometheus.GaugeOpts{Name: "wsusfix_sse_watchers",
		Help: "Browsers following a run or a batch over Server-Sent Events now."})
	m.pages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsusfix_page_cache_total",
		Help: "Page views of triage and host pages, by whether their rendered copy was current (hit) or drawn anew (miss)."},
		[]string{"result"})
	m.reg.MustRegister(m.requests, m.duration, m.runs, m.steps, m.winrm, m.watchers, m.pages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{st: st, dbPath: dbPath})
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request counts one answered request; route is chi's pattern ("/hosts/{name}"),
// never the path, so host names stay out of the labels.
func (m *Registry) Request(route, method string, code int, took time.Duration, stream bool) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	if !stream {
		m.duration.WithLabelValues(route).Observe(took.Seconds())
	}
}

// RunFinished counts a finished run; one that could not connect or sign
// in also counts as a WinRM error of its kind.
func (m *Registry) RunFinished(procedure run.Procedure, outcome run.Outcome) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(string(procedure), string(outcome)).Inc()
	switch outcome {
	case run.OutcomeUnreachable, run.OutcomeAuth, run.OutcomeQuota, run.OutcomeTimedOut, run.OutcomeNotConfigured:
		m.winrm.WithLabelValues(string(outcome)).Inc()
	}
}

// Step records how long a finished step took.
func (m *Registry) Step(ev run.Event) {
	if m == nil || ev.Kind != run.EventStepFinished {
		return
	}
	status := ev.Status
	if status == "" {
		status = "unknown"
	}
	m.steps.WithLabelValues(string(ev.Step), status).Observe(float64(ev.DurationMS) / 1000)
}

// Watching counts one more event-stream watcher; call the function it
// returns when the stream ends.
func (m *Registry) Watching() func() {
	if m == nil {
		return func() {}
	}
	m.watchers.Inc()
	return m.watchers.Dec
}

// PageCache counts one page view served from the page cache (hit) or
// drawn anew (miss).
func (m *Registry) PageCache(hit bool) {
	if m == nil {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.pages.WithLabelValues(result).Inc()
}

// storeCollector reads, at each scrape, what the store knows: runs
// waiting and running, the last good sync, and the database's size.
type storeCollector struct {
	st     *store.Store
	dbPath string
}

var (
	activeDesc = prometheus.NewDesc("wsusfix_runs_active", "Runs queued or running now, by state.", []string{"state"}, nil)
	syncAge    = prometheus.NewDesc("wsusfix_sync_last_success_age_seconds",
		"Time since the last sync from WSUS that committed what it read ended.", nil, nil)
	syncTook = prometheus.NewDesc("wsusfix_sync_last_success_duration_seconds",
		"How long the last good sync from WSUS took.", nil, nil)
	syncRecords = prometheus.NewDesc("wsusfix_sync_last_success_computers",
		"Computers the last good sync from WSUS committed.", nil, nil)
	dbSize = prometheus.NewDesc("wsusfix_database_bytes", "Size of the SQLite database on disk, by file.", []string{"file"}, nil)
)

// Describe sends the descriptions of the store's metrics.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{activeDesc, syncAge, syncTook, syncRecords, dbSize} {
		ch <- d
	}
}

// Collect reads the store; a query that fails leaves its metric out of
// this scrape rather than failing the others.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c.st != nil {
		if n, err := c.st.ActiveRuns(ctx); err == nil {
			for _, s := range []run.State{run.StateQueued, run.StateRunning} {
				ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(n[s]), string(s))
			}
		}
		// Before any sync (an inventory only imported) the sync gauges are absent.
		if y, err := c.st.LastGoodSync(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(syncAge, prometheus.GaugeValue, time.Since(y.FinishedAt).Seconds())
			ch <- prometheus.MustNewConstMetric(syncTook, prometheus.GaugeValue, y.Duration(time.Now()).Seconds())
			ch <- prometheus.MustNewConstMetric(syncRecords, prometheus.GaugeValue, float64(y.Counts.Computers))
		}
	}
	for file, path := range map[string]string{"main": c.dbPath, "wal": c.dbPath + "-wal"} {
		if fi, err := os.Stat(path); err == nil && c.dbPath != "" {
			ch <- prometheus.MustNewConstMetric(dbSize, prometheus.GaugeValue, float64(fi.Size()), file)
		}
	}
}
