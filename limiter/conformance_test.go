package limiter

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start is a fake clock's first reading: 10:03:20 past a 10-minute
// boundary (12:00).
var start = time.Date(2026, 3, 1, 12, 3, 20, 0, time.UTC)

// newFunc makes a fresh counter with opts (Now set to the test's clock).
type newFunc func(t *testing.T, opts Options) Failures

// runConformance runs every shared test against counters made by newF.
func runConformance(t *testing.T, newF newFunc) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, newF newFunc)
	}{
		{"CountsPerScopeAndAddress", testCountsPerScopeAndAddress},
		{"AddressGrouping", testAddressGrouping},
		{"WindowRollover", testWindowRollover},
		{"AddressCap", testAddressCap},
		{"InvalidArguments", testInvalidArguments},
		{"Concurrent", testConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newF) })
	}
}

func mustAdd(t *testing.T, f Failures, scope, addr string, window time.Duration) Tally {
	t.Helper()
	tally, err := f.Add(context.Background(), scope, netip.MustParseAddr(addr), window)
	if err != nil {
		t.Fatalf("Add(%q, %s): %v", scope, addr, err)
	}
	return tally
}

func wantCount(t *testing.T, f Failures, scope, addr string, window time.Duration, want int64) {
	t.Helper()
	if got := mustAdd(t, f, scope, addr, window).Count; got != want {
		t.Errorf("Add(%q, %s) count = %d, want %d", scope, addr, got, want)
	}
}

func testCountsPerScopeAndAddress(t *testing.T, newF newFunc) {
	clock := &fakeClock{t: start}
	f := newF(t, Options{Now: clock.Now})
	const w = 10 * time.Minute
	for i := int64(1); i <= 3; i++ {
		tally := mustAdd(t, f, "gh-1", "192.0.2.1", w)
		if tally.Count != i {
			t.Errorf("failure %d: count %d", i, tally.Count)
		}
		if want := time.Date(2026, 3, 1, 12, 10, 0, 0, time.UTC); !tally.End.Equal(want) {
			t.Errorf("end = %v, want %v", tally.End, want)
		}
	}
	wantCount(t, f, "gh-1", "192.0.2.2", w, 1)  // another address
	wantCount(t, f, "gh-2", "192.0.2.1", w, 1)  // another integration
	wantCount(t, f, Unknown, "192.0.2.1", w, 1) // unknown ids: per address only
	wantCount(t, f, Unknown, "192.0.2.1", w, 2)
	wantCount(t, f, "gh-1", "192.0.2.1", w, 4)
}

func testAddressGrouping(t *testing.T, newF newFunc) {
	clock := &fakeClock{t: start}
	f := newF(t, Options{Now: clock.Now})
	const w = time.Minute
	// One /64 is one address.
	wantCount(t, f, "gh", "2001:db8:1:2::1", w, 1)
	wantCount(t, f, "gh", "2001:db8:1:2:ffff:ffff:ffff:ffff", w, 2)
	wantCount(t, f, "gh", "2001:db8:1:2::9%eth0", w, 3)
	wantCount(t, f, "gh", "2001:db8:1:3::1", w, 1) // the next /64
	// IPv4 counts per address, mapped or not.
	wantCount(t, f, "gh", "198.51.100.7", w, 1)
	wantCount(t, f, "gh", "::ffff:198.51.100.7", w, 2)
	wantCount(t, f, "gh", "198.51.100.8", w, 1)
}

func testWindowRollover(t *testing.T, newF newFunc) {
	clock := &fakeClock{t: start}
	f := newF(t, Options{Now: clock.Now})
	const w = 10 * time.Minute
	wantCount(t, f, "gh", "192.0.2.1", w, 1)
	wantCount(t, f, Unknown, "192.0.2.1", w, 1)
	clock.Add(6*time.Minute + 39*time.Second) // 12:09:59
	wantCount(t, f, "gh", "192.0.2.1", w, 2)
	clock.Add(time.Second) // 12:10:00: a new window
	tally := mustAdd(t, f, "gh", "192.0.2.1", w)
	if tally.Count != 1 || !tally.End.Equal(time.Date(2026, 3, 1, 12, 20, 0, 0, time.UTC)) {
		t.Errorf("new window: %+v", tally)
	}
	wantCount(t, f, Unknown, "192.0.2.1", w, 1)
}

func testAddressCap(t *testing.T, newF newFunc) {
	clock := &fakeClock{t: start}
	f := newF(t, Options{Now: clock.Now, MaxAddrs: 3})
	const w = time.Minute
	for _, scope := range []string{"gh", Unknown} {
		wantCount(t, f, scope, "192.0.2.1", w, 1)
		wantCount(t, f, scope, "192.0.2.2", w, 1)
		wantCount(t, f, scope, "192.0.2.3", w, 1)
		// Beyond the cap, new addresses share one counter...
		wantCount(t, f, scope, "192.0.2.4", w, 1)
		wantCount(t, f, scope, "192.0.2.5", w, 2)
		wantCount(t, f, scope, "2001:db8::1", w, 3)
		// ...and the counted ones keep their own.
		wantCount(t, f, scope, "192.0.2.1", w, 2)
		wantCount(t, f, scope, "192.0.2.4", w, 4)
	}
	// Another scope has its own cap.
	wantCount(t, f, "gl", "192.0.2.4", w, 1)
}

func testInvalidArguments(t *testing.T, newF newFunc) {
	f := newF(t, Options{})
	addr := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		scope  string
		window time.Duration
	}{
		{"gh", 0},
		{"gh", -time.Second},
		{"-gh", time.Minute},
		{"gh:x", time.Minute},
		{"{hg}", time.Minute},
		{"*", time.Minute},
	} {
		if _, err := f.Add(context.Background(), tc.scope, addr, tc.window); !errors.Is(err, ErrArgument) {
			t.Errorf("Add(%q, %v): %v, want ErrArgument", tc.scope, tc.window, err)
		}
	}
	// An invalid address is counted, under "invalid".
	if tally, err := f.Add(context.Background(), "gh", netip.Addr{}, time.Minute); err != nil || tally.Count != 1 {
		t.Errorf("Add(invalid address): %+v, %v", tally, err)
	}
}

func testConcurrent(t *testing.T, newF newFunc) {
	clock := &fakeClock{t: start}
	f := newF(t, Options{Now: clock.Now})
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := f.Add(context.Background(), "gh", netip.MustParseAddr("192.0.2.1"), time.Minute); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	wantCount(t, f, "gh", "192.0.2.1", time.Minute, n+1)
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":             "192.0.2.7",
		"::ffff:192.0.2.7":      "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1:2::/64",
		"fe80::1%eth0":          "fe80::/64",
		"::1":                   "::/64",
		"2001:db8:ffff:ffff::1": "2001:db8:ffff:ffff::/64",
	} {
		if got := Key(netip.MustParseAddr(in)); got != want {
			t.Errorf("Key(%s) = %q, want %q", in, got, want)
		}
	}
	if got := Key(netip.Addr{}); got != "invalid" {
		t.Errorf("Key(zero) = %q", got)
	}
}
