package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
	"github.com/hookgate/caddy-hookgate/upstream"
)

// metricSamples gathers g into "name{k=v,...}" → value, labels sorted by
// name; a histogram gives name_count and name_sum.
func metricSamples(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "caddy_hookgate_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName()+"="+lp.GetValue())
			}
			sort.Strings(labels)
			key := "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()+key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()+key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()+"_count"+key] = float64(m.GetHistogram().GetSampleCount())
				out[mf.GetName()+"_sum"+key] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

// labelValues lists every label value of hookgate's metrics in g.
func labelValues(t *testing.T, g prometheus.Gatherer) map[string]bool {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "caddy_hookgate_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				out[lp.GetName()+"="+lp.GetValue()] = true
			}
		}
	}
	return out
}

// withMetrics gives app metrics registered in a fresh pedantic registry,
// reading the outbox gauges from outbox.
func withMetrics(t *testing.T, app *App, outbox state.Outbox) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := registerMetrics(reg, app, outbox)
	if err != nil {
		t.Fatalf("registerMetrics: %v", err)
	}
	app.metrics = m
	return reg
}

func wantSample(t *testing.T, got map[string]float64, key string, want float64) {
	t.Helper()
	if v, ok := got[key]; !ok || v != want {
		t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
	}
}

// The result label of every refusal status, and the labels' bounded sets.
func TestMetricRefusalResult(t *testing.T) {
	cases := []struct {
		status int
		known  bool
		want   string
	}{
		{http.StatusUnauthorized, true, "rejected"},
		{http.StatusUnauthorized, false, "unknown"},
		{http.StatusMethodNotAllowed, false, "method"},
		{http.StatusRequestEntityTooLarge, true, "too_large"},
		{http.StatusBadRequest, true, "malformed"},
		{http.StatusServiceUnavailable, true, "unavailable"},
		{http.StatusTooManyRequests, false, "limited"},
		{http.StatusTooManyRequests, true, "limited"},
		{http.StatusInternalServerError, true, "error"},
		{http.StatusRequestTimeout, true, "timeout"},
		{http.StatusConflict, true, "in_flight"},
	}
	for _, c := range cases {
		if got := refusalResult(c.status, c.known).String(); got != c.want {
			t.Errorf("refusalResult(%d, %v) = %q, want %q", c.status, c.known, got, c.want)
		}
	}
	seen := map[string]bool{}
	for r := range numResults {
		s := r.String()
		if seen[s] {
			t.Errorf("result %d: label %q used twice", r, s)
		}
		seen[s] = true
	}
	// The three of the edge bounds (over_budget, timeout, outbox_full) came
	// after the first eleven, then replay, stale and in_flight.
	if len(seen) != 17 {
		t.Errorf("%d result labels, want 17: %v", len(seen), seen)
	}
	if gateResult(http.StatusNoContent) != resultAccepted || gateResult(http.StatusBadGateway) != resultBackendFailed || gateResult(0) != resultBackendFailed {
		t.Error("gateResult maps a status wrongly")
	}
	m := newMetrics(nil, nil)
	for _, v := range []integrations.Vendor{"", "nope", "GitHub", "github/../x", "gh-1"} {
		if i := m.vendorIndex(v); i != 0 {
			t.Errorf("vendorIndex(%q) = %d: not a known vendor, must be 0", v, i)
		}
	}
	for i, v := range integrations.Vendors() {
		if got := m.vendorIndex(v); got != i+1 {
			t.Errorf("vendorIndex(%q) = %d, want %d", v, got, i+1)
		}
	}
}

// Counting on the request path allocates nothing.
func TestMetricsHotPathAllocs(t *testing.T) {
	m := newMetrics(nil, nil)
	allocs := testing.AllocsPerRun(200, func() {
		m.delivery(integrations.GitHub, resultAccepted)
		m.delivery("", resultUnknown)
		m.delivery("", resultLimited)
		m.refused(integrations.Jira, http.StatusUnauthorized, true)
		m.verifiedIn(integrations.Bitbucket, 3*time.Millisecond)
		m.dedupeHit(integrations.GitLab)
		m.attempt(upstream.ResultDelivered)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per request-path count, want 0", allocs)
	}
	var nilMetrics *metrics // an App that was not provisioned
	nilMetrics.delivery(integrations.GitHub, resultAccepted)
	nilMetrics.refused(integrations.GitHub, http.StatusUnauthorized, true)
	nilMetrics.verifiedIn(integrations.GitHub, time.Millisecond)
	nilMetrics.dedupeHit(integrations.GitHub)
	nilMetrics.attempt(upstream.ResultDead)
}

// Gate mode: each decision is counted once under its vendor and result,
// verification is timed for each delivery whose body was checked, and no
// label carries an integration id or anything else from the request.
func TestMetricsHandlerGate(t *testing.T) {
	app := newTestApp(t, false)
	mem := isolateState(app)
	reg := withMetrics(t, app, mem)
	vc := caseByID(t, "gh-1")

	h, _ := newTestHandler(app)
	if res := serve(t, h, validRequest(t, vc)); res.rec.Code != http.StatusAccepted {
		t.Fatalf("valid: %d", res.rec.Code)
	}
	if res := serve(t, h, validRequest(t, vc)); res.rec.Header().Get(headerDuplicate) != "true" {
		t.Fatalf("duplicate: %d", res.rec.Code)
	}
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, vc.wrongSecret(), vc.path(), []byte(vc.body))))
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, vc.secret, integrations.GitHub.ReceiverPath("no-such-integration"), []byte(vc.body))))
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, vc.secret, "/webhooks/ci/evilvendor/gh-1", []byte(vc.body))))
	inactive := vc
	inactive.id, inactive.secret = "gh-inactive", "gh-inactive-secret"
	wantUnauthorized(t, serve(t, h, validRequest(t, inactive)))
	get := httptest.NewRequest(http.MethodGet, vc.path(), nil)
	if res := serve(t, h, get); res.rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", res.rec.Code)
	}
	if res := serve(t, h, signedRequest(t, vc, vc.secret, vc.path(), padJSON(t, vc.body, testMaxBody+1))); res.rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", res.rec.Code)
	}
	jira := caseByID(t, "jira-1")
	if res := serve(t, h, validRequest(t, jira)); res.rec.Code != http.StatusAccepted {
		t.Fatalf("jira: %d", res.rec.Code)
	}
	// The next handler fails: the delivery is not accepted.
	gh2 := vc
	gh2.id, gh2.secret = "gh-2", "gh-secret-2"
	r := validRequest(t, gh2)
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	failing := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusBadGateway)
		return nil
	})
	if err := h.ServeHTTP(httptest.NewRecorder(), r, failing); err != nil {
		t.Fatal(err)
	}

	got := metricSamples(t, reg)
	d := "caddy_hookgate_deliveries_total"
	wantSample(t, got, d+"{result=accepted,vendor=github}", 1)
	wantSample(t, got, d+"{result=duplicate,vendor=github}", 1)
	wantSample(t, got, d+"{result=rejected,vendor=github}", 2) // forged, inactive
	wantSample(t, got, d+"{result=unknown,vendor=github}", 1)
	wantSample(t, got, d+"{result=unknown,vendor=}", 1)
	wantSample(t, got, d+"{result=method,vendor=}", 1)
	wantSample(t, got, d+"{result=too_large,vendor=github}", 1)
	wantSample(t, got, d+"{result=backend_failed,vendor=github}", 1)
	wantSample(t, got, d+"{result=accepted,vendor=jira}", 1)
	wantSample(t, got, d+"{result=limited,vendor=}", 0)
	wantSample(t, got, "caddy_hookgate_dedupe_hits_total{vendor=github}", 1)
	// Timed: valid, duplicate, forged and backend-failed (the inactive
	// and too-large ones are refused before the body is read).
	wantSample(t, got, "caddy_hookgate_verification_duration_seconds_count{vendor=github}", 4)
	wantSample(t, got, "caddy_hookgate_verification_duration_seconds_count{vendor=jira}", 1)
	wantSample(t, got, "caddy_hookgate_outbox_length{}", 0)
	wantSample(t, got, "caddy_hookgate_dead_letters{}", 0)

	var total float64
	for k, v := range got {
		if strings.HasPrefix(k, d+"{") {
			total += v
		}
	}
	if total != 10 {
		t.Errorf("%v deliveries counted, want 10 (one per request)", total)
	}
	wantOnlyBoundedLabels(t, reg, "gh-1", "gh-2", "gh-inactive", "no-such-integration", "evilvendor")
}

// wantOnlyBoundedLabels checks that every label value is a known vendor,
// "", a result or an attempt result, and none contains a forbidden string.
func wantOnlyBoundedLabels(t *testing.T, g prometheus.Gatherer, forbidden ...string) {
	t.Helper()
	allowed := map[string]bool{"vendor=": true}
	for _, v := range integrations.Vendors() {
		allowed["vendor="+string(v)] = true
	}
	for r := range numResults {
		allowed["result="+r.String()] = true
	}
	for _, r := range []string{upstream.ResultDelivered, upstream.ResultRetry, upstream.ResultDead} {
		allowed["result="+r] = true
	}
	for lv := range labelValues(t, g) {
		if !allowed[lv] {
			t.Errorf("label %s is outside the bounded sets", lv)
		}
		for _, f := range forbidden {
			if strings.Contains(lv, f) {
				t.Errorf("label %s contains %q", lv, f)
			}
		}
	}
}

// Forward mode: accepted once the outbox holds the events, a duplicate
// is a dedupe hit, a store that is down is unavailable, and the outbox
// gauges read the store.
func TestMetricsHandlerForwarding(t *testing.T) {
	app, mem := newForwardingApp(t)
	reg := withMetrics(t, app, mem)
	vc := caseByID(t, "gh-1")
	h, _ := newTestHandler(app)
	serve(t, h, validRequest(t, vc))
	serve(t, h, validRequest(t, vc))
	app.state = &pooledState{deliveries: failingDeliveries{mem}, outbox: mem}
	bb := caseByID(t, "bb-1")
	if res := serve(t, h, validRequest(t, bb)); res.rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("store down: %d", res.rec.Code)
	}

	got := metricSamples(t, reg)
	d := "caddy_hookgate_deliveries_total"
	wantSample(t, got, d+"{result=accepted,vendor=github}", 1)
	wantSample(t, got, d+"{result=duplicate,vendor=github}", 1)
	wantSample(t, got, d+"{result=unavailable,vendor=bitbucket}", 1)
	wantSample(t, got, "caddy_hookgate_dedupe_hits_total{vendor=github}", 1)
	n, _, err := mem.Stats(context.Background())
	if err != nil || n == 0 {
		t.Fatalf("outbox: %d, %v", n, err)
	}
	wantSample(t, got, "caddy_hookgate_outbox_length{}", float64(n))
	wantOnlyBoundedLabels(t, reg, "gh-1", "bb-1")
}

// The outbox gauges follow the store at scrape time; the attempt counter
// counts what the worker reports.
func TestMetricsOutboxGaugesAndAttempts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	clock := now
	mem := state.NewMemory(state.MemoryOptions{Now: func() time.Time { return clock }})
	reg := prometheus.NewPedanticRegistry()
	m, err := registerMetrics(reg, &App{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	got := metricSamples(t, reg)
	wantSample(t, got, "caddy_hookgate_outbox_length{}", 0)
	wantSample(t, got, "caddy_hookgate_outbox_oldest_pending_seconds{}", 0)
	wantSample(t, got, "caddy_hookgate_dead_letters{}", 0)

	if _, err := mem.Commit(ctx, state.Accepted{Integration: "gh-1", DedupeKey: "k", DedupeTTL: time.Hour,
		Events: []state.OutboxEvent{{ID: "e1", Body: []byte(`{}`)}, {ID: "e2", Body: []byte(`{}`)}, {ID: "e3", Body: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(90 * time.Second)
	ps, err := mem.Next(ctx, "w", 1, 0, time.Minute)
	if err != nil || len(ps) != 1 {
		t.Fatalf("Next: %d, %v", len(ps), err)
	}
	if err := mem.Dead(ctx, ps[0], "400", clock); err != nil {
		t.Fatal(err)
	}
	m.attempt(upstream.ResultDead)
	m.attempt(upstream.ResultRetry)
	m.attempt(upstream.ResultRetry)
	m.attempt(upstream.ResultDelivered)
	m.attempt("something else")

	got = metricSamples(t, reg)
	wantSample(t, got, "caddy_hookgate_outbox_length{}", 2)
	wantSample(t, got, "caddy_hookgate_outbox_oldest_pending_seconds{}", 90)
	wantSample(t, got, "caddy_hookgate_dead_letters{}", 1)
	wantSample(t, got, "caddy_hookgate_delivery_attempts_total{result=delivered}", 1)
	wantSample(t, got, "caddy_hookgate_delivery_attempts_total{result=retry}", 2)
	wantSample(t, got, "caddy_hookgate_delivery_attempts_total{result=dead}", 1)
	if len(labelValues(t, reg)) == 0 {
		t.Fatal("no labels gathered")
	}
	wantOnlyBoundedLabels(t, reg, "something")
}

// unavailableOutbox is an outbox whose store does not answer.
type unavailableOutbox struct{ state.Outbox }

func (unavailableOutbox) Stats(context.Context) (int, time.Duration, error) {
	return 0, 0, state.ErrUnavailable
}

func (unavailableOutbox) DeadLetterCount(context.Context) (int, error) {
	return 0, state.ErrUnavailable
}

// A store that does not answer leaves the gauges out of the scrape rather
// than reporting an empty outbox; the rest is still served.
func TestMetricsOutboxUnavailable(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := registerMetrics(reg, &App{}, unavailableOutbox{})
	if err != nil {
		t.Fatal(err)
	}
	m.delivery(integrations.GitHub, resultAccepted)
	got := metricSamples(t, reg)
	for _, k := range []string{"caddy_hookgate_outbox_length{}", "caddy_hookgate_outbox_oldest_pending_seconds{}", "caddy_hookgate_dead_letters{}"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s reported while the store is unavailable", k)
		}
	}
	wantSample(t, got, "caddy_hookgate_deliveries_total{result=accepted,vendor=github}", 1)
}

// Registering twice in one registry keeps the first collectors; a nil
// registry still gives metrics to count with.
func TestMetricsRegisterOnce(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	first, err := registerMetrics(reg, &App{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := registerMetrics(reg, &App{}, nil)
	if err != nil {
		t.Fatalf("second registration: %v", err)
	}
	if first != second {
		t.Error("second registration did not reuse the registered metrics")
	}
	if m, err := registerMetrics(nil, &App{}, nil); err != nil || m == nil {
		t.Errorf("nil registry: %v, %v", m, err)
	}
	// A foreign collector under one of hookgate's names is an error.
	clash := prometheus.NewPedanticRegistry()
	clash.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "caddy_hookgate_deliveries_total", Help: "x"}))
	if _, err := registerMetrics(clash, &App{}, nil); err == nil || !strings.Contains(err.Error(), "registering metrics") {
		t.Errorf("clashing registration: %v", err)
	}
}

// Provisioning registers the metrics in the config's registry, once per
// config load: two loads (a reload) each get theirs without an error.
func TestMetricsProvisionPerConfig(t *testing.T) {
	for i := range 2 {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		a := &App{MaxAge: "off", AllowUnsigned: "false", Integrations: testIntegrations()}
		if err := a.Provision(ctx); err != nil {
			cancel()
			t.Fatalf("load %d: Provision: %v", i, err)
		}
		got := metricSamples(t, ctx.GetMetricsRegistry())
		wantSample(t, got, "caddy_hookgate_deliveries_total{result=accepted,vendor=github}", 0)
		if _, ok := got["caddy_hookgate_outbox_length{}"]; !ok {
			t.Errorf("load %d: no outbox gauge", i)
		}
		if err := a.Cleanup(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Cleanup: %v", err)
		}
		cancel()
	}
}
