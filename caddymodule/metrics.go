package caddymodule

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// pollLag reports, per vendor, how far the ticket poller's oldest cursor is
// behind now (caddy_hookgate_poll_lag_seconds), read from the poller's
// state when Prometheus scrapes. Its only label is the vendor: never an
// integration id.
type pollLag struct {
	app  *App
	desc *prometheus.Desc
}

func newPollLag(a *App) *pollLag {
	return &pollLag{app: a, desc: prometheus.NewDesc(
		"caddy_hookgate_poll_lag_seconds",
		"How far the ticket poller's oldest cursor is behind now, per vendor.",
		[]string{"vendor"}, nil)}
}

// Describe implements prometheus.Collector.
func (m *pollLag) Describe(ch chan<- *prometheus.Desc) { ch <- m.desc }

// Collect implements prometheus.Collector.
func (m *pollLag) Collect(ch chan<- prometheus.Metric) {
	p := m.app.poller
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := p.Status(ctx)
	if err != nil {
		return
	}
	lag := map[string]float64{}
	for _, s := range st {
		if s.Cursor.IsZero() {
			continue
		}
		if l, ok := lag[s.Vendor]; !ok || s.LagSeconds > l {
			lag[s.Vendor] = s.LagSeconds
		}
	}
	for vendor, l := range lag {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, l, vendor)
	}
}

var _ prometheus.Collector = (*pollLag)(nil)
