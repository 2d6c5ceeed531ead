package caddymodule

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ipListMetrics reports the published address lists allow_ips names, read
// when Prometheus scrapes: per wanted list, whether a copy is in use, how
// old it is and how many refreshes in a row failed. The only label is the
// list's name, one of the registered lists.
type ipListMetrics struct {
	app                   *App
	loaded, age, failures *prometheus.Desc
}

func newIPListMetrics(a *App) *ipListMetrics {
	labels := []string{"list"}
	return &ipListMetrics{app: a,
		loaded: prometheus.NewDesc("caddy_hookgate_ip_list_loaded",
			"1 when a copy of the published IP list is in use, 0 while it has not loaded (deliveries only it could admit are answered 503).", labels, nil),
		age: prometheus.NewDesc("caddy_hookgate_ip_list_age_seconds",
			"Seconds since the published IP list was last fetched successfully.", labels, nil),
		failures: prometheus.NewDesc("caddy_hookgate_ip_list_refresh_failures",
			"Refreshes of the published IP list that failed since its last success; the last good copy stays in use.", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *ipListMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.loaded
	ch <- m.age
	ch <- m.failures
}

// Collect implements prometheus.Collector.
func (m *ipListMetrics) Collect(ch chan<- prometheus.Metric) {
	pl := m.app.ipLists
	if pl == nil {
		return
	}
	now := time.Now()
	for _, s := range pl.lists.Status() {
		if !s.Wanted {
			continue
		}
		loaded := 0.0
		if s.Loaded {
			loaded = 1
			ch <- prometheus.MustNewConstMetric(m.age, prometheus.GaugeValue, now.Sub(s.LoadedAt).Seconds(), s.Name)
		}
		ch <- prometheus.MustNewConstMetric(m.loaded, prometheus.GaugeValue, loaded, s.Name)
		ch <- prometheus.MustNewConstMetric(m.failures, prometheus.GaugeValue, float64(s.Failures), s.Name)
	}
}

var _ prometheus.Collector = (*ipListMetrics)(nil)
