package caddymodule

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Cache invalidation across instances. After an admin write, the writing
// instance drops its cached record at once and publishes the integration
// id on the Redis channel <prefix>{hg}:invalidate; every instance
// subscribes while its app runs and drops that id from its cache, so a
// revoked secret stops working everywhere within a second instead of
// after cache_ttl. Without Redis only the local cache is dropped. The
// cache TTL remains the fallback for a message that never arrives.

const (
	// invalidationIdle is how long the subscriber waits for a message
	// before it pings, so a dead connection is noticed.
	invalidationIdle = 15 * time.Second
	// invalidationBackoffMax caps the wait between resubscribe attempts.
	invalidationBackoffMax = 5 * time.Second
)

func invalidateChannel(prefix string) string { return prefix + "{hg}:invalidate" }

// invalidate drops id from this instance's cache and tells the others.
func (a *App) invalidate(ctx context.Context, id string) {
	if a.vault == nil {
		return
	}
	a.vault.cache.Invalidate(id)
	if a.state == nil || a.state.client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisIOTimeout)
	defer cancel()
	if err := a.state.client.Publish(ctx, invalidateChannel(a.state.prefix), id).Err(); err != nil {
		a.logger.Warn("publishing a cache invalidation failed: other instances keep the old record until their cache_ttl ends",
			zap.String("integration", id), zap.Error(err))
	}
}

// invalidationSub is a running subscriber.
type invalidationSub struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	ps *redis.PubSub // the current subscription, closed by stop
}

// startInvalidation subscribes to the invalidation channel when records
// come from Vault and state is in Redis. Called from Start.
func (a *App) startInvalidation() {
	if a.vault == nil || a.state == nil || a.state.client == nil || a.lifecycle == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &invalidationSub{cancel: cancel, done: make(chan struct{})}
	a.lifecycle.invalidation = s
	go func() {
		defer close(s.done)
		a.subscribeInvalidations(ctx, s)
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
	s.mu.Lock()
	if s.ps != nil {
		_ = s.ps.Close() // unblocks a pending receive
	}
	s.mu.Unlock()
	<-s.done
}

// subscribeInvalidations subscribes, receives until the subscription
// fails, and subscribes again with backoff until ctx ends. After a
// resubscription it drops every known id from the cache: messages sent
// while it was away are lost.
func (a *App) subscribeInvalidations(ctx context.Context, s *invalidationSub) {
	channel := invalidateChannel(a.state.prefix)
	logger := a.logger.Named("invalidate")
	backoff := 100 * time.Millisecond
	connectedBefore := false
	for ctx.Err() == nil {
		ps := a.state.client.Subscribe(ctx, channel)
		s.mu.Lock()
		if ctx.Err() != nil {
			s.mu.Unlock()
			_ = ps.Close()
			return
		}
		s.ps = ps
		s.mu.Unlock()
		// The first reply confirms the subscription.
		_, err := ps.ReceiveTimeout(ctx, redisDialTimeout+redisIOTimeout)
		if err == nil {
			if connectedBefore {
				logger.Info("resubscribed to cache invalidations; dropping every cached record once")
				a.invalidateAll(ctx)
			}
			connectedBefore = true
			backoff = 100 * time.Millisecond
			err = a.receiveInvalidations(ctx, ps)
		}
		s.mu.Lock()
		s.ps = nil
		s.mu.Unlock()
		_ = ps.Close()
		if ctx.Err() != nil {
			return
		}
		logger.Warn("cache invalidation subscription failed; resubscribing (until then cache_ttl bounds staleness)",
			zap.Duration("retry_in", backoff), zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, invalidationBackoffMax)
	}
}

// receiveInvalidations drops each published id from the cache until the
// connection fails or ctx ends.
func (a *App) receiveInvalidations(ctx context.Context, ps *redis.PubSub) error {
	for {
		msg, err := ps.ReceiveTimeout(ctx, invalidationIdle)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				continue
			}
			return err
		}
		if m, ok := msg.(*redis.Message); ok && integrations.ValidID(m.Payload) {
			a.vault.cache.Invalidate(m.Payload)
		}
	}
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
