package limiter

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestMemoryConformance(t *testing.T) {
	runConformance(t, func(t *testing.T, opts Options) Failures { return NewMemory(opts) })
}

// Memory stays bounded: ended windows are dropped, and past MaxEntries new
// addresses and scopes share overflow counters.
func TestMemoryBounded(t *testing.T) {
	clock := &fakeClock{t: start}
	m := NewMemory(Options{Now: clock.Now, MaxAddrs: 100, MaxEntries: 10})
	const w = time.Minute
	ctx := context.Background()
	add := func(scope string, i int) int64 {
		t.Helper()
		tally, err := m.Add(ctx, scope, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), w)
		if err != nil {
			t.Fatal(err)
		}
		return tally.Count
	}
	for i := range 9 { // one window and nine addresses: full
		if n := add("gh", i); n != 1 {
			t.Fatalf("address %d: count %d", i, n)
		}
	}
	if m.entries != 10 {
		t.Fatalf("entries = %d, want 10", m.entries)
	}
	if n := add("gh", 100); n != 1 { // overflow field
		t.Errorf("overflow: %d", n)
	}
	if n := add("gh", 101); n != 2 {
		t.Errorf("overflow: %d", n)
	}
	// New scopes share one overflow window.
	for i, scope := range []string{"a", "b", "c"} {
		if n := add(scope, 200); n != int64(i+1) {
			t.Errorf("scope %s: count %d, want %d", scope, n, i+1)
		}
	}
	if got := len(m.windows); got != 2 {
		t.Errorf("windows = %d, want 2 (gh and the overflow window)", got)
	}
	// Once the window has ended, everything is dropped.
	clock.Add(w)
	if n := add("a", 1); n != 1 {
		t.Errorf("after the window: count %d", n)
	}
	if len(m.windows) != 1 || m.entries != 2 {
		t.Errorf("after the window: %d windows, %d entries", len(m.windows), m.entries)
	}
}

func BenchmarkMemoryAdd(b *testing.B) {
	m := NewMemory(Options{})
	ctx := context.Background()
	addrs := make([]netip.Addr, 1024)
	for i := range addrs {
		addrs[i] = netip.MustParseAddr(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := m.Add(ctx, "gh", addrs[i%len(addrs)], time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
