package limiter

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// Memory counts failures in process memory, for a single instance without
// Redis. It has Redis's semantics (fixed windows, MaxAddrs addresses per
// scope and window, then OverflowField) and holds at most MaxEntries
// windows and addresses in all; a window is dropped once it has ended.
type Memory struct {
	maxAddrs, maxEntries int
	now                  func() time.Time

	mu      sync.Mutex
	windows map[windowKey]*counts
	entries int       // windows plus address counters held
	sweepAt time.Time // earliest end of a held window
}

// overflowScope is the scope new scopes share once Memory is full; it is
// never an integration id.
const overflowScope = "*"

type windowKey struct {
	scope string
	start int64
}

type counts struct {
	end      time.Time
	addrs    map[string]int64
	overflow int64
}

// NewMemory returns an empty in-memory counter.
func NewMemory(opts Options) *Memory {
	opts.defaults()
	return &Memory{
		maxAddrs:   opts.MaxAddrs,
		maxEntries: opts.MaxEntries,
		now:        opts.Now,
		windows:    make(map[windowKey]*counts),
	}
}

// Add implements Failures.
func (m *Memory) Add(_ context.Context, scope string, addr netip.Addr, window time.Duration) (Tally, error) {
	if err := check(scope, window); err != nil {
		return Tally{}, err
	}
	now := m.now()
	start, end := windowOf(now, window)
	key := Key(addr)

	m.mu.Lock()
	defer m.mu.Unlock()
	if !now.Before(m.sweepAt) {
		m.sweep(now)
	}
	wk := windowKey{scope, start}
	c, ok := m.windows[wk]
	if !ok {
		if m.entries >= m.maxEntries {
			wk.scope = overflowScope
			c, ok = m.windows[wk]
		}
		if !ok {
			c = &counts{end: end, addrs: make(map[string]int64)}
			m.windows[wk] = c
			m.entries++
			if m.sweepAt.IsZero() || end.Before(m.sweepAt) {
				m.sweepAt = end
			}
		}
	}
	if n, ok := c.addrs[key]; ok {
		c.addrs[key] = n + 1
		return Tally{Count: n + 1, End: end}, nil
	}
	if len(c.addrs) < m.maxAddrs && m.entries < m.maxEntries {
		c.addrs[key] = 1
		m.entries++
		return Tally{Count: 1, End: end}, nil
	}
	c.overflow++
	return Tally{Count: c.overflow, End: end}, nil
}

// sweep drops the windows that have ended. Called with m.mu held.
func (m *Memory) sweep(now time.Time) {
	m.sweepAt = time.Time{}
	for k, c := range m.windows {
		if !now.Before(c.end) {
			m.entries -= 1 + len(c.addrs)
			delete(m.windows, k)
			continue
		}
		if m.sweepAt.IsZero() || c.end.Before(m.sweepAt) {
			m.sweepAt = c.end
		}
	}
}

var _ Failures = (*Memory)(nil)
