package upstream

import (
	"math/rand/v2"
	"time"
)

const (
	// DefaultBackoffFirst is the first wait between attempts when
	// Backoff.First is zero.
	DefaultBackoffFirst = time.Second
	// DefaultBackoffMax is the longest wait between attempts when
	// Backoff.Max is zero.
	DefaultBackoffMax = 10 * time.Minute
)

// Backoff spaces delivery attempts: exponential from First, doubling per
// attempt up to Max, with "equal jitter": the wait is drawn uniformly from
// [d/2, d] where d is the nominal exponential delay. Equal rather than full
// jitter keeps workers that failed together from retrying together while
// still guaranteeing at least half the nominal wait, so a struggling
// finding service is never hit again almost at once; and Max stays the
// longest wait, as the Caddyfile promises. The zero value is ready to use.
type Backoff struct {
	// First is the nominal wait after the first failed attempt. Default: 1s.
	First time.Duration
	// Max is the longest wait between attempts. Default: 10m; raised to
	// First if smaller.
	Max time.Duration
	// Jitter returns a number in [0, 1]; values outside are clamped.
	// Default: math/rand/v2 Float64. Tests pin it.
	Jitter func() float64
}

// Nominal returns the un-jittered wait after attempt failed attempts
// beyond the first: First·2^attempt, capped at Max. Negative attempts
// count as 0.
func (b Backoff) Nominal(attempt int) time.Duration {
	first, longest := b.bounds()
	d := first
	for i := 0; i < attempt && d < longest; i++ {
		if d > longest/2 {
			return longest
		}
		d *= 2
	}
	return min(d, longest)
}

// Delay returns the wait before the next attempt when attempt attempts
// had been made before the one that just failed (state.Pending.Attempts):
// Delay(0) is about First, Delay(1) about 2·First, and so on up to Max.
// The result lies in [Nominal(attempt)/2, Nominal(attempt)].
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Nominal(attempt)
	jitter := rand.Float64
	if b.Jitter != nil {
		jitter = b.Jitter
	}
	j := jitter()
	if !(j >= 0) { // also catches NaN
		j = 0
	}
	j = min(j, 1)
	half := d / 2
	return d - half + time.Duration(j*float64(half))
}

// bounds returns First and Max with their defaults applied.
func (b Backoff) bounds() (first, longest time.Duration) {
	first, longest = b.First, b.Max
	if first <= 0 {
		first = DefaultBackoffFirst
	}
	if longest <= 0 {
		longest = DefaultBackoffMax
	}
	return first, max(longest, first)
}
