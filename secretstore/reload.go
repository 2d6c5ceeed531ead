package secretstore

import (
	"context"
	"crypto/subtle"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Reload reads id from the source now, whatever the cache holds, and
// caches what it read, so every lookup from then on gets it: the admin's
// reads (reveal, register, setup, view) go through it, and the secret they
// hand out is the one this instance verifies with. A lookup's fetch that
// began before Reload never overwrites its result; an Invalidate while it
// reads keeps it from being cached. Changed reports whether the record
// differs from the one cached before (another version or another secret,
// or none was cached). Errors are the source's, as Lookup wraps them; an
// unreachable source is ErrUnavailable even when a record is cached, and
// leaves the cache as it was.
func (c *Cache) Reload(ctx context.Context, id string) (rec integrations.Record, changed bool, err error) {
	if !integrations.ValidID(id) {
		return integrations.Record{}, false, ErrNotFound
	}
	c.mu.Lock()
	before, cached := c.pos[id]
	c.epoch++ // a fetch already running may have read an older version
	epoch := c.epoch
	c.mu.Unlock()
	c.group.Forget(id)
	rec, err = c.fetchAt(ctx, id, epoch, false)
	if err != nil {
		return rec, false, err
	}
	return rec, !cached || !sameRecord(before.rec, rec), nil
}

// KeepVersion drops id from the cache, as Invalidate does, unless the
// cached record is of the given version: another instance read that
// version from the source just now, and an instance holding it has
// nothing to fetch again.
func (c *Cache) KeepVersion(id string, version int) {
	c.mu.RLock()
	e, cached := c.pos[id]
	c.mu.RUnlock()
	if cached && e.rec.Version == version {
		return
	}
	c.Invalidate(id)
}

// sameRecord reports whether a and b are one version of one record with
// the same secrets; the secrets are compared in constant time.
func sameRecord(a, b integrations.Record) bool {
	same := subtle.ConstantTimeCompare([]byte(a.Secret), []byte(b.Secret)) &
		subtle.ConstantTimeCompare([]byte(a.PreviousSecret), []byte(b.PreviousSecret))
	return same == 1 && a.ID == b.ID && a.Version == b.Version
}
