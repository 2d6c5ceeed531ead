package secretstore

import (
	"context"
	"errors"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// fetchFunc is a Fetcher from a function.
type fetchFunc func(ctx context.Context, id string) (integrations.Record, error)

func (f fetchFunc) Fetch(ctx context.Context, id string) (integrations.Record, error) {
	return f(ctx, id)
}

// TestChainStaticThenNext: the config's record shadows the stored one of
// the same id, Next answers the rest with its own errors, and without Next
// an id the config lacks is not found.
func TestChainStaticThenNext(t *testing.T) {
	static, err := NewStatic([]integrations.Record{{ID: "both", Vendor: integrations.GitHub, Active: true, Secret: "from-config"}})
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("vault unreachable")
	var asked []string
	next := fetchFunc(func(_ context.Context, id string) (integrations.Record, error) {
		asked = append(asked, id)
		switch id {
		case "both", "stored":
			return integrations.Record{ID: id, Vendor: integrations.GitHub, Secret: "from-vault"}, nil
		case "down":
			return integrations.Record{}, down
		}
		return integrations.Record{}, ErrNotFound
	})
	ctx := context.Background()
	c := Chain{Static: static, Next: next}

	if rec, isStatic, err := c.Find(ctx, "both"); err != nil || !isStatic || rec.Secret != "from-config" {
		t.Fatalf("both: %+v static=%v err=%v", rec, isStatic, err)
	}
	if rec, isStatic, err := c.Find(ctx, "stored"); err != nil || isStatic || rec.Secret != "from-vault" {
		t.Fatalf("stored: %+v static=%v err=%v", rec, isStatic, err)
	}
	if _, _, err := c.Find(ctx, "down"); !errors.Is(err, down) {
		t.Fatalf("down: %v", err)
	}
	if _, err := c.Fetch(ctx, "nowhere"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nowhere: %v", err)
	}
	if len(asked) != 3 || asked[0] != "stored" {
		t.Fatalf("Next asked for %v: a static id must not reach it", asked)
	}
	if _, _, err := (Chain{Static: static}).Find(ctx, "stored"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("without Next: %v", err)
	}
}
