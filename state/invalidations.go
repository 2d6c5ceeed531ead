package state

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timings of the Redis invalidation subscriber.
const (
	// invalidationIdle is how long the subscriber waits for a message
	// before it pings, so a dead connection is noticed.
	invalidationIdle = 15 * time.Second
	// invalidationConfirm bounds the wait for a subscription's first
	// reply.
	invalidationConfirm = 5 * time.Second
	// invalidationBackoffFirst and invalidationBackoffMax bound the wait
	// between resubscribe attempts.
	invalidationBackoffFirst = 100 * time.Millisecond
	invalidationBackoffMax   = 5 * time.Second
)

// Invalidations carries "drop this integration from your cache" between
// instances: an id one instance publishes reaches every subscriber, the
// publisher's own included. Delivery is best effort (pub/sub): a
// subscriber told that it resubscribed must assume it missed messages.
//
// A message is the id alone (drop it), or the id, a space and a version
// ("gh-1 7": version 7 was just read from the store; drop any other).
// Integration ids hold no space.
type Invalidations interface {
	// Publish sends id to every subscriber.
	Publish(ctx context.Context, id string) error
	// PublishRead tells every subscriber that version of id was just read
	// from the store.
	PublishRead(ctx context.Context, id string, version int) error
	// Subscribe receives until ctx ends, subscribing again with backoff
	// whenever the subscription fails. It blocks; h's functions are called
	// from its goroutine.
	Subscribe(ctx context.Context, h InvalidationHandler)
}

// InvalidationHandler is what a subscriber does with what arrives. Every
// field is optional.
type InvalidationHandler struct {
	// ID is called with each published id, and with each id published
	// with a version when Read is nil.
	ID func(id string)
	// Read is called with each id published with the version read.
	Read func(id string, version int)
	// Resubscribed is called when a subscription is confirmed again after
	// a failure: messages sent meanwhile were lost.
	Resubscribed func()
	// Failed is called when the subscription failed, with the wait before
	// the next attempt.
	Failed func(err error, retryIn time.Duration)
}

// RedisInvalidations publishes on the channel Keys.Invalidate.
type RedisInvalidations struct {
	client  redis.UniversalClient
	channel string
}

// NewRedisInvalidations returns invalidations carried by client under
// keys.
func NewRedisInvalidations(client redis.UniversalClient, keys Keys) *RedisInvalidations {
	return &RedisInvalidations{client: client, channel: keys.Invalidate()}
}

// Publish implements Invalidations.
func (r *RedisInvalidations) Publish(ctx context.Context, id string) error {
	if err := r.client.Publish(ctx, r.channel, id).Err(); err != nil {
		return unavailable("publish invalidation", err)
	}
	return nil
}

// PublishRead implements Invalidations.
func (r *RedisInvalidations) PublishRead(ctx context.Context, id string, version int) error {
	return r.Publish(ctx, readMessage(id, version))
}

// readMessage is the message saying version of id was read.
func readMessage(id string, version int) string {
	return id + " " + strconv.Itoa(version)
}

// dispatch hands one message to h.
func (h InvalidationHandler) dispatch(msg string) {
	id, v, read := strings.Cut(msg, " ")
	version, err := strconv.Atoi(v)
	switch {
	case read && err == nil && h.Read != nil:
		h.Read(id, version)
	case h.ID != nil:
		h.ID(id)
	}
}

// Subscribe implements Invalidations.
func (r *RedisInvalidations) Subscribe(ctx context.Context, h InvalidationHandler) {
	var mu sync.Mutex
	var current *redis.PubSub
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if current != nil {
			_ = current.Close() // unblocks a pending receive
		}
	})
	defer stop()
	backoff := invalidationBackoffFirst
	subscribedBefore := false
	for ctx.Err() == nil {
		ps := r.client.Subscribe(ctx, r.channel)
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			_ = ps.Close()
			return
		}
		current = ps
		mu.Unlock()
		_, err := ps.ReceiveTimeout(ctx, invalidationConfirm) // the first reply confirms the subscription
		if err == nil {
			if subscribedBefore && h.Resubscribed != nil {
				h.Resubscribed()
			}
			subscribedBefore = true
			backoff = invalidationBackoffFirst
			err = receive(ctx, ps, h)
		}
		mu.Lock()
		current = nil
		mu.Unlock()
		_ = ps.Close()
		if ctx.Err() != nil {
			return
		}
		if h.Failed != nil {
			h.Failed(err, backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, invalidationBackoffMax)
	}
}

// receive hands each message to h until the connection fails or ctx ends.
func receive(ctx context.Context, ps *redis.PubSub, h InvalidationHandler) error {
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
		if m, ok := msg.(*redis.Message); ok {
			h.dispatch(m.Payload)
		}
	}
}

// MemoryInvalidations carries invalidations between subscribers of one
// process.
type MemoryInvalidations struct {
	mu   sync.Mutex
	subs map[chan string]struct{}
}

// Publish implements Invalidations. A subscriber that is 64 ids behind
// misses the newest.
func (m *MemoryInvalidations) Publish(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ch := range m.subs {
		select {
		case ch <- id:
		default:
		}
	}
	return nil
}

// PublishRead implements Invalidations.
func (m *MemoryInvalidations) PublishRead(ctx context.Context, id string, version int) error {
	return m.Publish(ctx, readMessage(id, version))
}

// Subscribe implements Invalidations.
func (m *MemoryInvalidations) Subscribe(ctx context.Context, h InvalidationHandler) {
	ch := make(chan string, 64)
	m.mu.Lock()
	if m.subs == nil {
		m.subs = make(map[chan string]struct{})
	}
	m.subs[ch] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.subs, ch)
		m.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-ch:
			h.dispatch(msg)
		}
	}
}

var (
	_ Invalidations = (*RedisInvalidations)(nil)
	_ Invalidations = (*MemoryInvalidations)(nil)
)
