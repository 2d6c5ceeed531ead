package secretstore

import (
	"context"
	"sync"
	"time"
)

// Lister lists the integration ids a source holds. Vault implements it with
// a KV v2 LIST of the prefix (which needs the `list` capability on
// <mount>/metadata/<prefix>).
type Lister interface {
	List(ctx context.Context) ([]string, error)
}

// Defaults of the known-id set (CacheOptions.Lister).
const (
	// DefaultUnlistedRate is how many reads per second, across all ids,
	// may go to the source for ids the last listing did not name.
	DefaultUnlistedRate = 5
	// DefaultUnlistedBurst is how many such reads may happen at once
	// after a quiet period.
	DefaultUnlistedBurst = 20
	// maxPending bounds the ids invalidated since the last listing. Past
	// it, the set is dropped and lookups fall back to reading every id
	// until the next listing.
	maxPending = 10000
	// minListRetry is the least wait after a failed listing before the
	// next: a token without the list capability should not cost a login
	// (AppRole, token file) every cache_ttl.
	minListRetry = time.Minute
)

// knownIDs is the set of ids the source listed, so that lookups of ids it
// does not hold are answered without a read. It is refreshed lazily, in
// the background, once per interval; until a listing succeeds, and
// whenever the last one failed, every id may be read (the Cache's negative
// set is then the only protection, as without a Lister). Memory is bounded
// by the number of ids the source holds plus maxPending.
type knownIDs struct {
	l       Lister
	every   time.Duration
	timeout time.Duration
	now     func() time.Time
	onErr   func(error)
	rate    float64
	burst   float64

	mu sync.Mutex
	// ids is the last successful listing; nil: none, or the last listing
	// failed. Then every id may be read.
	ids map[string]struct{}
	// pending holds ids invalidated (written by an admin) since a listing
	// that may not include them, with the generation of the mark.
	pending map[string]uint64
	gen     uint64
	// discardBefore: a listing started at a generation below it began
	// before pending was dropped (markPossible's overflow) and is not
	// installed.
	discardBefore uint64
	next          time.Time // when the next listing is due
	refreshing    bool
	failing       bool // the last listing failed and onErr was told
	// Token bucket for reads of unlisted ids.
	tokens float64
	filled time.Time
}

func newKnownIDs(l Lister, o CacheOptions, every, timeout time.Duration, now func() time.Time) *knownIDs {
	k := &knownIDs{
		l:       l,
		every:   every,
		timeout: timeout,
		now:     now,
		onErr:   o.OnListError,
		rate:    o.UnlistedRate,
		burst:   float64(o.UnlistedBurst),
		pending: make(map[string]uint64),
	}
	if k.rate == 0 {
		k.rate = DefaultUnlistedRate
	}
	if k.burst == 0 {
		k.burst = DefaultUnlistedBurst
	}
	k.tokens, k.filled = max(k.burst, 0), now()
	return k
}

// mayFetch reports whether a lookup of id may read the source. cached says
// the Cache holds an (expired) record of id: such an id is read again
// whatever the listing says. It starts a listing when one is due. A nil
// set allows every read.
func (k *knownIDs) mayFetch(id string, cached bool) bool {
	if k == nil {
		return true
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.startRefreshLocked(now)
	if k.ids == nil || cached || k.namesLocked(id) {
		return true
	}
	return k.takeLocked(now)
}

// names reports whether the last listing named id, or id was marked
// possible since. A nil set names nothing.
func (k *knownIDs) names(id string) bool {
	if k == nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.namesLocked(id)
}

// namesLocked is names with k.mu held.
func (k *knownIDs) namesLocked(id string) bool {
	if _, ok := k.ids[id]; ok {
		return true
	}
	_, ok := k.pending[id]
	return ok
}

// markPossible makes id count as possibly known until a listing that
// started after this call: an integration an admin just created is found at
// once, before the next listing names it.
func (k *knownIDs) markPossible(id string) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.pending) >= maxPending {
		// Far more admin writes than a listing interval should see: fall
		// back to reading every id, and list again now.
		k.pending = make(map[string]uint64)
		k.ids = nil
		k.next = time.Time{}
		k.gen++
		k.discardBefore = k.gen
		return
	}
	k.gen++
	k.pending[id] = k.gen
}

// takeLocked takes one read from the bucket for unlisted ids.
func (k *knownIDs) takeLocked(now time.Time) bool {
	if k.burst <= 0 {
		return false
	}
	if d := now.Sub(k.filled); d > 0 && k.rate > 0 {
		k.tokens = min(k.burst, k.tokens+d.Seconds()*k.rate)
		k.filled = now
	}
	if k.tokens < 1 {
		return false
	}
	k.tokens--
	return true
}

// startRefreshLocked starts a listing in the background when one is due
// and none is running.
func (k *knownIDs) startRefreshLocked(now time.Time) {
	if k.refreshing || now.Before(k.next) {
		return
	}
	k.refreshing = true
	go k.refresh(k.gen)
}

// refresh lists the source's ids and installs them; gen is the generation
// of the newest invalidation the listing covers.
func (k *knownIDs) refresh(gen uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	ids, err := k.l.List(ctx)
	cancel()

	k.mu.Lock()
	now := k.now()
	k.refreshing = false
	if gen < k.discardBefore {
		k.mu.Unlock()
		return // pending was dropped meanwhile: list again at the next lookup
	}
	if err != nil {
		k.ids = nil
		k.next = now.Add(max(k.every, minListRetry))
		tell := !k.failing
		k.failing = true
		k.mu.Unlock()
		if tell && k.onErr != nil {
			k.onErr(err)
		}
		return
	}
	set := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	k.ids = set
	k.next = now.Add(k.every)
	k.failing = false
	for id, g := range k.pending {
		if g <= gen {
			delete(k.pending, id)
		}
	}
	k.mu.Unlock()
}

// listed reports whether lookups currently rely on a successful listing.
func (k *knownIDs) listed() bool {
	if k == nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ids != nil
}
