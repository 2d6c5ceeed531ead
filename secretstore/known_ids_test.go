package secretstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakevault"
)

// fakeLister lists a fixed set of ids, or fails.
type fakeLister struct {
	mu    sync.Mutex
	ids   []string
	err   error
	calls atomic.Int64
}

func (l *fakeLister) List(ctx context.Context) ([]string, error) {
	l.calls.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	return slices.Clone(l.ids), nil
}

func (l *fakeLister) set(ids []string, err error) {
	l.mu.Lock()
	l.ids, l.err = ids, err
	l.mu.Unlock()
}

// waitListing waits until the lister was called at least n times and no
// listing is running.
func waitListing(t *testing.T, c *Cache, l interface{ count() int64 }, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.known.mu.Lock()
		running := c.known.refreshing
		c.known.mu.Unlock()
		if l.count() >= n && !running {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("listing %d did not finish", n)
}

func (l *fakeLister) count() int64 { return l.calls.Load() }

// newKnownCache is a cache over f with l as its lister, on a manual clock,
// after its first listing.
func newKnownCache(t *testing.T, f Fetcher, l *fakeLister, o CacheOptions) (*Cache, *clock) {
	t.Helper()
	clk := newClock()
	o.TTL, o.Now, o.Lister = 30*time.Second, clk.Now, l
	c := NewCache(f, o)
	// The first lookup starts the first listing; until it is in, every id
	// may be read.
	if _, err := lookup(t, c, "warm-up"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("warm-up: %v", err)
	}
	waitListing(t, c, l, 1)
	return c, clk
}

func TestKnownIDsUnlistedIdsCostNoReadBeyondTheBudget(t *testing.T) {
	f := newFake(demo("listed"))
	l := &fakeLister{ids: []string{"listed"}}
	c, clk := newKnownCache(t, f, l, CacheOptions{})
	if !c.known.listed() {
		t.Fatal("first listing not installed")
	}
	before := f.total.Load()
	for i := range 5000 {
		if _, err := lookup(t, c, fmt.Sprintf("forged-%d", i)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("forged-%d: %v", i, err)
		}
	}
	if got := f.total.Load() - before; got != DefaultUnlistedBurst {
		t.Fatalf("5000 distinct unlisted ids cost %d reads, want the burst %d", got, DefaultUnlistedBurst)
	}
	if r := mustLookup(t, c, "listed"); r.ID != "listed" {
		t.Fatalf("listed id: %+v", r)
	}
	// The bucket refills at DefaultUnlistedRate per second.
	clk.Advance(2 * time.Second)
	before = f.total.Load()
	for i := range 100 {
		_, _ = lookup(t, c, fmt.Sprintf("later-%d", i))
	}
	if got := f.total.Load() - before; got != 2*DefaultUnlistedRate {
		t.Fatalf("after 2s: %d reads, want %d", got, 2*DefaultUnlistedRate)
	}
	// Memory: the unknown ids are remembered in neither set.
	if n := len(c.known.pending); n != 0 {
		t.Fatalf("pending holds %d ids", n)
	}
}

func TestKnownIDsRecordWrittenStraightIntoTheSourceIsFoundAtOnce(t *testing.T) {
	f := newFake(demo("listed"))
	l := &fakeLister{ids: []string{"listed"}}
	c, _ := newKnownCache(t, f, l, CacheOptions{})
	f.set(func(f *fakeFetcher) { f.records["direct"] = demo("direct") })
	if r := mustLookup(t, c, "direct"); r.ID != "direct" {
		t.Fatalf("direct: %+v", r)
	}
}

func TestKnownIDsInvalidatedIdIsPossiblyKnown(t *testing.T) {
	f := newFake(demo("listed"))
	l := &fakeLister{ids: []string{"listed"}}
	c, clk := newKnownCache(t, f, l, CacheOptions{UnlistedBurst: -1})
	f.set(func(f *fakeFetcher) { f.records["created"] = demo("created") })
	if _, err := lookup(t, c, "created"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unlisted with no budget: %v", err)
	}
	if n := f.count("created"); n != 0 {
		t.Fatalf("unlisted id read %d times without budget", n)
	}
	c.Invalidate("created") // what an admin PUT does
	if r := mustLookup(t, c, "created"); r.ID != "created" {
		t.Fatalf("created: %+v", r)
	}
	// The next listing names it; the mark is dropped and it stays found.
	l.set([]string{"listed", "created"}, nil)
	clk.Advance(31 * time.Second)
	mustLookup(t, c, "listed") // due: starts the listing
	waitListing(t, c, l, 2)
	if n := len(c.known.pending); n != 0 {
		t.Fatalf("pending after a listing: %d", n)
	}
	clk.Advance(31 * time.Second)
	if r := mustLookup(t, c, "created"); r.ID != "created" {
		t.Fatalf("created after listing: %+v", r)
	}
}

func TestKnownIDsCachedRecordIsReadAgainWhateverTheListing(t *testing.T) {
	f := newFake(demo("listed"))
	l := &fakeLister{ids: []string{"listed"}}
	c, clk := newKnownCache(t, f, l, CacheOptions{UnlistedBurst: 1, UnlistedRate: -1})
	f.set(func(f *fakeFetcher) { f.records["direct"] = demo("direct") })
	mustLookup(t, c, "direct") // the one read of the budget
	clk.Advance(31 * time.Second)
	mustLookup(t, c, "direct") // expired, cached: read again
	if n := f.count("direct"); n != 2 {
		t.Fatalf("direct read %d times, want 2", n)
	}
}

func TestKnownIDsRelistsEveryTTL(t *testing.T) {
	f := newFake(demo("a"), demo("b"))
	l := &fakeLister{ids: []string{"a", "b"}}
	c, clk := newKnownCache(t, f, l, CacheOptions{UnlistedBurst: -1})
	mustLookup(t, c, "b")
	// b is deleted at the source: the next listing drops it, and the read
	// after its TTL finds it gone.
	l.set([]string{"a"}, nil)
	f.set(func(f *fakeFetcher) { delete(f.records, "b") })
	clk.Advance(10 * time.Second)
	mustLookup(t, c, "a")
	if n := l.count(); n != 1 {
		t.Fatalf("listed %d times within the TTL", n)
	}
	clk.Advance(21 * time.Second)
	// A fresh hit never lists; a lookup that would read starts the listing.
	mustLookup(t, c, "a")
	if n := l.count(); n != 1 {
		t.Fatalf("a fresh hit listed")
	}
	if _, err := lookup(t, c, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nobody: %v", err)
	}
	waitListing(t, c, l, 2)
	if _, ok := c.known.ids["b"]; ok {
		t.Fatal("the new listing still names b")
	}
	if _, err := lookup(t, c, "b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted b: %v", err)
	}
}

func TestKnownIDsListFailureFallsBackToReadingEveryID(t *testing.T) {
	denied := errors.New("vault answered 403: permission denied")
	f := newFake(demo("valid"))
	l := &fakeLister{err: denied}
	var told []error
	var mu sync.Mutex
	onErr := func(err error) { mu.Lock(); told = append(told, err); mu.Unlock() }
	c, clk := newKnownCache(t, f, l, CacheOptions{OnListError: onErr, UnlistedBurst: -1})
	if c.known.listed() {
		t.Fatal("a failed listing is installed")
	}
	// Today's behaviour: every distinct unknown id is read once, then
	// remembered; valid ids work.
	before := f.total.Load()
	for i := range 100 {
		id := fmt.Sprintf("unknown-%d", i)
		for range 3 {
			if _, err := lookup(t, c, id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: %v", id, err)
			}
		}
	}
	if got := f.total.Load() - before; got != 100 {
		t.Fatalf("fallback: %d reads for 100 distinct unknown ids, want 100", got)
	}
	mustLookup(t, c, "valid")
	// Failing again is not told again.
	clk.Advance(minListRetry + time.Second)
	mustLookup(t, c, "valid")
	waitListing(t, c, l, 2)
	mu.Lock()
	if len(told) != 1 || !errors.Is(told[0], denied) {
		t.Fatalf("told %v, want the denial once", told)
	}
	mu.Unlock()
	// Listing works again: unknown ids cost nothing any more.
	l.set([]string{"valid"}, nil)
	clk.Advance(minListRetry + time.Second)
	mustLookup(t, c, "valid")
	waitListing(t, c, l, 3)
	before = f.total.Load()
	for i := range 100 {
		_, _ = lookup(t, c, fmt.Sprintf("again-%d", i))
	}
	if got := f.total.Load() - before; got != 0 {
		t.Fatalf("after recovery: %d reads of unlisted ids with no budget", got)
	}
}

func TestKnownIDsPendingIsBounded(t *testing.T) {
	f := newFake(demo("listed"))
	l := &fakeLister{ids: []string{"listed"}}
	c, _ := newKnownCache(t, f, l, CacheOptions{UnlistedBurst: -1})
	for i := range maxPending + 1 {
		c.Invalidate(fmt.Sprintf("written-%d", i))
	}
	if n := len(c.known.pending); n > maxPending {
		t.Fatalf("pending holds %d ids", n)
	}
	// Past the bound the set falls back to reading every id (never failing
	// closed for a just-written id) and lists again at the next lookup.
	f.set(func(f *fakeFetcher) { f.records["written-5"] = demo("written-5") })
	mustLookup(t, c, "written-5")
	waitListing(t, c, l, 2)
	if !c.known.listed() {
		t.Fatal("not listed again after the overflow")
	}
}

func TestKnownIDsListingRacingAnOverflowIsDiscarded(t *testing.T) {
	k := newKnownIDs(&fakeLister{ids: []string{"a"}}, CacheOptions{}, time.Minute, time.Second, time.Now)
	k.mu.Lock()
	k.refreshing = true
	gen := k.gen
	k.mu.Unlock()
	for i := range maxPending + 1 {
		k.markPossible(fmt.Sprintf("id-%d", i))
	}
	k.refresh(gen) // started before the overflow
	if k.listed() {
		t.Fatal("a listing older than the overflow was installed")
	}
}

// countingFetcher counts reads that reach the Vault.
type countingFetcher struct {
	f     Fetcher
	reads atomic.Int64
}

func (c *countingFetcher) Fetch(ctx context.Context, id string) (integrations.Record, error) {
	c.reads.Add(1)
	return c.f.Fetch(ctx, id)
}

// vaultLister counts the listings of a Vault.
type vaultLister struct {
	v     *Vault
	calls atomic.Int64
}

func (l *vaultLister) List(ctx context.Context) ([]string, error) {
	l.calls.Add(1)
	return l.v.List(ctx)
}

func (l *vaultLister) count() int64 { return l.calls.Load() }

// TestKnownIDsVaultListing lists through Vault against internal/fakevault.
func TestKnownIDsVaultListing(t *testing.T) {
	srv := fakevault.Start(t)
	srv.Put(t, integrationDir+"listed-gh", map[string]any{"vendor": "github", "secret": vaultSecret})
	ctx := context.Background()

	t.Run("list allowed", func(t *testing.T) {
		v := newVault(t, VaultConfig{Address: srv.Addr, Token: srv.RootToken, Timeout: 2 * time.Second})
		cf := &countingFetcher{f: v}
		vl := &vaultLister{v: v}
		clk := newClock()
		c := NewCache(cf, CacheOptions{Lister: vl, Now: clk.Now})
		if _, err := c.Lookup(ctx, "listed-gh"); err != nil {
			t.Fatal(err)
		}
		waitListing(t, c, vl, 1)
		if !c.known.listed() {
			t.Fatal("Vault's listing not installed")
		}
		before := cf.reads.Load()
		for i := range 1000 {
			if _, err := c.Lookup(ctx, fmt.Sprintf("forged-%04d", i)); !errors.Is(err, ErrNotFound) {
				t.Fatalf("forged-%04d: %v", i, err)
			}
		}
		if got := cf.reads.Load() - before; got > DefaultUnlistedBurst {
			t.Fatalf("1000 distinct unknown ids cost %d Vault reads, want at most %d", got, DefaultUnlistedBurst)
		}
		// Written straight into Vault (no admin, no invalidation), after
		// the budget is spent: found once the bucket refills a little.
		srv.Put(t, integrationDir+"direct-gh", map[string]any{"vendor": "github", "secret": vaultSecret})
		if _, err := c.Lookup(ctx, "direct-gh"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("direct-gh with the budget spent: %v", err)
		}
		clk.Advance(time.Second)
		r, err := c.Lookup(ctx, "direct-gh")
		if err != nil || r.Secret != vaultSecret {
			t.Fatalf("direct-gh: %v", err)
		}
		noLeak(t, err, srv.RootToken)
	})

	t.Run("list denied", func(t *testing.T) {
		tok := srv.CreateReadOnlyToken(t) // may read records, not list them
		v := newVault(t, VaultConfig{Address: srv.Addr, Token: tok, Timeout: 2 * time.Second})
		cf := &countingFetcher{f: v}
		vl := &vaultLister{v: v}
		var told atomic.Value
		var tells atomic.Int64
		c := NewCache(cf, CacheOptions{Lister: vl, OnListError: func(err error) { tells.Add(1); told.Store(err) }})
		if _, err := c.Lookup(ctx, "listed-gh"); err != nil {
			t.Fatalf("a valid id fails closed when listing is denied: %v", err)
		}
		waitListing(t, c, vl, 1)
		if c.known.listed() {
			t.Fatal("a denied listing is installed")
		}
		err, _ := told.Load().(error)
		if tells.Load() != 1 || err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("told %d times: %v", tells.Load(), err)
		}
		noLeak(t, err, tok, srv.RootToken)
		before := cf.reads.Load()
		for i := range 50 {
			if _, err := c.Lookup(ctx, fmt.Sprintf("forged-%02d", i)); !errors.Is(err, ErrNotFound) {
				t.Fatalf("forged-%02d: %v", i, err)
			}
		}
		if got := cf.reads.Load() - before; got != 50 {
			t.Fatalf("fallback: %d reads for 50 distinct unknown ids, want 50 (one each)", got)
		}
		if _, err := c.Lookup(ctx, "listed-gh"); err != nil {
			t.Fatal(err)
		}
	})
}
