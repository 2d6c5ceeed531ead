package upstream

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/state"
)

// BenchmarkDrainRedis measures how fast one worker (the app's default
// concurrency of 64) empties a real Redis outbox into a local finding service that
// answers 202 at once: b.N events are queued first, then drained, and the
// rate is reported as events/s.
func BenchmarkDrainRedis(b *testing.B) {
	rdb := testredis.Client(b)
	prefix := testredis.Prefix(b, rdb)
	outbox := state.NewRedis(rdb, state.RedisOptions{KeyPrefix: prefix})
	ctx := context.Background()

	finding := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(finding.Close)
	client, err := NewClient(ClientConfig{URL: finding.URL})
	if err != nil {
		b.Fatal(err)
	}

	body := []byte(`{"id":"x","type":"ci.push","source":{"vendor":"github"},"ci":{"repository":"org/repo","branch":"main"}}`)
	const perCommit = 2
	for i := 0; i < b.N; i += perCommit {
		evs := make([]state.OutboxEvent, 0, perCommit)
		for j := i; j < min(i+perCommit, b.N); j++ {
			evs = append(evs, state.OutboxEvent{ID: fmt.Sprintf("ev-%d", j), Body: body})
		}
		if _, err := outbox.Commit(ctx, state.Accepted{Integration: "bench", Events: evs,
			Audit: state.AuditEntry{Vendor: "github"}, AuditSize: 1}); err != nil {
			b.Fatal(err)
		}
	}

	w, err := NewWorker(WorkerConfig{Outbox: outbox, Client: client, Concurrency: 64, Block: 50 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(runCtx) }()
	for {
		n, _, err := outbox.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
