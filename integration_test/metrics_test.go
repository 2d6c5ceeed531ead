package integration_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// sample is one line of Prometheus text exposition.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// scrapeMetrics GETs Caddy's admin /metrics and returns its hookgate
// samples.
func scrapeMetrics(t *testing.T, admin string) []sample {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	var out []sample
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "caddy_hookgate_") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			t.Fatalf("metrics line without a value: %q", line)
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		s := sample{name: line[:sp], labels: map[string]string{}, value: v}
		if i := strings.IndexByte(s.name, '{'); i >= 0 {
			for _, m := range labelPair.FindAllStringSubmatch(s.name[i:], -1) {
				s.labels[m[1]] = m[2]
			}
			s.name = s.name[:i]
		}
		out = append(out, s)
	}
	return out
}

// metricValue finds the sample name with exactly labels (k=v pairs); ok is
// false when there is none.
func metricValue(samples []sample, name string, labels ...string) (float64, bool) {
	want := map[string]string{}
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		want[k] = v
	}
next:
	for _, s := range samples {
		if s.name != name || len(s.labels) != len(want) {
			continue
		}
		for k, v := range want {
			if got, ok := s.labels[k]; !ok || got != v {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

func wantMetric(t *testing.T, samples []sample, want float64, name string, labels ...string) {
	t.Helper()
	v, ok := metricValue(samples, name, labels...)
	if !ok {
		t.Errorf("%s%v: not on /metrics", name, labels)
		return
	}
	if v != want {
		t.Errorf("%s%v = %v, want %v", name, labels, v, want)
	}
}

// TestMetricsEndToEnd runs the real Caddy in forward mode and checks what
// its admin /metrics reports after a valid delivery, a duplicate, a forged
// one, an unknown id and a GET: each counted once under its vendor and
// result, the outbox drained to the finding service, dead letters after a
// permanent failure; and no label anywhere carries an integration id.
func TestMetricsEndToEnd(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	const id, unknownID = "mtr-gh-5f2a91", "mtr-unknown-c7d3e0"
	f := startForwardCaddy(t, redisAddr, prefix, fs.URL,
		fmt.Sprintf("\t\tintegration %s {\n\t\t\tvendor github\n\t\t\tsecret %s\n\t\t}\n", id, secretFor(id)))

	body := readPayload(t, "github/push.json")
	post := func(path, secret, delivery string) int {
		t.Helper()
		resp, _ := do(t, signed(t, f.base+path, integrations.GitHub, integrations.SchemeHMAC, secret, ownBody(body, delivery),
			map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery}))
		return resp.StatusCode
	}
	path := integrations.GitHub.ReceiverPath(id)
	if s := post(path, secretFor(id), "metrics-1"); s != http.StatusAccepted {
		t.Fatalf("valid delivery: %d", s)
	}
	if s := post(path, secretFor(id), "metrics-1"); s != http.StatusOK {
		t.Fatalf("duplicate: %d", s)
	}
	if s := post(path, "forged-"+secretFor(id), "metrics-2"); s != http.StatusUnauthorized {
		t.Fatalf("forged: %d", s)
	}
	if s := post(integrations.GitHub.ReceiverPath(unknownID), secretFor(id), "metrics-3"); s != http.StatusUnauthorized {
		t.Fatalf("unknown id: %d", s)
	}
	if resp, _ := do(t, getReq(t, f.base+path)); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}

	// The outbox drains to the finding service; the metrics say so.
	var samples []sample
	eventually(t, 60*time.Second, "outbox drained and attempts counted", func() bool {
		samples = scrapeMetrics(t, f.admin)
		n, _ := metricValue(samples, "caddy_hookgate_outbox_length")
		delivered, _ := metricValue(samples, "caddy_hookgate_delivery_attempts_total", "result=delivered")
		return len(fs.snapshot()) >= 2 && n == 0 && delivered >= float64(len(fs.snapshot()))
	})
	events := len(fs.snapshot())
	const d = "caddy_hookgate_deliveries_total"
	wantMetric(t, samples, 1, d, "vendor=github", "result=accepted")
	wantMetric(t, samples, 1, d, "vendor=github", "result=duplicate")
	wantMetric(t, samples, 1, d, "vendor=github", "result=rejected")
	wantMetric(t, samples, 1, d, "vendor=github", "result=unknown")
	wantMetric(t, samples, 1, d, "vendor=", "result=method")
	wantMetric(t, samples, 0, d, "vendor=github", "result=unavailable")
	wantMetric(t, samples, 1, "caddy_hookgate_dedupe_hits_total", "vendor=github")
	// Timed: the valid delivery, the duplicate and the forged one (the
	// unknown id is refused before its body is read).
	wantMetric(t, samples, 3, "caddy_hookgate_verification_duration_seconds_count", "vendor=github")
	wantMetric(t, samples, float64(events), "caddy_hookgate_delivery_attempts_total", "result=delivered")
	wantMetric(t, samples, 0, "caddy_hookgate_delivery_attempts_total", "result=dead")
	wantMetric(t, samples, 0, "caddy_hookgate_outbox_length")
	wantMetric(t, samples, 0, "caddy_hookgate_outbox_oldest_pending_seconds")
	wantMetric(t, samples, 0, "caddy_hookgate_dead_letters")
	if events < 2 {
		t.Fatalf("only %d events delivered for a push", events)
	}

	// A permanent failure: the events go to the dead letters.
	fs.setStatus(http.StatusBadRequest)
	if s := post(path, secretFor(id), "metrics-4"); s != http.StatusAccepted {
		t.Fatalf("second valid delivery: %d", s)
	}
	var dl struct {
		Entries []struct{} `json:"entries"`
	}
	// Wait for every event of the push, not the first: with one dead and
	// the other still in flight the outbox is not empty yet (the flake of
	// issue 11).
	eventually(t, 30*time.Second, "every event of the push in the dead letters", func() bool {
		f.getJSON(t, "/hookgate/deadletter", &dl)
		samples = scrapeMetrics(t, f.admin)
		dead, _ := metricValue(samples, "caddy_hookgate_delivery_attempts_total", "result=dead")
		n, _ := metricValue(samples, "caddy_hookgate_dead_letters")
		queued, _ := metricValue(samples, "caddy_hookgate_outbox_length")
		return len(dl.Entries) == events && dead == float64(events) && n == dead && queued == 0
	})
	wantMetric(t, samples, 2, d, "vendor=github", "result=accepted")
	wantMetric(t, samples, 0, "caddy_hookgate_outbox_length")

	// Labels are bounded: no integration id (known or not), nothing but a
	// vendor name or a result.
	values := 0
	for _, s := range samples {
		for k, v := range s.labels {
			values++
			if strings.Contains(v, id) || strings.Contains(v, unknownID) || strings.Contains(v, "mtr-") {
				t.Errorf("%s: label %s=%q carries an integration id", s.name, k, v)
			}
			if k != "vendor" && k != "result" && k != "le" {
				t.Errorf("%s: unexpected label %s", s.name, k)
			}
			if k == "vendor" && v != "" && !integrations.Vendor(v).Known() {
				t.Errorf("%s: vendor label %q is not a vendor", s.name, v)
			}
		}
	}
	if values == 0 {
		t.Fatal("no labels on hookgate's metrics")
	}
}
