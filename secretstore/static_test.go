package secretstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

func TestStatic(t *testing.T) {
	recs := []integrations.Record{demo("zeta"), demo("alpha")}
	s, err := NewStatic(recs)
	if err != nil {
		t.Fatal(err)
	}
	recs[0].Branches[0] = "changed-by-caller"
	if got := s.IDs(); !slices.Equal(got, []string{"alpha", "zeta"}) {
		t.Fatalf("IDs = %v", got)
	}
	r, err := s.Fetch(context.Background(), "zeta")
	if err != nil || r.Secret != testSecret || r.Branches[0] != "main" {
		t.Fatalf("Fetch = %+v, %v", r.Branches, err)
	}
	r.Branches[0] = "mutated"
	if r2, _ := s.Fetch(context.Background(), "zeta"); r2.Branches[0] != "main" {
		t.Fatal("Fetch returned shared slices")
	}
	if _, err := s.Fetch(context.Background(), "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	ids := s.IDs()
	ids[0] = "x"
	if s.IDs()[0] != "alpha" {
		t.Fatal("IDs returned shared slice")
	}
}

func TestStaticRejects(t *testing.T) {
	bad := demo("bad")
	bad.Vendor = "myspace"
	rot := demo("rot")
	rot.PreviousSecret = "old-" + testSecret
	for name, recs := range map[string][]integrations.Record{
		"duplicate":      {demo("a"), demo("a")},
		"unknown vendor": {demo("a"), bad},
		"malformed id":   {demo("../x")},
		"no valid until": {rot},
	} {
		_, err := NewStatic(recs)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if strings.Contains(err.Error(), testSecret) {
			t.Fatalf("%s: error leaks secret: %v", name, err)
		}
		if name != "duplicate" && !errors.Is(err, integrations.ErrInvalidRecord) {
			t.Fatalf("%s: %v does not wrap ErrInvalidRecord", name, err)
		}
	}
}

func TestStaticBehindCache(t *testing.T) {
	s, err := NewStatic([]integrations.Record{demo("demo-gh")})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(s, CacheOptions{Now: func() time.Time { return time.Unix(0, 0) }})
	if r := mustLookup(t, c, "demo-gh"); r.Vendor != integrations.GitHub {
		t.Fatal("wrong record")
	}
	if _, err := lookup(t, c, "other"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}
