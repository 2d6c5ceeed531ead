package secretstore

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// knownSource holds one record and lists fixed ids.
type knownSource struct{ ids []string }

func (knownSource) Fetch(_ context.Context, id string) (integrations.Record, error) {
	if id == "rec-1" {
		return integrations.Record{ID: id, Vendor: integrations.GitHub, Secret: "s", Active: true}, nil
	}
	return integrations.Record{}, ErrNotFound
}

func (s knownSource) List(context.Context) ([]string, error) { return s.ids, nil }

func TestStaticHas(t *testing.T) {
	s, err := NewStatic([]integrations.Record{{ID: "a", Vendor: integrations.GitHub, Active: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has("a") || s.Has("b") || s.Has("") {
		t.Error("Has")
	}
}

func TestCacheKnown(t *testing.T) {
	ctx := context.Background()
	c := NewCache(knownSource{}, CacheOptions{})
	if c.Known("rec-1") {
		t.Error("known before any lookup")
	}
	if _, err := c.Lookup(ctx, "rec-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(ctx, "nope"); err == nil {
		t.Fatal("nope found")
	}
	if !c.Known("rec-1") || c.Known("nope") {
		t.Errorf("after lookups: rec-1 %v, nope %v", c.Known("rec-1"), c.Known("nope"))
	}
	c.Invalidate("rec-1")
	if c.Known("rec-1") {
		t.Error("known after Invalidate without a Lister")
	}

	// With a Lister: listed ids and ids written since are known too.
	src := knownSource{ids: []string{"listed-1"}}
	c = NewCache(src, CacheOptions{Lister: src})
	_, _ = c.Lookup(ctx, "nope") // starts the first listing
	deadline := time.Now().Add(5 * time.Second)
	for !c.Known("listed-1") {
		if time.Now().After(deadline) {
			t.Fatal("listed id never known")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c.Known("nope") || c.Known("rec-1") {
		t.Error("unlisted, uncached ids known")
	}
	c.Invalidate("written-1")
	if !c.Known("written-1") {
		t.Error("an id written since the listing is not known")
	}
}
