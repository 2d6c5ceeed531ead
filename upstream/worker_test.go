package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/caddy-hookgate/state"
)

// results collects OnResult calls.
type results struct {
	mu  sync.Mutex
	got []string
}

func (r *results) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
}

func (r *results) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// startWorker runs a worker until the test ends (or stop is called) and
// returns stop, which cancels it and waits for Run to return.
func startWorker(t *testing.T, cfg WorkerConfig) (stop func()) {
	t.Helper()
	if cfg.Block == 0 {
		cfg.Block = 20 * time.Millisecond
	}
	if cfg.Consumer == "" {
		cfg.Consumer = "test-consumer"
	}
	w, err := NewWorker(cfg)
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// fixedJitter makes Backoff.Delay return the nominal wait.
func fixedJitter() float64 { return 1 }

func TestWorkerDeliversAndMarksDone(t *testing.T) {
	type request struct {
		header http.Header
		body   string
	}
	reqs := make(chan request, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- request{r.Header.Clone(), string(b)}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	body := `{"id":"ev-1","type":"ci.push","source":{"vendor":"github"}}`
	ob.add(t, state.OutboxEvent{ID: "ev-1", Body: []byte(body)})
	var res results
	client := newTestClient(t, srv.URL, ClientConfig{Headers: map[string]string{"Authorization": testToken, "X-Tenant": "acme"}})
	startWorker(t, WorkerConfig{Outbox: ob, Client: client, Now: clock.Now, OnResult: res.add})

	waitFor(t, "Done", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.done) })
		return n == 1
	})
	got := <-reqs
	if got.body != body {
		t.Errorf("body = %q, want %q", got.body, body)
	}
	for k, want := range map[string]string{
		"Idempotency-Key": "ev-1",
		"Content-Type":    "application/json",
		"Authorization":   testToken,
		"X-Tenant":        "acme",
	} {
		if v := got.header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	ob.snapshot(func(f *memOutbox) {
		if f.done[0].Event.ID != "ev-1" || len(f.retries) != 0 || len(f.deadLetters(t)) != 0 || f.length(t) != 0 {
			t.Errorf("outbox: done %v retries %v dead %v left %d", f.done, f.retries, f.deadLetters(t), f.length(t))
		}
	})
	if r := res.list(); !slices.Equal(r, []string{ResultDelivered}) {
		t.Errorf("results = %v", r)
	}
}

func TestWorkerRetriesThenDelivers(t *testing.T) {
	var calls atomic.Int32
	keys := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get("Idempotency-Key")
		if calls.Add(1) == 1 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	clock := newTestClock()
	start := clock.Now()
	ob := newMemOutbox(clock.Now)
	ob.add(t, state.OutboxEvent{ID: "ev-2", Body: []byte(`{}`)})
	var res results
	startWorker(t, WorkerConfig{
		Outbox: ob, Client: newTestClient(t, srv.URL, ClientConfig{}), Now: clock.Now, OnResult: res.add,
		Backoff: Backoff{First: time.Second, Max: time.Minute, Jitter: fixedJitter},
	})

	waitFor(t, "Retry", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.retries) })
		return n == 1
	})
	ob.snapshot(func(f *memOutbox) {
		r := f.retries[0]
		if !r.at.Equal(start.Add(time.Second)) {
			t.Errorf("retry at %s, want now+1s", r.at)
		}
		if !strings.Contains(r.lastErr, "503") {
			t.Errorf("last error %q does not name the status", r.lastErr)
		}
	})
	// The outbox hands the event out again once the clock reaches the retry time.
	clock.Advance(time.Second)
	waitFor(t, "Done", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.done) })
		return n == 1
	})
	ob.snapshot(func(f *memOutbox) {
		if f.done[0].Attempts != 1 || len(f.deadLetters(t)) != 0 {
			t.Errorf("done %+v, dead %v", f.done[0], f.deadLetters(t))
		}
	})
	if n := calls.Load(); n != 2 {
		t.Errorf("finding service saw %d requests, want 2", n)
	}
	if k1, k2 := <-keys, <-keys; k1 != "ev-2" || k2 != "ev-2" {
		t.Errorf("idempotency keys %q, %q", k1, k2)
	}
	if r := res.list(); !slices.Equal(r, []string{ResultRetry, ResultDelivered}) {
		t.Errorf("results = %v", r)
	}
}

func TestWorkerHonoursRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()

	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	ob.add(t, state.OutboxEvent{ID: "ev-3", Body: []byte(`{}`)})
	startWorker(t, WorkerConfig{
		Outbox: ob, Client: newTestClient(t, srv.URL, ClientConfig{}), Now: clock.Now,
		Backoff: Backoff{First: time.Second, Jitter: fixedJitter},
	})

	waitFor(t, "Retry", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.retries) })
		return n >= 1
	})
	ob.snapshot(func(f *memOutbox) {
		r := f.retries[0]
		if r.at.Before(clock.Now().Add(7 * time.Second)) {
			t.Errorf("retry at %s, want at least now+7s (%s)", r.at, clock.Now().Add(7*time.Second))
		}
		if !strings.Contains(r.lastErr, "429") {
			t.Errorf("last error %q does not name the status", r.lastErr)
		}
	})
}

func TestWorkerDeadOnPermanentFailure(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"unknown field","echo":"`+r.Header.Get("Authorization")+`"}`)
	}))
	defer srv.Close()

	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	ob.add(t, state.OutboxEvent{ID: "ev-4", Body: []byte(`{"id":"ev-4"}`)})
	var res results
	startWorker(t, WorkerConfig{
		Outbox: ob, Now: clock.Now, OnResult: res.add,
		Client: newTestClient(t, srv.URL, ClientConfig{Headers: map[string]string{"Authorization": testToken}}),
	})

	waitFor(t, "Dead", func() bool { return len(ob.deadLetters(t)) == 1 })
	ob.snapshot(func(f *memOutbox) {
		d := f.deadLetters(t)[0]
		if !strings.Contains(d.LastError, "400") {
			t.Errorf("last_error %q does not name the status", d.LastError)
		}
		if strings.Contains(d.LastError, "s3cr3t") {
			t.Errorf("last_error leaks the Authorization token: %q", d.LastError)
		}
		if d.ID != "ev-4" || d.Attempts != 1 || !d.FailedAt.Equal(clock.Now()) || string(d.Event) != `{"id":"ev-4"}` {
			t.Errorf("dead letter %+v", d)
		}
		if len(f.retries) != 0 || len(f.done) != 0 {
			t.Errorf("retries %v done %v", f.retries, f.done)
		}
	})
	if n := calls.Load(); n != 1 {
		t.Errorf("finding service saw %d requests, want 1", n)
	}
	if r := res.list(); !slices.Equal(r, []string{ResultDead}) {
		t.Errorf("results = %v", r)
	}
}

func TestWorkerDeadAfterMaxAttempts(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer srv.Close()

	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	ob.add(t, state.OutboxEvent{ID: "ev-5", Body: []byte(`{}`)})
	var res results
	startWorker(t, WorkerConfig{
		Outbox: ob, Client: newTestClient(t, srv.URL, ClientConfig{}), Now: clock.Now, OnResult: res.add,
		MaxAttempts: 3, Backoff: Backoff{First: time.Second, Jitter: fixedJitter},
	})

	// Each retry is handed out once the clock reaches its time.
	for i := 1; i <= 2; i++ {
		var at time.Time
		waitFor(t, fmt.Sprintf("Retry %d", i), func() bool {
			var n int
			ob.snapshot(func(f *memOutbox) {
				if n = len(f.retries); n >= i {
					at = f.retries[i-1].at
				}
			})
			return n >= i
		})
		clock.Advance(at.Sub(clock.Now()))
	}
	waitFor(t, "Dead", func() bool { return len(ob.deadLetters(t)) == 1 })
	ob.snapshot(func(f *memOutbox) {
		if len(f.retries) != 2 {
			t.Fatalf("retries = %d, want 2", len(f.retries))
		}
		// Backoff doubles: 1s after the first attempt, 2s after the second.
		for i, want := range []time.Duration{time.Second, 2 * time.Second} {
			if got := f.retries[i].at.Sub(f.retries[i].now); got != want {
				t.Errorf("retry %d waits %s, want %s", i+1, got, want)
			}
		}
		if d := f.deadLetters(t)[0]; d.Attempts != 3 || !strings.Contains(d.LastError, "500") {
			t.Errorf("dead letter %+v", d)
		}
	})
	if n := calls.Load(); n != 3 {
		t.Errorf("finding service saw %d requests, want 3", n)
	}
	if r := res.list(); !slices.Equal(r, []string{ResultRetry, ResultRetry, ResultDead}) {
		t.Errorf("results = %v", r)
	}
}

func TestWorkerNetworkErrorRetries(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more

	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	ob.add(t, state.OutboxEvent{ID: "ev-6", Body: []byte(`{}`)})
	var res results
	startWorker(t, WorkerConfig{
		Outbox: ob, Client: newTestClient(t, srv.URL, ClientConfig{}), Now: clock.Now, OnResult: res.add,
	})

	waitFor(t, "Retry", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.retries) })
		return n == 1
	})
	ob.snapshot(func(f *memOutbox) {
		if r := f.retries[0]; !strings.Contains(r.lastErr, "unreachable") || !r.at.After(clock.Now()) {
			t.Errorf("retry %+v", r)
		}
		if len(f.deadLetters(t)) != 0 {
			t.Errorf("dead = %v", f.deadLetters(t))
		}
	})
	if r := res.list(); !slices.Equal(r, []string{ResultRetry}) {
		t.Errorf("results = %v", r)
	}
}

// funcDeliverer adapts a function to Deliverer.
type funcDeliverer func(ctx context.Context, ev state.OutboxEvent) error

func (f funcDeliverer) Deliver(ctx context.Context, ev state.OutboxEvent) error { return f(ctx, ev) }

func TestWorkerPlainErrorIsRetryable(t *testing.T) {
	clock := newTestClock()
	ob := newMemOutbox(clock.Now)
	ob.add(t, state.OutboxEvent{ID: "ev-7"})
	startWorker(t, WorkerConfig{
		Outbox: ob, Now: clock.Now,
		Client: funcDeliverer(func(context.Context, state.OutboxEvent) error { return errors.New("queue full") }),
	})
	waitFor(t, "Retry", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.retries) })
		return n == 1
	})
	ob.snapshot(func(f *memOutbox) {
		if f.retries[0].lastErr != "queue full" {
			t.Errorf("last error %q", f.retries[0].lastErr)
		}
	})
}

func TestWorkerStopsOnCancel(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		ob := newMemOutbox(newTestClock().Now)
		stop := startWorker(t, WorkerConfig{Outbox: ob, Client: funcDeliverer(func(context.Context, state.OutboxEvent) error { return nil }),
			Block: time.Hour})
		waitFor(t, "a read", func() bool {
			var n int
			ob.snapshot(func(f *memOutbox) { n = f.nextCalls })
			return n > 0
		})
		stop() // fails the test if Run does not return
	})

	t.Run("in flight past the drain is handed back", func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		quit := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // lets the server notice the client going away
			arrived <- struct{}{}
			select { // never answers
			case <-r.Context().Done():
			case <-quit:
			}
		}))
		defer srv.Close()
		defer close(quit)
		clock := newTestClock()
		ob := newMemOutbox(clock.Now)
		ob.add(t, state.OutboxEvent{ID: "ev-8", Body: []byte(`{}`)})
		var res results
		stop := startWorker(t, WorkerConfig{Outbox: ob, Client: newTestClient(t, srv.URL, ClientConfig{}), OnResult: res.add, Drain: 50 * time.Millisecond})
		<-arrived
		stop()
		ob.snapshot(func(f *memOutbox) {
			if len(f.done)+len(f.deadLetters(t)) != 0 {
				t.Errorf("recorded an outcome for an attempt cut short: done %v dead %v", f.done, f.deadLetters(t))
			}
		})
		// Handed back: another consumer takes it at once, long before
		// reclaimAfter on the outbox clock, its attempt not counted.
		const reclaimAfter = time.Hour
		got, err := ob.Memory.Next(context.Background(), "other-consumer", 1, 0, reclaimAfter)
		if err != nil || len(got) != 1 || got[0].Event.ID != "ev-8" || got[0].Attempts != 0 {
			t.Errorf("the event should be handed back for the next consumer: %+v (%v)", got, err)
		}
		if r := res.list(); len(r) != 0 {
			t.Errorf("results = %v", r)
		}
	})

	t.Run("in flight that answers within the drain is done", func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		answer := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			arrived <- struct{}{}
			<-answer
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		ob := newMemOutbox(newTestClock().Now)
		ob.add(t, state.OutboxEvent{ID: "ev-9", Body: []byte(`{}`)})
		var res results
		stop := startWorker(t, WorkerConfig{Outbox: ob, Client: newTestClient(t, srv.URL, ClientConfig{}), OnResult: res.add, Drain: time.Minute})
		<-arrived
		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		// Stopping does not cut the attempt short: it is answered, then
		// recorded, and only then does Run return.
		select {
		case <-stopped:
			t.Fatal("Run returned with an attempt in flight and the drain not over")
		case <-time.After(50 * time.Millisecond):
		}
		close(answer)
		<-stopped
		if n := ob.length(t); n != 0 {
			t.Errorf("the delivered event is still in the outbox (%d)", n)
		}
		if r := res.list(); len(r) != 1 || r[0] != ResultDelivered {
			t.Errorf("results = %v", r)
		}
	})

	t.Run("finished attempt is still recorded", func(t *testing.T) {
		ob := newMemOutbox(newTestClock().Now)
		ob.add(t, state.OutboxEvent{ID: "ev-9"})
		var stop func()
		ready := make(chan struct{})
		stop = startWorker(t, WorkerConfig{Outbox: ob, Client: funcDeliverer(func(ctx context.Context, _ state.OutboxEvent) error {
			<-ready
			go stop() // shutdown begins while the attempt succeeds
			<-ctx.Done()
			return nil
		}), Drain: 10 * time.Millisecond})
		close(ready)
		waitFor(t, "Done", func() bool {
			var n int
			ob.snapshot(func(f *memOutbox) { n = len(f.done) })
			return n == 1
		})
	})
}

func TestWorkerConcurrencyBound(t *testing.T) {
	const limit, events = 3, 20
	var inFlight, peak atomic.Int32
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-gate
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	ob := newMemOutbox(newTestClock().Now)
	for i := range events {
		ob.add(t, state.OutboxEvent{ID: fmt.Sprintf("ev-%02d", i), Body: []byte(`{}`)})
	}
	startWorker(t, WorkerConfig{Outbox: ob, Client: newTestClient(t, srv.URL, ClientConfig{}), Concurrency: limit, Batch: 16})

	waitFor(t, "the slots to fill", func() bool { return inFlight.Load() == limit })
	time.Sleep(50 * time.Millisecond) // room for a fourth request to (wrongly) arrive
	if n := inFlight.Load(); n != limit {
		t.Errorf("in flight = %d, want %d", n, limit)
	}
	close(gate)
	waitFor(t, "all Done", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.done) })
		return n == events
	})
	if p := peak.Load(); p > limit {
		t.Errorf("peak concurrency %d, want at most %d", p, limit)
	}
	ob.snapshot(func(f *memOutbox) {
		if f.maxAsked > limit {
			t.Errorf("asked the outbox for %d events with only %d slots", f.maxAsked, limit)
		}
	})
}

func TestWorkerRecoversFromOutboxFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	core, logs := observer.New(zapcore.InfoLevel)
	ob := newMemOutbox(newTestClock().Now)
	ob.setFail(true)
	ob.add(t, state.OutboxEvent{ID: "ev-10", Body: []byte(`{}`)})
	startWorker(t, WorkerConfig{
		Outbox: ob, Client: newTestClient(t, srv.URL, ClientConfig{}), Logger: zap.New(core),
		StoreBackoff: Backoff{First: time.Millisecond, Max: 5 * time.Millisecond},
	})

	waitFor(t, "several failed reads", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = f.nextCalls })
		return n >= 4
	})
	ob.setFail(false)
	waitFor(t, "Done", func() bool {
		var n int
		ob.snapshot(func(f *memOutbox) { n = len(f.done) })
		return n == 1
	})
	// The outage is logged once, not once per read, and the recovery too.
	if n := logs.FilterMessage("outbox read failed").Len(); n != 1 {
		t.Errorf("logged the outage %d times, want 1", n)
	}
	if n := logs.FilterMessage("outbox available again").Len(); n != 1 {
		t.Errorf("logged the recovery %d times, want 1", n)
	}
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.ContextMap()), "s3cr3t") {
			t.Errorf("log leaks a secret: %v", e.ContextMap())
		}
	}
}

func TestNewWorkerDefaults(t *testing.T) {
	ob := newMemOutbox(newTestClock().Now)
	if _, err := NewWorker(WorkerConfig{Client: funcDeliverer(nil)}); err == nil {
		t.Error("NewWorker accepted no outbox")
	}
	if _, err := NewWorker(WorkerConfig{Outbox: ob}); err == nil {
		t.Error("NewWorker accepted no client")
	}
	client := newTestClient(t, "http://127.0.0.1:1/", ClientConfig{Timeout: 20 * time.Second})
	w, err := NewWorker(WorkerConfig{Outbox: ob, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if w.maxAttempts != 12 || w.concurrency != 4 || w.batch != 16 || w.block != 2*time.Second {
		t.Errorf("defaults: attempts %d concurrency %d batch %d block %s", w.maxAttempts, w.concurrency, w.batch, w.block)
	}
	if w.reclaimAfter != 70*time.Second {
		t.Errorf("reclaim after %s, want 2 × 20s + 30s", w.reclaimAfter)
	}
	w2, _ := NewWorker(WorkerConfig{Outbox: ob, Client: funcDeliverer(nil)})
	if w2.reclaimAfter != 50*time.Second {
		t.Errorf("reclaim after %s, want 50s", w2.reclaimAfter)
	}
	if w.Consumer() == "" || w.Consumer() == w2.Consumer() {
		t.Errorf("consumers %q and %q should be unique", w.Consumer(), w2.Consumer())
	}
}
