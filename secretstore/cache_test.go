package secretstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// fakeFetcher serves records from a map and counts fetches per id.
type fakeFetcher struct {
	mu      sync.Mutex
	records map[string]integrations.Record
	invalid map[string]bool
	err     error         // when set, every fetch fails with it (unreachable)
	gate    chan struct{} // when set, fetches wait until it is closed
	started chan string   // when set, receives the id of each fetch as it starts
	calls   map[string]int
	total   atomic.Int64
	ctxErr  atomic.Value // ctx.Err() seen by the last fetch when it returned
}

func newFake(recs ...integrations.Record) *fakeFetcher {
	f := &fakeFetcher{records: map[string]integrations.Record{}, invalid: map[string]bool{}, calls: map[string]int{}}
	for _, r := range recs {
		f.records[r.ID] = r
	}
	return f
}

func (f *fakeFetcher) Fetch(ctx context.Context, id string) (integrations.Record, error) {
	f.total.Add(1)
	f.mu.Lock()
	f.calls[id]++
	gate, started := f.gate, f.started
	f.mu.Unlock()
	if started != nil {
		started <- id
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	f.ctxErr.Store(fmt.Sprint(ctx.Err()))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return integrations.Record{}, f.err
	}
	if f.invalid[id] {
		return integrations.Record{}, fmt.Errorf("%w: integration %s: unknown vendor", integrations.ErrInvalidRecord, id)
	}
	r, ok := f.records[id]
	if !ok {
		return integrations.Record{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return r, nil
}

func (f *fakeFetcher) set(fn func(f *fakeFetcher)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeFetcher) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// clock is a manual clock for CacheOptions.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testSecret = "s3cr3t-value-never-in-errors"

func demo(id string) integrations.Record {
	return integrations.Record{ID: id, Vendor: integrations.GitHub, Secret: testSecret, Active: true, Branches: []string{"main"}}
}

func lookup(t *testing.T, c *Cache, id string) (integrations.Record, error) {
	t.Helper()
	r, err := c.Lookup(context.Background(), id)
	if err != nil && strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error leaks the secret: %v", err)
	}
	return r, err
}

func mustLookup(t *testing.T, c *Cache, id string) integrations.Record {
	t.Helper()
	r, err := lookup(t, c, id)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", id, err)
	}
	return r
}

func TestCacheFreshHitDoesNotFetch(t *testing.T) {
	f := newFake(demo("demo-gh"))
	clk := newClock()
	c := NewCache(f, CacheOptions{TTL: 30 * time.Second, Now: clk.Now})
	if r := mustLookup(t, c, "demo-gh"); r.Secret != testSecret || r.Vendor != integrations.GitHub {
		t.Fatalf("got %+v", r.ID)
	}
	for range 10 {
		clk.Advance(2 * time.Second)
		mustLookup(t, c, "demo-gh")
	}
	if n := f.count("demo-gh"); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestCacheFreshHitDoesNotAllocate(t *testing.T) {
	f := newFake(demo("demo-gh"))
	c := NewCache(f, CacheOptions{})
	mustLookup(t, c, "demo-gh")
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := c.Lookup(ctx, "demo-gh"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("fresh hit allocates %v times, want 0", allocs)
	}
	// A remembered unknown id and a malformed id cost nothing either.
	_, _ = c.Lookup(ctx, "nope")
	allocs = testing.AllocsPerRun(1000, func() {
		_, _ = c.Lookup(ctx, "nope")
		_, _ = c.Lookup(ctx, "../etc/passwd")
	})
	if allocs != 0 {
		t.Fatalf("negative hit allocates %v times, want 0", allocs)
	}
}

func TestCacheTTLExpiryRefetches(t *testing.T) {
	f := newFake(demo("demo-gh"))
	clk := newClock()
	c := NewCache(f, CacheOptions{TTL: 30 * time.Second, Now: clk.Now})
	mustLookup(t, c, "demo-gh")
	rotated := demo("demo-gh")
	rotated.Secret = "rotated"
	rotated.Version = 2
	f.set(func(f *fakeFetcher) { f.records["demo-gh"] = rotated })

	clk.Advance(29 * time.Second)
	if r := mustLookup(t, c, "demo-gh"); r.Version != 0 {
		t.Fatal("refetched before TTL")
	}
	clk.Advance(time.Second)
	if r := mustLookup(t, c, "demo-gh"); r.Version != 2 || r.Secret != "rotated" {
		t.Fatalf("after TTL got version %d", r.Version)
	}
	if n := f.count("demo-gh"); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestCacheConcurrentLookupsShareOneFetch(t *testing.T) {
	f := newFake(demo("demo-gh"))
	clk := newClock()
	c := NewCache(f, CacheOptions{TTL: 30 * time.Second, Now: clk.Now})
	mustLookup(t, c, "demo-gh")
	clk.Advance(time.Minute) // expired

	gate := make(chan struct{})
	started := make(chan string, 1)
	f.set(func(f *fakeFetcher) { f.gate, f.started = gate, started })

	const n = 100
	var ready, done sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			r, err := c.Lookup(context.Background(), "demo-gh")
			if err == nil && r.ID != "demo-gh" {
				err = fmt.Errorf("got record %q", r.ID)
			}
			errs <- err
		}()
	}
	ready.Wait()
	<-started
	// Let the other lookups reach the shared fetch. Any lookup arriving
	// after it finished finds a fresh entry, so the count below is exact
	// whatever the scheduling.
	time.Sleep(20 * time.Millisecond)
	close(gate)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.count("demo-gh"); got != 2 {
		t.Fatalf("fetches = %d, want 2 (initial + one shared)", got)
	}
}

func TestCacheServesStaleWhileSourceFails(t *testing.T) {
	f := newFake(demo("demo-gh"))
	clk := newClock()
	c := NewCache(f, CacheOptions{TTL: 30 * time.Second, StaleTTL: 15 * time.Minute, Now: clk.Now})
	mustLookup(t, c, "demo-gh")

	outage := errors.New("dial tcp 127.0.0.1:8200: connection refused")
	f.set(func(f *fakeFetcher) { f.err = outage })
	clk.Advance(31 * time.Second)
	if r := mustLookup(t, c, "demo-gh"); r.Secret != testSecret {
		t.Fatal("stale record not served")
	}
	clk.Advance(14 * time.Minute) // 14m31s after the fetch: inside TTL+StaleTTL
	mustLookup(t, c, "demo-gh")

	clk.Advance(30 * time.Second) // 15m01s: inside
	mustLookup(t, c, "demo-gh")
	clk.Advance(30 * time.Second) // 15m31s: past TTL+StaleTTL
	_, err := lookup(t, c, "demo-gh")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, outage) {
		t.Fatalf("past stale window: err = %v, want ErrUnavailable wrapping the cause", err)
	}

	// The source recovers: after RetryInterval the next lookup fetches again.
	f.set(func(f *fakeFetcher) { f.err = nil })
	clk.Advance(DefaultRetryInterval)
	mustLookup(t, c, "demo-gh")
}

func TestCacheUnavailableWithNothingCached(t *testing.T) {
	f := newFake()
	f.err = errors.New("connection refused")
	clk := newClock()
	c := NewCache(f, CacheOptions{RetryInterval: 5 * time.Second, Now: clk.Now})
	_, err := lookup(t, c, "demo-gh")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	// Within RetryInterval nobody asks the failing source again.
	for _, id := range []string{"demo-gh", "other"} {
		if _, err := lookup(t, c, id); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: err = %v", id, err)
		}
	}
	if n := f.total.Load(); n != 1 {
		t.Fatalf("fetches during RetryInterval = %d, want 1", n)
	}
	clk.Advance(5 * time.Second)
	_, _ = lookup(t, c, "demo-gh")
	if n := f.total.Load(); n != 2 {
		t.Fatalf("fetches after RetryInterval = %d, want 2", n)
	}
}

func TestCacheRemembersNotFound(t *testing.T) {
	f := newFake()
	clk := newClock()
	c := NewCache(f, CacheOptions{TTL: 30 * time.Second, NegativeTTL: 10 * time.Second, Now: clk.Now})
	for range 5 {
		if _, err := lookup(t, c, "ghost"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	}
	if n := f.count("ghost"); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	// The record appears; after NegativeTTL it is found.
	f.set(func(f *fakeFetcher) { f.records["ghost"] = demo("ghost") })
	clk.Advance(10 * time.Second)
	mustLookup(t, c, "ghost")
	if n := f.count("ghost"); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestCacheNegativeSetIsBounded(t *testing.T) {
	f := newFake()
	clk := newClock()
	c := NewCache(f, CacheOptions{Now: clk.Now})
	if c.maxNeg != DefaultMaxNegative {
		t.Fatalf("MaxNegative default = %d", c.maxNeg)
	}
	total := DefaultMaxNegative + 1000
	for i := range total {
		if _, err := lookup(t, c, fmt.Sprintf("unknown-%d", i)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
		c.mu.RLock()
		n, ring := len(c.neg), len(c.ring)
		c.mu.RUnlock()
		if n > DefaultMaxNegative || ring > DefaultMaxNegative {
			t.Fatalf("after %d unknown ids: %d remembered, ring %d; bound %d", i+1, n, ring, DefaultMaxNegative)
		}
	}
	before := f.total.Load()
	_, _ = lookup(t, c, fmt.Sprintf("unknown-%d", total-1)) // newest: remembered
	if f.total.Load() != before {
		t.Fatal("newest unknown id was fetched again")
	}
	_, _ = lookup(t, c, "unknown-0") // oldest: evicted
	if f.total.Load() != before+1 {
		t.Fatal("oldest unknown id was not evicted")
	}
}

func TestCacheNegativeBoundSurvivesChurn(t *testing.T) {
	f := newFake()
	clk := newClock()
	c := NewCache(f, CacheOptions{MaxNegative: 3, NegativeTTL: time.Second, Now: clk.Now})
	// Remember, forget (record appears), re-remember: slots must stay exact.
	for round := range 20 {
		id := fmt.Sprintf("id-%d", round%5)
		_, _ = lookup(t, c, id)
		if round%3 == 0 {
			c.Invalidate(id)
		}
		clk.Advance(2 * time.Second)
		c.mu.RLock()
		for k, n := range c.neg {
			if c.ring[n.slot] != k {
				t.Fatalf("round %d: %s in slot %d holding %q", round, k, n.slot, c.ring[n.slot])
			}
		}
		if len(c.neg) > 3 {
			t.Fatalf("round %d: %d remembered", round, len(c.neg))
		}
		c.mu.RUnlock()
	}
}

func TestCacheMalformedIDNeverFetched(t *testing.T) {
	f := newFake()
	c := NewCache(f, CacheOptions{})
	for _, id := range []string{"", "-lead", ".hidden", "a/b", "../etc", "a b", "ü", strings.Repeat("a", 129)} {
		if _, err := lookup(t, c, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%q: err = %v, want ErrNotFound", id, err)
		}
	}
	if n := f.total.Load(); n != 0 {
		t.Fatalf("fetches = %d, want 0", n)
	}
}

func TestCacheInvalidateForcesRefetch(t *testing.T) {
	f := newFake(demo("demo-gh"))
	clk := newClock()
	c := NewCache(f, CacheOptions{Now: clk.Now})
	mustLookup(t, c, "demo-gh")
	c.Invalidate("demo-gh")
	mustLookup(t, c, "demo-gh")
	if n := f.count("demo-gh"); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// Invalidate also forgets a remembered "not found".
	_, _ = lookup(t, c, "new-one")
	f.set(func(f *fakeFetcher) { f.records["new-one"] = demo("new-one") })
	c.Invalidate("new-one")
	mustLookup(t, c, "new-one")
}

func TestCacheInvalidateDuringFetchDoesNotStoreOldResult(t *testing.T) {
	f := newFake(demo("demo-gh"))
	gate := make(chan struct{})
	started := make(chan string, 1)
	f.gate, f.started = gate, started
	c := NewCache(f, CacheOptions{Now: newClock().Now})
	done := make(chan error)
	go func() { _, err := c.Lookup(context.Background(), "demo-gh"); done <- err }()
	<-started
	c.Invalidate("demo-gh")
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeFetcher) { f.gate, f.started = nil, nil })
	mustLookup(t, c, "demo-gh")
	if n := f.count("demo-gh"); n != 2 {
		t.Fatalf("fetches = %d, want 2: the result of the fetch overtaken by Invalidate was cached", n)
	}
}

func TestCacheCallerCancelDoesNotCancelSharedFetch(t *testing.T) {
	f := newFake(demo("demo-gh"))
	gate := make(chan struct{})
	started := make(chan string, 1)
	f.gate, f.started = gate, started
	c := NewCache(f, CacheOptions{Now: newClock().Now})

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := c.Lookup(ctx, "demo-gh"); first <- err }()
	<-started // the shared fetch runs with the first caller's context values

	second := make(chan error, 1)
	go func() {
		r, err := c.Lookup(context.Background(), "demo-gh")
		if err == nil && r.Secret != testSecret {
			err = errors.New("wrong record")
		}
		second <- err
	}()
	cancel()
	err := <-first
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("cancelled caller: err = %v", err)
	}
	close(gate)
	if err := <-second; err != nil {
		t.Fatalf("other caller: %v", err)
	}
	if got := f.ctxErr.Load(); got != "<nil>" {
		t.Fatalf("shared fetch saw ctx error %v", got)
	}
	if n := f.count("demo-gh"); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	mustLookup(t, c, "demo-gh") // cached by the detached fetch
	if n := f.count("demo-gh"); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestCacheInvalidRecord(t *testing.T) {
	f := newFake()
	f.invalid["broken"] = true
	c := NewCache(f, CacheOptions{Now: newClock().Now})
	for range 3 {
		_, err := lookup(t, c, "broken")
		if !errors.Is(err, ErrInvalid) || !errors.Is(err, integrations.ErrInvalidRecord) || errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	}
	if n := f.count("broken"); n != 1 {
		t.Fatalf("fetches = %d, want 1 (remembered)", n)
	}
}

func TestCacheDeletedRecordIsNotServedStale(t *testing.T) {
	f := newFake(demo("demo-gh"))
	clk := newClock()
	c := NewCache(f, CacheOptions{Now: clk.Now})
	mustLookup(t, c, "demo-gh")
	f.set(func(f *fakeFetcher) { delete(f.records, "demo-gh") })
	clk.Advance(DefaultTTL)
	if _, err := lookup(t, c, "demo-gh"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func BenchmarkCacheFreshHit(b *testing.B) {
	f := newFake(demo("demo-gh"))
	c := NewCache(f, CacheOptions{})
	ctx := context.Background()
	if _, err := c.Lookup(ctx, "demo-gh"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Lookup(ctx, "demo-gh"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
