package secretstore

import (
	"context"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Chain is "static, then Vault": it finds an integration in the config's
// records first and asks Next only for an id the config does not hold, so a
// static integration shadows a stored one of the same id. Deliveries read
// through the Vault cache (Next is a *Cache); the admin's fresh reads go to
// Vault itself (Next is a *Vault, or Cache.Reload, which reads Vault and
// caches what it read).
type Chain struct {
	// Static is the config's records. Required.
	Static Fetcher
	// Next is where every other integration lives. Default: none, and an
	// id the config lacks is ErrNotFound.
	Next Fetcher
}

// Find returns id's record and whether it came from Static. Next's errors
// come back as Next gave them.
func (c Chain) Find(ctx context.Context, id string) (rec integrations.Record, static bool, err error) {
	rec, err = c.Static.Fetch(ctx, id)
	if err == nil {
		return rec, true, nil
	}
	if c.Next == nil {
		return integrations.Record{}, false, err
	}
	rec, err = c.Next.Fetch(ctx, id)
	return rec, false, err
}

// Fetch is Find without the origin, so a Chain is a Fetcher itself.
func (c Chain) Fetch(ctx context.Context, id string) (integrations.Record, error) {
	rec, _, err := c.Find(ctx, id)
	return rec, err
}

// Fetch is Lookup, so a Cache can stand behind a Chain.
func (c *Cache) Fetch(ctx context.Context, id string) (integrations.Record, error) {
	return c.Lookup(ctx, id)
}
