package secretstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Fetcher reads one integration's record from its source. It returns an
// error wrapping ErrNotFound when the source holds no record for id, one
// wrapping ErrInvalid (or integrations.ErrInvalidRecord) when the stored
// record is malformed, and any other error when the source is unreachable.
// Errors never include secret values. Fetch is called concurrently.
type Fetcher interface {
	Fetch(ctx context.Context, id string) (integrations.Record, error)
}

// Defaults of CacheOptions.
const (
	DefaultTTL           = 30 * time.Second
	DefaultStaleTTL      = 15 * time.Minute
	DefaultMaxNegative   = 10000
	DefaultRetryInterval = time.Second
	DefaultFetchTimeout  = 10 * time.Second
)

// CacheOptions tune a Cache. Zero values select the defaults.
type CacheOptions struct {
	// TTL is how long a record is trusted without asking the source
	// (Caddyfile cache_ttl). Default: 30s.
	TTL time.Duration
	// StaleTTL is how long past TTL a cached record keeps being served while
	// the source fails (Caddyfile stale_ttl). A record fetched more than
	// TTL+StaleTTL ago is never served. Default: 15m.
	StaleTTL time.Duration
	// NegativeTTL is how long "not found" (and "malformed") answers are
	// remembered, so floods of unknown ids do not reach the source.
	// Default: TTL.
	NegativeTTL time.Duration
	// MaxNegative bounds the number of remembered unknown or malformed ids;
	// when full, the oldest remembered id is forgotten. Negative disables
	// remembering. Default: 10000.
	MaxNegative int
	// RetryInterval is how long, after the source failed as unreachable,
	// lookups rely on the cache alone before the source is asked again; it
	// is also a sensible Retry-After for ErrUnavailable. Default: 1s.
	RetryInterval time.Duration
	// FetchTimeout bounds one shared fetch. A fetch is detached from the
	// context of the lookup that started it, so one caller going away never
	// cancels it for the others. Default: 10s.
	FetchTimeout time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// Lister, when set, lists the ids the source holds (Vault: a LIST of
	// the prefix). The Cache keeps that set, refreshed in the background
	// every TTL, and answers ErrNotFound without a read for an id that is
	// neither listed, cached, nor invalidated since the last listing,
	// except for a few reads of unlisted ids (UnlistedRate, UnlistedBurst)
	// so that a record written straight into the source is found at once.
	// While listing fails, every id may be read, as without a Lister.
	Lister Lister
	// UnlistedRate is the reads per second, across all ids, allowed for
	// ids the last listing did not name (a token bucket); negative: the
	// bucket never refills. Default: 5.
	UnlistedRate float64
	// UnlistedBurst is how many of those reads may happen at once (the
	// bucket's size, full at start); negative allows none. Default: 20.
	UnlistedBurst int
	// OnListError is told when listing fails, once per run of failures
	// (the error never includes a secret). Optional.
	OnListError func(error)
}

// Cache serves integration records from memory and asks its Fetcher only
// when a record is older than TTL or unknown. Concurrent lookups of one id
// share one fetch. It is safe for concurrent use.
//
// Records returned by Lookup share their slices (Branches, Scans,
// DoneStates) with the cache: callers must not modify them.
type Cache struct {
	f             Fetcher
	ttl           time.Duration
	stale         time.Duration
	negTTL        time.Duration
	maxNeg        int
	retryInterval time.Duration
	fetchTimeout  time.Duration
	now           func() time.Time

	group singleflight.Group

	mu  sync.RWMutex
	pos map[string]entry
	neg map[string]negEntry
	// ring holds remembered negative ids in insertion order; head is the
	// oldest once the ring is full. A slot whose id has since been dropped
	// from neg (or re-remembered in another slot) is simply overwritten.
	ring []string
	head int
	// epoch changes on every Invalidate; a fetch that started before it
	// does not store its result.
	epoch uint64
	// downUntil: the source failed as unreachable; until then lookups rely
	// on the cache alone. downErr is that failure.
	downUntil time.Time
	downErr   error

	// known is the set of ids the source listed; nil without a Lister.
	known *knownIDs
}

type entry struct {
	rec       integrations.Record
	fetchedAt time.Time // last successful fetch
}

type negEntry struct {
	until time.Time
	err   error // wraps ErrNotFound or ErrInvalid
	slot  int   // index in ring
}

// NewCache returns a cache in front of f.
func NewCache(f Fetcher, o CacheOptions) *Cache {
	c := &Cache{
		f:             f,
		ttl:           o.TTL,
		stale:         o.StaleTTL,
		negTTL:        o.NegativeTTL,
		maxNeg:        o.MaxNegative,
		retryInterval: o.RetryInterval,
		fetchTimeout:  o.FetchTimeout,
		now:           o.Now,
		pos:           make(map[string]entry),
		neg:           make(map[string]negEntry),
	}
	if c.ttl <= 0 {
		c.ttl = DefaultTTL
	}
	if c.stale <= 0 {
		c.stale = DefaultStaleTTL
	}
	if c.negTTL <= 0 {
		c.negTTL = c.ttl
	}
	if c.maxNeg == 0 {
		c.maxNeg = DefaultMaxNegative
	}
	if c.retryInterval <= 0 {
		c.retryInterval = DefaultRetryInterval
	}
	if c.fetchTimeout <= 0 {
		c.fetchTimeout = DefaultFetchTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if o.Lister != nil {
		c.known = newKnownIDs(o.Lister, o, c.ttl, c.fetchTimeout, c.now)
	}
	return c
}

// Lookup returns the record of integration id. A record fetched less than
// TTL ago is returned without asking the source. Otherwise the source is
// asked, once for all concurrent lookups of id; if it is unreachable, a
// record fetched less than TTL+StaleTTL ago is returned, else an error
// wrapping ErrUnavailable. A malformed id is ErrNotFound without a fetch,
// and so is, with a Lister, an id the source did not list (see
// CacheOptions.Lister).
//
// If ctx ends first, Lookup returns an error wrapping ErrUnavailable and
// ctx.Err(); the fetch goes on for the other callers and the cache.
func (c *Cache) Lookup(ctx context.Context, id string) (integrations.Record, error) {
	if !integrations.ValidID(id) {
		return integrations.Record{}, ErrNotFound
	}
	now := c.now()
	c.mu.RLock()
	e, cached := c.pos[id]
	if cached && now.Sub(e.fetchedAt) < c.ttl {
		c.mu.RUnlock()
		return e.rec, nil
	}
	if n, ok := c.neg[id]; ok && now.Before(n.until) {
		c.mu.RUnlock()
		return integrations.Record{}, n.err
	}
	down, downErr := now.Before(c.downUntil), c.downErr
	c.mu.RUnlock()
	if !c.known.mayFetch(id, cached) {
		return integrations.Record{}, ErrNotFound
	}
	if down {
		if cached && c.usable(e, now) {
			return e.rec, nil
		}
		return integrations.Record{}, fmt.Errorf("%w: not cached, and the source failed recently: %w", ErrUnavailable, downErr)
	}

	ch := c.group.DoChan(id, func() (any, error) {
		return c.refresh(ctx, id)
	})
	select {
	case r := <-ch:
		rec, _ := r.Val.(integrations.Record)
		return rec, r.Err
	case <-ctx.Done():
		return integrations.Record{}, fmt.Errorf("%w: lookup of %s abandoned: %w", ErrUnavailable, id, ctx.Err())
	}
}

// usable reports whether a cached record may still be served while the
// source fails.
func (c *Cache) usable(e entry, now time.Time) bool {
	return now.Sub(e.fetchedAt) < c.ttl+c.stale
}

// refresh fetches id, detached from the caller's cancellation, and records
// the outcome.
func (c *Cache) refresh(ctx context.Context, id string) (integrations.Record, error) {
	c.mu.RLock()
	epoch := c.epoch
	c.mu.RUnlock()
	return c.fetchAt(ctx, id, epoch, true)
}

// fetchAt fetches id and records the outcome unless the cache was
// invalidated since epoch. When the source is unreachable it answers the
// cached record while it is usable if stale allows, else ErrUnavailable.
func (c *Cache) fetchAt(ctx context.Context, id string, epoch uint64, stale bool) (integrations.Record, error) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTimeout)
	defer cancel()
	rec, err := c.f.Fetch(fctx, id)
	now := c.now()

	c.mu.Lock()
	defer c.mu.Unlock()
	current := epoch == c.epoch
	switch {
	case err == nil:
		c.downUntil, c.downErr = time.Time{}, nil
		if current {
			c.pos[id] = entry{rec: rec, fetchedAt: now}
			c.forgetNegative(id)
		}
		return rec, nil
	case errors.Is(err, ErrNotFound):
		c.downUntil, c.downErr = time.Time{}, nil
		if current {
			delete(c.pos, id)
			// Remember the bare sentinel: a flood of unknown ids should
			// cost as little memory as possible.
			c.rememberNegative(id, now.Add(c.negTTL), ErrNotFound)
		}
		return integrations.Record{}, err
	case errors.Is(err, ErrInvalid), errors.Is(err, integrations.ErrInvalidRecord):
		c.downUntil, c.downErr = time.Time{}, nil
		err = asInvalid(err)
		if current {
			delete(c.pos, id)
			c.rememberNegative(id, now.Add(c.negTTL), err)
		}
		return integrations.Record{}, err
	default:
		c.downUntil, c.downErr = now.Add(c.retryInterval), err
		if e, ok := c.pos[id]; ok && stale && c.usable(e, now) {
			return e.rec, nil
		}
		return integrations.Record{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

// rememberNegative records that id has no usable record until until.
// Called with c.mu held.
func (c *Cache) rememberNegative(id string, until time.Time, err error) {
	if c.maxNeg < 0 {
		return
	}
	if n, ok := c.neg[id]; ok {
		n.until, n.err = until, err
		c.neg[id] = n
		return
	}
	var slot int
	if len(c.ring) < c.maxNeg {
		slot = len(c.ring)
		c.ring = append(c.ring, id)
	} else {
		slot = c.head
		if old, ok := c.neg[c.ring[slot]]; ok && old.slot == slot {
			delete(c.neg, c.ring[slot])
		}
		c.ring[slot] = id
		c.head = (c.head + 1) % c.maxNeg
	}
	c.neg[id] = negEntry{until: until, err: err, slot: slot}
}

// forgetNegative drops id from the negative set. Called with c.mu held.
func (c *Cache) forgetNegative(id string) {
	if n, ok := c.neg[id]; ok {
		delete(c.neg, id)
		c.ring[n.slot] = ""
	}
}

// Invalidate drops what the cache holds about id, so the next lookup asks
// the source. A fetch already running when Invalidate is called still
// answers its waiters but does not store its result. With a Lister, id
// counts as listed until the next listing, so a record just written is
// found at once.
func (c *Cache) Invalidate(id string) {
	c.known.markPossible(id) // first: a lookup right after must not be refused
	c.mu.Lock()
	delete(c.pos, id)
	c.forgetNegative(id)
	c.epoch++
	c.mu.Unlock()
	c.group.Forget(id)
}
