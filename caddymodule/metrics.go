package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/limiter"
	"github.com/hookgate/caddy-hookgate/state"
	"github.com/hookgate/caddy-hookgate/upstream"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// scrapeTimeout bounds the state reads one scrape makes.
const scrapeTimeout = 2 * time.Second

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
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
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

// deliveryResult is the result label of caddy_hookgate_deliveries_total:
// what the handler decided about one webhook delivery. The set is fixed,
// so the label stays bounded whatever callers send.
type deliveryResult uint8

// The results of caddy_hookgate_deliveries_total.
const (
	resultAccepted      deliveryResult = iota // verified and handed on (outbox written, or the next handler answered 2xx in gate mode)
	resultDuplicate                           // verified, already handled: answered 200 X-Hookgate-Duplicate
	resultRejected                            // 401 for a known integration: bad or missing credential, vendor mismatch, inactive, unsigned not allowed, invalid record
	resultUnknown                             // 401 for an unknown integration, a malformed id or no receiver path
	resultTooLarge                            // 413: body over max_body
	resultMethod                              // 405: not a POST
	resultMalformed                           // 400: body unreadable, or not what the vendor's event needs after a valid signature
	resultUnavailable                         // 503: secret store or state store unreachable
	resultLimited                             // 429: the brute-force limiter holds the caller's address
	resultBackendFailed                       // gate mode: verified, but the next handler failed or answered other than 2xx
	resultOverBudget                          // 503: the body does not fit what is left of max_inflight_body
	resultTimeout                             // 408: the body did not arrive within the body deadline
	resultOutboxFull                          // 503: the outbox already holds max_outbox events
	resultReplay                              // verified, but its body was already handled under another delivery id: answered 200 X-Hookgate-Duplicate
	resultStale                               // verified, but older than max_age (401) or its ticket already moved by a newer change (200)
	resultInFlight                            // 409: another copy of the delivery is in flight
	resultError                               // any other answer (500: events could not be encoded)
	numResults
)

// String is the label value.
func (r deliveryResult) String() string {
	switch r {
	case resultAccepted:
		return "accepted"
	case resultDuplicate:
		return "duplicate"
	case resultRejected:
		return "rejected"
	case resultUnknown:
		return "unknown"
	case resultTooLarge:
		return "too_large"
	case resultMethod:
		return "method"
	case resultMalformed:
		return "malformed"
	case resultUnavailable:
		return "unavailable"
	case resultLimited:
		return "limited"
	case resultBackendFailed:
		return "backend_failed"
	case resultOverBudget:
		return "over_budget"
	case resultTimeout:
		return "timeout"
	case resultOutboxFull:
		return "outbox_full"
	case resultReplay:
		return "replay"
	case resultStale:
		return "stale"
	case resultInFlight:
		return "in_flight"
	default:
		return "error"
	}
}

// refusalResult maps a refusal's status to its result. known is whether
// the refusal names a known integration (the handler passes an id to
// refuse only then): a 401 for a known one is rejected, else unknown.
func refusalResult(status int, known bool) deliveryResult {
	switch status {
	case http.StatusUnauthorized:
		if known {
			return resultRejected
		}
		return resultUnknown
	case http.StatusMethodNotAllowed:
		return resultMethod
	case http.StatusRequestEntityTooLarge:
		return resultTooLarge
	case http.StatusBadRequest:
		return resultMalformed
	case http.StatusServiceUnavailable:
		return resultUnavailable
	case http.StatusTooManyRequests:
		return resultLimited
	case http.StatusRequestTimeout:
		return resultTimeout
	case http.StatusConflict:
		return resultInFlight
	default:
		return resultError
	}
}

// metrics are the app's Prometheus metrics (see README "Metrics"). Every
// label is a vendor name from the fixed list (or "" when no known vendor
// applies) or a fixed result: never an integration id, nor anything else
// a caller sent. The counters per vendor are resolved once, in newMetrics,
// so counting on the request path neither allocates nor locks beyond the
// counter's own atomic add.
//
// A nil *metrics counts nothing: the methods are safe on an App that was
// not provisioned.
type metrics struct {
	deliveries   *prometheus.CounterVec
	verification *prometheus.HistogramVec
	dedupe       *prometheus.CounterVec
	attempts     *prometheus.CounterVec

	outboxLength *prometheus.Desc
	outboxOldest *prometheus.Desc
	deadLetters  *prometheus.Desc
	bodyBytes    *prometheus.Desc

	// outbox is read when Prometheus scrapes; nil: no outbox gauges.
	outbox state.Outbox
	// bodies is the body budget read when Prometheus scrapes; nil: no
	// gauge.
	bodies *limiter.Budget

	// vendors are the known vendors; vendor i is at index i+1 of the
	// slices below, and index 0 stands for "" (no known vendor).
	vendors   []integrations.Vendor
	delivered [][numResults]prometheus.Counter // nil where not resolved up front
	verified  []prometheus.Observer
	deduped   []prometheus.Counter
	attempted [3]prometheus.Counter // delivered, retry, dead
}

// newMetrics builds the app's metrics, reading the outbox gauges from
// outbox and the body bytes in flight from bodies (nil: none).
func newMetrics(outbox state.Outbox, bodies *limiter.Budget) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caddy_hookgate_deliveries_total",
			Help: "Webhook deliveries decided by the hookgate handler, by vendor and result.",
		}, []string{"vendor", "result"}),
		verification: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "caddy_hookgate_verification_duration_seconds",
			Help: "Time from the start of the body read to the signature verdict (the body is read and checked in one pass), per vendor.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"vendor"}),
		dedupe: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caddy_hookgate_dedupe_hits_total",
			Help: "Verified deliveries and polled ticket events found already handled within dedupe_window, per vendor.",
		}, []string{"vendor"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caddy_hookgate_delivery_attempts_total",
			Help: "Attempts to deliver an outbox event to the finding service, by result: delivered, retry (failed, tried again later) or dead (failed for good).",
		}, []string{"result"}),
		outboxLength: prometheus.NewDesc("caddy_hookgate_outbox_length",
			"Events in the outbox not yet delivered: queued, in flight or waiting to retry.", nil, nil),
		outboxOldest: prometheus.NewDesc("caddy_hookgate_outbox_oldest_pending_seconds",
			"Age of the oldest event in the outbox not yet delivered; 0 when it is empty.", nil, nil),
		deadLetters: prometheus.NewDesc("caddy_hookgate_dead_letters",
			"Events in the dead letters: failed for good, waiting for a redrive.", nil, nil),
		bodyBytes: prometheus.NewDesc("caddy_hookgate_inflight_body_bytes",
			"Body bytes this instance holds now, taken from max_inflight_body.", nil, nil),
		outbox:  outbox,
		bodies:  bodies,
		vendors: integrations.Vendors(),
	}
	n := len(m.vendors) + 1
	m.delivered = make([][numResults]prometheus.Counter, n)
	m.verified = make([]prometheus.Observer, n)
	m.deduped = make([]prometheus.Counter, n)
	// Without a known vendor, only these answers are given.
	for _, r := range []deliveryResult{resultMethod, resultUnknown, resultLimited} {
		m.delivered[0][r] = m.deliveries.WithLabelValues("", r.String())
	}
	for i, v := range m.vendors {
		for r := range numResults {
			m.delivered[i+1][r] = m.deliveries.WithLabelValues(string(v), r.String())
		}
		m.verified[i+1] = m.verification.WithLabelValues(string(v))
		m.deduped[i+1] = m.dedupe.WithLabelValues(string(v))
	}
	for i, r := range []string{upstream.ResultDelivered, upstream.ResultRetry, upstream.ResultDead} {
		m.attempted[i] = m.attempts.WithLabelValues(r)
	}
	return m
}

// vendorIndex is v's index in the per-vendor slices: 0 unless v is a
// known vendor, so no other string ever becomes a label.
func (m *metrics) vendorIndex(v integrations.Vendor) int {
	for i, k := range m.vendors {
		if k == v {
			return i + 1
		}
	}
	return 0
}

// delivery counts one decided delivery. The brute-force limiter's 429s
// are counted here through refuse (resultLimited); an answer that does not
// go through refuse calls delivery itself.
func (m *metrics) delivery(v integrations.Vendor, r deliveryResult) {
	if m == nil || r >= numResults {
		return
	}
	i := m.vendorIndex(v)
	if c := m.delivered[i][r]; c != nil {
		c.Inc()
		return
	}
	// Not resolved up front: a result no known path gives without a vendor.
	m.deliveries.WithLabelValues("", r.String()).Inc()
}

// refused counts a refusal answered with status; known is whether it
// names a known integration.
func (m *metrics) refused(v integrations.Vendor, status int, known bool) {
	m.delivery(v, refusalResult(status, known))
}

// verifiedIn records how long the body read and signature check of one
// delivery of vendor v took.
func (m *metrics) verifiedIn(v integrations.Vendor, d time.Duration) {
	if m == nil {
		return
	}
	if o := m.verified[m.vendorIndex(v)]; o != nil {
		o.Observe(d.Seconds())
	}
}

// dedupeHit counts a verified delivery or polled event of vendor v that
// was already handled.
func (m *metrics) dedupeHit(v integrations.Vendor) {
	if m == nil {
		return
	}
	if c := m.deduped[m.vendorIndex(v)]; c != nil {
		c.Inc()
	}
}

// attempt counts one outbox delivery attempt; it is the outbox worker's
// OnResult. Results other than upstream's three are not counted.
func (m *metrics) attempt(result string) {
	if m == nil {
		return
	}
	switch result {
	case upstream.ResultDelivered:
		m.attempted[0].Inc()
	case upstream.ResultRetry:
		m.attempted[1].Inc()
	case upstream.ResultDead:
		m.attempted[2].Inc()
	}
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.deliveries.Describe(ch)
	m.verification.Describe(ch)
	m.dedupe.Describe(ch)
	m.attempts.Describe(ch)
	ch <- m.outboxLength
	ch <- m.outboxOldest
	ch <- m.deadLetters
	ch <- m.bodyBytes
}

// Collect implements prometheus.Collector. The outbox gauges are read from
// the state store now, within scrapeTimeout; when it does not answer they
// are left out of this scrape rather than reported as zero.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.deliveries.Collect(ch)
	m.verification.Collect(ch)
	m.dedupe.Collect(ch)
	m.attempts.Collect(ch)
	if m.bodies != nil {
		ch <- prometheus.MustNewConstMetric(m.bodyBytes, prometheus.GaugeValue, float64(m.bodies.InFlight()))
	}
	if m.outbox == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if n, oldest, err := m.outbox.Stats(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(m.outboxLength, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(m.outboxOldest, prometheus.GaugeValue, oldest.Seconds())
	}
	if dc, ok := m.outbox.(deadLetterCounter); ok {
		if n, err := dc.DeadLetterCount(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(m.deadLetters, prometheus.GaugeValue, float64(n))
		}
	}
}

// deadLetterCounter is an outbox that counts its dead letters cheaply
// (state.Redis and state.Memory do).
type deadLetterCounter interface {
	DeadLetterCount(ctx context.Context) (int, error)
}

// registerMetrics registers the app's collectors with reg (nil: none) and
// returns the metrics to count with. Caddy gives every config load its own
// registry, so each App registers into a fresh one; should the hookgate
// collectors already be in reg, the ones there are used.
func registerMetrics(reg *prometheus.Registry, a *App, outbox state.Outbox) (*metrics, error) {
	m := newMetrics(outbox, a.bodies)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{newPollLag(a), newIPListMetrics(a), m} {
		err := reg.Register(c)
		var are prometheus.AlreadyRegisteredError
		switch {
		case err == nil:
		case errors.As(err, &are):
			if existing, ok := are.ExistingCollector.(*metrics); ok {
				m = existing
			}
		default:
			return nil, fmt.Errorf("hookgate: registering metrics: %w", err)
		}
	}
	return m, nil
}

var _ prometheus.Collector = (*metrics)(nil)

// verdict is check's verdict on a delivery of vendor v, recording the
// time since readStart, when the body read began, as the delivery's
// verification duration.
func (h *Handler) verdict(check *verifiers.Check, v integrations.Vendor, readStart time.Time) verifiers.Verdict {
	verdict := check.Verdict()
	h.app.metrics.verifiedIn(v, time.Since(readStart))
	return verdict
}

// gateResult is the result of a verified delivery in gate mode whose next
// handler answered status.
func gateResult(status int) deliveryResult {
	if status >= 200 && status < 300 {
		return resultAccepted
	}
	return resultBackendFailed
}
