package caddymodule

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
)

// Cache invalidation across instances. After an admin write, the writing
// instance drops its cached record at once and publishes the integration
// id (state.Invalidations: the Redis channel Keys.Invalidate); every
// instance subscribes while its app runs and drops that id from its cache,
// so a revoked secret stops working everywhere within a second instead of
// after cache_ttl. Without Redis only the local cache is dropped. The
// cache TTL remains the fallback for a message that never arrives.
//
// An admin read of a Vault record (view, reveal, register, setup) goes
// through reload: the record read is cached here at once, and the others
// are told which version was read (state.Invalidations.PublishRead); an
// instance caching another version drops it and reads Vault on its next
// lookup, one caching that version does nothing. So a secret changed in
// Vault directly (`vault kv put`) and then registered is the one every
// verifier uses, without waiting for cache_ttl.

// reload reads id from Vault for an admin action, caches it here and tells
// the other instances the version read.
func (a *App) reload(ctx context.Context, id string) (integrations.Record, error) {
	rec, changed, err := a.vault.cache.Reload(ctx, id)
	if err != nil {
		return rec, err
	}
	if changed {
		a.logger.Debug("an admin read refreshed the cached record", zap.String("integration", id), zap.Int("version", rec.Version))
	}
	if a.state == nil || !a.state.shared() {
		return rec, nil
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisIOTimeout)
	defer cancel()
	if err := a.state.invalidations.PublishRead(pctx, id, rec.Version); err != nil {
		a.logger.Warn("publishing the version an admin action read failed: other instances keep the record they cache until their cache_ttl ends",
			zap.String("integration", id), zap.Int("version", rec.Version), zap.Error(err))
	}
	return rec, nil
}

// invalidate drops id from this instance's cache and tells the others.
func (a *App) invalidate(ctx context.Context, id string) {
	if a.vault == nil {
		return
	}
	a.vault.cache.Invalidate(id)
	if a.state == nil || !a.state.shared() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisIOTimeout)
	defer cancel()
	if err := a.state.invalidations.Publish(ctx, id); err != nil {
		a.logger.Warn("publishing a cache invalidation failed: other instances keep the old record until their cache_ttl ends",
			zap.String("integration", id), zap.Error(err))
	}
}

// invalidationSub is a running subscriber.
type invalidationSub struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startInvalidation subscribes to invalidations when records come from
// Vault and state is shared. Called from Start.
func (a *App) startInvalidation() {
	if a.vault == nil || a.state == nil || !a.state.shared() || a.lifecycle == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &invalidationSub{cancel: cancel, done: make(chan struct{})}
	a.lifecycle.invalidation = s
	logger := a.logger.Named("invalidate")
	go func() {
		defer close(s.done)
		a.state.invalidations.Subscribe(ctx, state.InvalidationHandler{
			ID: func(id string) {
				if integrations.ValidID(id) {
					a.vault.cache.Invalidate(id)
				}
			},
			Read: func(id string, version int) {
				if integrations.ValidID(id) {
					a.vault.cache.KeepVersion(id, version)
				}
			},
			Resubscribed: func() {
				logger.Info("resubscribed to cache invalidations; dropping every cached record once")
				a.invalidateAll(ctx)
			},
			Failed: func(err error, retryIn time.Duration) {
				logger.Warn("cache invalidation subscription failed; resubscribing (until then cache_ttl bounds staleness)",
					zap.Duration("retry_in", retryIn), zap.Error(err))
			},
		})
	}()
}

// stopInvalidation ends the subscriber. Called from Stop.
func (a *App) stopInvalidation() {
	if a.lifecycle == nil || a.lifecycle.invalidation == nil {
		return
	}
	s := a.lifecycle.invalidation
	a.lifecycle.invalidation = nil
	s.cancel()
	<-s.done
}

// invalidateAll drops every integration Vault lists from the cache.
func (a *App) invalidateAll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ids, err := a.vault.vault.List(ctx)
	if err != nil {
		a.logger.Warn("listing integrations to drop them from the cache failed; cache_ttl bounds staleness", zap.Error(err))
		return
	}
	for _, id := range ids {
		a.vault.cache.Invalidate(id)
	}
}
