package caddymodule

import (
	"sync/atomic"
	"time"
)

// outboxFullLogEvery is how often, at most, a full outbox is logged.
const outboxFullLogEvery = time.Minute

// everyInterval lets a repeated log line through at most once per every,
// without a lock: a flood of refusals or failures logs one line. The zero
// value lets every line through.
type everyInterval struct {
	every time.Duration
	last  atomic.Int64 // Unix nanoseconds of the last line let through
}

// allow reports whether a line may be logged at now.
func (e *everyInterval) allow(now time.Time) bool {
	n := now.UnixNano()
	last := e.last.Load()
	return (last == 0 || n-last >= int64(e.every)) && e.last.CompareAndSwap(last, n)
}
