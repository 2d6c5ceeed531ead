package upstream

import (
	"testing"
	"time"
)

func TestBackoffNominal(t *testing.T) {
	b := Backoff{First: time.Second, Max: 10 * time.Minute}
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{
		{-3, time.Second},
		{0, time.Second},
		{1, 2 * time.Second},
		{2, 4 * time.Second},
		{3, 8 * time.Second},
		{9, 512 * time.Second},
		{10, 10 * time.Minute}, // 1024s, capped
		{11, 10 * time.Minute},
		{63, 10 * time.Minute},
		{1 << 30, 10 * time.Minute}, // no overflow
	} {
		if got := b.Nominal(tc.attempt); got != tc.want {
			t.Errorf("Nominal(%d) = %s, want %s", tc.attempt, got, tc.want)
		}
		// Jitter 1 gives the nominal wait, jitter 0 half of it.
		hi := Backoff{First: b.First, Max: b.Max, Jitter: func() float64 { return 1 }}
		lo := Backoff{First: b.First, Max: b.Max, Jitter: func() float64 { return 0 }}
		if got := hi.Delay(tc.attempt); got != tc.want {
			t.Errorf("Delay(%d) with jitter 1 = %s, want %s", tc.attempt, got, tc.want)
		}
		if got := lo.Delay(tc.attempt); got != tc.want/2 {
			t.Errorf("Delay(%d) with jitter 0 = %s, want %s", tc.attempt, got, tc.want/2)
		}
	}
}

func TestBackoffDefaults(t *testing.T) {
	var b Backoff
	if got := b.Nominal(0); got != DefaultBackoffFirst {
		t.Errorf("zero Backoff Nominal(0) = %s, want %s", got, DefaultBackoffFirst)
	}
	if got := b.Nominal(100); got != DefaultBackoffMax {
		t.Errorf("zero Backoff Nominal(100) = %s, want %s", got, DefaultBackoffMax)
	}
	// Max below First is raised to First.
	if got := (Backoff{First: time.Minute, Max: time.Second}).Nominal(5); got != time.Minute {
		t.Errorf("Max < First: Nominal(5) = %s, want 1m", got)
	}
	// A cap that is not a power-of-two multiple of First is still reached exactly.
	if got := (Backoff{First: 3 * time.Second, Max: 10 * time.Second}).Nominal(2); got != 10*time.Second {
		t.Errorf("Nominal(2) = %s, want 10s", got)
	}
}

func TestBackoffJitterClamped(t *testing.T) {
	for _, j := range []float64{-1, 2, nanFloat()} {
		d := Backoff{First: time.Second, Jitter: func() float64 { return j }}.Delay(0)
		if d < 500*time.Millisecond || d > time.Second {
			t.Errorf("jitter %v: Delay(0) = %s, want within [500ms, 1s]", j, d)
		}
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	var b Backoff // default jitter: math/rand/v2
	for _, attempt := range []int{0, 3, 12} {
		nominal := b.Nominal(attempt)
		lo, hi := nominal, time.Duration(0)
		for range 10000 {
			d := b.Delay(attempt)
			if d < nominal/2 || d > nominal {
				t.Fatalf("Delay(%d) = %s, outside [%s, %s]", attempt, d, nominal/2, nominal)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// The samples spread over the range rather than sitting at one point.
		if lo > nominal*55/100 || hi < nominal*95/100 {
			t.Errorf("Delay(%d) samples span [%s, %s], want most of [%s, %s]", attempt, lo, hi, nominal/2, nominal)
		}
	}
}

func nanFloat() float64 {
	zero := 0.0
	return zero / zero
}
