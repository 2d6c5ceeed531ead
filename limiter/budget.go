package limiter

import "sync/atomic"

// Budget bounds the body bytes one instance holds at once, over every
// request and every HTTP/2 stream it serves. A caller takes bytes before it
// holds them and gives them back when it lets go; what does not fit is
// refused, never waited for. Budget decides nothing else: the handler
// answers a refusal (503 with Retry-After). It is safe for concurrent use
// and costs one atomic operation per call.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes; limit ≤ 0 allows nothing but
// empty bodies.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: max(limit, 0)}
}

// Acquire takes n bytes when they fit in what is left and reports whether
// they did. n ≤ 0 always fits and takes nothing.
func (b *Budget) Acquire(n int64) bool {
	if n <= 0 {
		return true
	}
	for {
		used := b.used.Load()
		if n > b.limit-used {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Release gives back n bytes taken with Acquire.
func (b *Budget) Release(n int64) {
	if n > 0 {
		b.used.Add(-n)
	}
}

// InFlight is the bytes taken now.
func (b *Budget) InFlight() int64 { return b.used.Load() }

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }
