package secretstore

import (
	"context"
	"errors"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// versioned is demo(id) at a version with a secret.
func versioned(id string, version int, secret string) integrations.Record {
	r := demo(id)
	r.Version, r.Secret = version, secret
	return r
}

// TestCacheReloadReplacesTheCachedRecord: a record changed at the source
// (a `vault kv put`) is served from the cache until Reload reads it; from
// then on lookups get the new one without another fetch, and Reload says
// whether it changed.
func TestCacheReloadReplacesTheCachedRecord(t *testing.T) {
	f := newFake(versioned("gh", 1, "old-secret"))
	c := NewCache(f, CacheOptions{Now: newClock().Now})
	mustLookup(t, c, "gh")
	f.set(func(f *fakeFetcher) { f.records["gh"] = versioned("gh", 2, "new-secret") })
	if r := mustLookup(t, c, "gh"); r.Secret != "old-secret" {
		t.Fatal("the cache asked the source before its TTL")
	}
	rec, changed, err := c.Reload(context.Background(), "gh")
	if err != nil || !changed || rec.Secret != "new-secret" || rec.Version != 2 {
		t.Fatalf("reload: version %d, changed %v, %v", rec.Version, changed, err)
	}
	if r := mustLookup(t, c, "gh"); r.Secret != "new-secret" {
		t.Fatal("lookup after reload still serves the old record")
	}
	if n := f.count("gh"); n != 2 {
		t.Fatalf("fetches = %d, want 2 (the first lookup and the reload)", n)
	}
	if _, changed, err := c.Reload(context.Background(), "gh"); err != nil || changed {
		t.Fatalf("second reload of the same version: changed %v, %v", changed, err)
	}
	// The same version with another secret (a KV path deleted with its
	// metadata and written again starts over at version 1) is a change.
	f.set(func(f *fakeFetcher) { f.records["gh"] = versioned("gh", 2, "other-secret") })
	if _, changed, _ := c.Reload(context.Background(), "gh"); !changed {
		t.Fatal("another secret under the same version is not a change")
	}
	// Nothing cached: a change.
	f.set(func(f *fakeFetcher) { f.records["new"] = versioned("new", 1, "s") })
	if _, changed, err := c.Reload(context.Background(), "new"); err != nil || !changed {
		t.Fatalf("reload of an uncached id: changed %v, %v", changed, err)
	}
}

// TestCacheReloadOvertakesAnOlderFetch: a lookup's fetch that read the old
// version before Reload read the new one does not store its result over
// Reload's.
func TestCacheReloadOvertakesAnOlderFetch(t *testing.T) {
	f := newFake(versioned("gh", 1, "old-secret"))
	gate := make(chan struct{})
	started := make(chan string, 1)
	f.gate, f.started = gate, started
	c := NewCache(f, CacheOptions{Now: newClock().Now})
	done := make(chan integrations.Record)
	go func() { r, _ := c.Lookup(context.Background(), "gh"); done <- r }()
	<-started
	// The lookup's fetch holds the old record; the reload reads the new.
	slow := f.records["gh"]
	f.set(func(f *fakeFetcher) { f.records["gh"] = versioned("gh", 2, "new-secret"); f.gate, f.started = nil, nil })
	if rec, _, err := c.Reload(context.Background(), "gh"); err != nil || rec.Version != 2 {
		t.Fatalf("reload: %+v %v", rec.Version, err)
	}
	// Let the lookup's fetch finish with what it read before the reload.
	f.set(func(f *fakeFetcher) { f.records["gh"] = slow })
	close(gate)
	<-done
	f.set(func(f *fakeFetcher) { f.records["gh"] = versioned("gh", 2, "new-secret") })
	if r := mustLookup(t, c, "gh"); r.Version != 2 {
		t.Fatalf("the older fetch overwrote the reload: version %d", r.Version)
	}
}

// TestCacheReloadWithTheSourceDown: an admin read never answers a cached
// record; the cache keeps it for lookups.
func TestCacheReloadWithTheSourceDown(t *testing.T) {
	f := newFake(versioned("gh", 1, "s"))
	c := NewCache(f, CacheOptions{Now: newClock().Now})
	mustLookup(t, c, "gh")
	f.set(func(f *fakeFetcher) { f.err = errors.New("connection refused") })
	if _, _, err := c.Reload(context.Background(), "gh"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("reload with the source down: %v, want ErrUnavailable", err)
	}
	if r := mustLookup(t, c, "gh"); r.Version != 1 {
		t.Fatal("the cached record is gone after a failed reload")
	}
	if _, _, err := c.Reload(context.Background(), "../x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("malformed id: %v", err)
	}
}

// TestCacheKeepVersion: told that a version was just read, the cache keeps
// a record of that version and drops any other.
func TestCacheKeepVersion(t *testing.T) {
	f := newFake(versioned("gh", 1, "old-secret"))
	c := NewCache(f, CacheOptions{Now: newClock().Now})
	mustLookup(t, c, "gh")
	c.KeepVersion("gh", 1)
	mustLookup(t, c, "gh")
	if n := f.count("gh"); n != 1 {
		t.Fatalf("fetches = %d after being told the cached version: want 1", n)
	}
	f.set(func(f *fakeFetcher) { f.records["gh"] = versioned("gh", 2, "new-secret") })
	c.KeepVersion("gh", 2)
	if r := mustLookup(t, c, "gh"); r.Secret != "new-secret" {
		t.Fatal("an outdated version was kept")
	}
}
