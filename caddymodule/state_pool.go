package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookgate/caddy-hookgate/limiter"
	"github.com/hookgate/caddy-hookgate/poller"
	"github.com/hookgate/caddy-hookgate/state"
)

// statePool shares the state store across config reloads: one Redis client
// per Redis config, or one in-memory store, so a reload neither reconnects
// nor loses the in-memory outbox.
var statePool = caddy.NewUsagePool()

// pooledState is the pool's value: every store hookgate keeps, in Redis or
// in process memory.
type pooledState struct {
	deliveries    state.Deliveries
	outbox        state.Outbox
	failures      limiter.Failures // the brute-force limiter's counts
	admin         state.AdminLog
	invalidations state.Invalidations
	poll          poller.State // Redis only: in memory, each app's poller starts afresh
	client        io.Closer    // the Redis client; nil for the in-memory stores
}

// Destruct closes the Redis client when the last config using it is gone.
func (p *pooledState) Destruct() error {
	if p.client != nil {
		return p.client.Close()
	}
	return nil
}

// shared reports whether the store is shared and durable (Redis).
func (p *pooledState) shared() bool { return p.client != nil }

// Redis client timeouts: a webhook must be answered quickly, and a Redis
// that does not answer is treated as down (503) rather than waited for.
const (
	redisDialTimeout = 2 * time.Second
	redisIOTimeout   = 2 * time.Second
)

// loadState returns the shared store for rc (nil: in memory).
func loadState(rc *RedisConfig, repl *caddy.Replacer) (*pooledState, string, error) {
	if rc == nil {
		val, _, err := statePool.LoadOrNew("memory", func() (caddy.Destructor, error) {
			m := state.NewMemory(state.MemoryOptions{})
			return &pooledState{deliveries: m, outbox: m, failures: limiter.NewMemory(limiter.Options{}),
				admin: new(state.MemoryAdminLog), invalidations: new(state.MemoryInvalidations)}, nil
		})
		if err != nil {
			return nil, "", err
		}
		return val.(*pooledState), "memory", nil
	}
	opts := state.ClientOptions{
		Addrs:       make([]string, len(rc.Addresses)),
		MasterName:  repl.ReplaceAll(rc.Sentinel, ""),
		Username:    repl.ReplaceAll(rc.Username, ""),
		Password:    repl.ReplaceAll(rc.Password, ""),
		DB:          rc.DB,
		DialTimeout: redisDialTimeout,
		IOTimeout:   redisIOTimeout,
	}
	for i, a := range rc.Addresses {
		opts.Addrs[i] = repl.ReplaceAll(a, "")
	}
	prefix := repl.ReplaceAll(rc.KeyPrefix, "")
	raw, err := json.Marshal(struct {
		A      []string
		M, U   string
		P      string
		DB     int
		Prefix string
	}{opts.Addrs, opts.MasterName, opts.Username, opts.Password, opts.DB, prefix})
	if err != nil {
		return nil, "", fmt.Errorf("hookgate: redis pool key: %w", err)
	}
	sum := sha256.Sum256(raw)
	key := "redis:" + hex.EncodeToString(sum[:])
	val, _, err := statePool.LoadOrNew(key, func() (caddy.Destructor, error) {
		client := state.NewClient(opts)
		keys := state.NewKeys(prefix)
		r := state.NewRedis(client, state.RedisOptions{KeyPrefix: prefix})
		return &pooledState{
			deliveries:    r,
			outbox:        r,
			failures:      limiter.NewRedis(client, limiter.Options{KeyPrefix: prefix}),
			admin:         state.NewRedisAdminLog(client, keys),
			invalidations: state.NewRedisInvalidations(client, keys),
			poll:          poller.NewRedisState(client, prefix),
			client:        client,
		}, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("hookgate: redis: %w", err)
	}
	return val.(*pooledState), key, nil
}
