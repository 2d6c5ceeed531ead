package limiter

import (
	"sync"
	"testing"
)

func TestBudgetRefusesWhatDoesNotFit(t *testing.T) {
	b := NewBudget(100)
	if !b.Acquire(60) || !b.Acquire(40) {
		t.Fatal("100 bytes in two takes did not fit a budget of 100")
	}
	if b.Acquire(1) {
		t.Fatal("a byte past the limit fitted")
	}
	if !b.Acquire(0) || !b.Acquire(-5) {
		t.Fatal("nothing did not fit")
	}
	b.Release(40)
	if got := b.InFlight(); got != 60 {
		t.Fatalf("in flight %d, want 60", got)
	}
	if b.Acquire(41) || !b.Acquire(40) {
		t.Fatal("what was released is not exactly what fits again")
	}
	if NewBudget(-1).Acquire(1) {
		t.Fatal("a negative budget took a byte")
	}
}

// TestBudgetNeverOvercommits takes and gives back from many goroutines:
// what is held never exceeds the limit, and everything comes back.
func TestBudgetNeverOvercommits(t *testing.T) {
	const limit = 1000
	b := NewBudget(limit)
	var wg sync.WaitGroup
	var mu sync.Mutex
	held, peak := int64(0), int64(0)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				n := int64(1 + (g*7+i)%300)
				if !b.Acquire(n) {
					continue
				}
				mu.Lock()
				held += n
				peak = max(peak, held)
				mu.Unlock()
				mu.Lock()
				held -= n
				mu.Unlock()
				b.Release(n)
			}
		}(g)
	}
	wg.Wait()
	if peak > limit {
		t.Fatalf("held %d bytes at once, over the limit of %d", peak, limit)
	}
	if b.InFlight() != 0 {
		t.Fatalf("%d bytes never came back", b.InFlight())
	}
}
