package state

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestMemoryConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) *harness {
		clock := newFakeClock()
		m := NewMemory(MemoryOptions{Now: clock.Now})
		return &harness{d: m, o: m, now: clock.Now, advance: clock.Add, elapse: clock.Add}
	})
}

// With the real clock, a blocked Next wakes when a retry falls due, without
// a commit to signal it.
func TestMemoryNextWakesForDueRetry(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	if _, err := m.Commit(ctx, delivery("demo", "d", 1)); err != nil {
		t.Fatal(err)
	}
	ps, _ := m.Next(ctx, "w1", 1, 0, time.Minute)
	if err := m.Retry(ctx, ps[0], time.Now().Add(200*time.Millisecond), "503"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ps, err := m.Next(ctx, "w1", 1, 5*time.Second, time.Minute)
	if err != nil || len(ps) != 1 {
		t.Fatalf("Next = %v, %v", ps, err)
	}
	if el := time.Since(start); el < 150*time.Millisecond || el > 2*time.Second {
		t.Errorf("woke after %v, want about 200ms", el)
	}
}

// A blocked Next returns when its context ends.
func TestMemoryNextCancel(t *testing.T) {
	m := NewMemory(MemoryOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	ps, err := m.Next(ctx, "w1", 1, 10*time.Second, time.Minute)
	if len(ps) != 0 || err == nil {
		t.Fatalf("Next = %v, %v; want nothing and the context's error", ps, err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("returned after %v", el)
	}
}

// Expired dedupe marks do not pile up.
func TestMemoryMarksSwept(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryOptions{Now: clock.Now})
	ctx := context.Background()
	for i := range 10000 {
		a := Accepted{Integration: "demo", DedupeKey: strconv.Itoa(i), DedupeTTL: time.Second}
		if _, err := m.Commit(ctx, a); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Millisecond)
	}
	m.mu.Lock()
	n, order := len(m.marks), len(m.markOrder)
	m.mu.Unlock()
	if n > 1001 || order > 1001 {
		t.Errorf("%d marks (%d in order) kept, most of them expired", n, order)
	}
}

func BenchmarkMemoryCommit(b *testing.B) {
	m := NewMemory(MemoryOptions{})
	ctx := context.Background()
	a := benchDelivery()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.DedupeKey = benchKey(i)
		if _, err := m.Commit(ctx, a); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			// Drain as the delivery workers would, so the outbox does
			// not grow without bound.
			b.StopTimer()
			for ps, _ := m.Next(ctx, "w", 1000, 0, 0); len(ps) > 0; ps, _ = m.Next(ctx, "w", 1000, 0, 0) {
				for _, p := range ps {
					m.Done(ctx, p)
				}
			}
			b.StartTimer()
		}
	}
}
