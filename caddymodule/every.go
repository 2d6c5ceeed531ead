package caddymodule

import (
	"sync/atomic"
	"time"
)

// outboxFullLogEvery is how often, at most, a full outbox is logged.
const outboxFullLogEvery = time.Minute

// everyInterval lets a repeated log line through at most once per
// outboxFullLogEvery, without a lock: a flood of refusals logs one line.
type everyInterval struct{ last atomic.Int64 }

// allow reports whether a line may be logged at now.
func (e *everyInterval) allow(now time.Time) bool {
	n := now.UnixNano()
	last := e.last.Load()
	return (last == 0 || n-last >= int64(outboxFullLogEvery)) && e.last.CompareAndSwap(last, n)
}
