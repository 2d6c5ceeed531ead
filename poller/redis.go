package poller

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/state"
)

// RedisState keeps poller state in Redis, shared by every instance.
//
// Keys, named by state.Keys.Poll, with P the key prefix and <id> the
// integration id:
//
//	P{hg}:poll:lease:<id>    string "<token>:<holder>" with a TTL: the lease
//	P{hg}:poll:fence:<id>    integer: the last fencing token handed out
//	P{hg}:poll:cursor:<id>   string: cursor, unix milliseconds
//	P{hg}:poll:seen:<id>     hash: ticket key -> fingerprint of the last
//	                         status (and comment) seen (ServiceNow, ManageEngine)
//	P{hg}:poll:status:<id>   hash: last_success, last_error, last_error_at
//	                         (unix ms), last_events
//
// Every key shares the {hg} hash tag of the state package, so the scripts
// that check the lease and write the cursor run atomically on a cluster
// too. Lease expiry is Redis's clock; the cursor and results carry the
// poller's.
type RedisState struct {
	client redis.UniversalClient
	keys   state.Keys
}

// NewRedisState returns state kept in client under keyPrefix (default
// state.DefaultKeyPrefix). It does no I/O.
func NewRedisState(client redis.UniversalClient, keyPrefix string) *RedisState {
	return &RedisState{client: client, keys: state.NewKeys(keyPrefix)}
}

func (r *RedisState) key(kind, integration string) string { return r.keys.Poll(kind, integration) }

// leaseValue is what the lease key holds while l is current.
func leaseValue(l Lease) string {
	return strconv.FormatInt(l.Token, 10) + ":" + l.Holder
}

// parseLease reads a lease key's value.
func parseLease(integration, v string) (Lease, bool) {
	tok, holder, ok := strings.Cut(v, ":")
	if !ok {
		return Lease{}, false
	}
	n, err := strconv.ParseInt(tok, 10, 64)
	if err != nil {
		return Lease{}, false
	}
	return Lease{Integration: integration, Holder: holder, Token: n}, true
}

// unavailable wraps a Redis failure; Redis errors name commands and keys,
// never argument values.
func unavailable(op string, err error) error {
	return fmt.Errorf("poller: redis %s: %w", op, err)
}

func millis(d time.Duration) string {
	return strconv.FormatInt(max(d.Milliseconds(), 1), 10)
}

// The scripts: every lease check and the write it guards are one atomic
// step. Values cross the Lua boundary as strings; only comparisons use
// tonumber (13-digit milliseconds are exact in a double).

// acquireScript is SET NX PX plus INCR of the fencing token, atomically.
// KEYS: lease, fence. ARGV: holder, ttl ms. Returns the token, or 0 when
// the lease is held.
var acquireScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local tok = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], tostring(tok) .. ':' .. ARGV[1], 'PX', ARGV[2])
return tok
`)

// renewScript extends the lease only while the caller still holds it.
// KEYS: lease. ARGV: lease value, ttl ms. Returns 1 when renewed.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// releaseScript deletes the lease only when the caller holds it.
// KEYS: lease. ARGV: lease value.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// advanceScript moves the cursor forward under the lease.
// KEYS: lease, cursor. ARGV: lease value, cursor ms. Returns 0 when the
// lease is lost.
var advanceScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local cur = redis.call('GET', KEYS[2])
if not cur or tonumber(ARGV[2]) > tonumber(cur) then
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
`)

// rememberScript stores ticket fingerprints under the lease.
// KEYS: lease, seen hash. ARGV: lease value, then key and fingerprint
// pairs. Returns 0 when the lease is lost.
var rememberScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1
`)

// Acquire implements State.
func (r *RedisState) Acquire(ctx context.Context, integration, holder string, ttl time.Duration) (Lease, error) {
	tok, err := acquireScript.Run(ctx, r.client,
		[]string{r.key("lease", integration), r.key("fence", integration)}, holder, millis(ttl)).Int64()
	if err != nil {
		return Lease{}, unavailable("acquire", err)
	}
	if tok == 0 {
		return Lease{}, ErrLeaseHeld
	}
	return Lease{Integration: integration, Holder: holder, Token: tok}, nil
}

// Renew implements State.
func (r *RedisState) Renew(ctx context.Context, l Lease, ttl time.Duration) error {
	n, err := renewScript.Run(ctx, r.client, []string{r.key("lease", l.Integration)}, leaseValue(l), millis(ttl)).Int()
	if err != nil {
		return unavailable("renew", err)
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Release implements State.
func (r *RedisState) Release(ctx context.Context, l Lease) error {
	if err := releaseScript.Run(ctx, r.client, []string{r.key("lease", l.Integration)}, leaseValue(l)).Err(); err != nil {
		return unavailable("release", err)
	}
	return nil
}

// Cursor implements State.
func (r *RedisState) Cursor(ctx context.Context, integration string) (time.Time, error) {
	v, err := r.client.Get(ctx, r.key("cursor", integration)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, unavailable("cursor", err)
	}
	return parseMillis(v), nil
}

// Advance implements State.
func (r *RedisState) Advance(ctx context.Context, l Lease, to time.Time) error {
	n, err := advanceScript.Run(ctx, r.client,
		[]string{r.key("lease", l.Integration), r.key("cursor", l.Integration)},
		leaseValue(l), strconv.FormatInt(to.UnixMilli(), 10)).Int()
	if err != nil {
		return unavailable("advance", err)
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Seen implements State.
func (r *RedisState) Seen(ctx context.Context, integration string, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	vals, err := r.client.HMGet(ctx, r.key("seen", integration), keys...).Result()
	if err != nil {
		return nil, unavailable("seen", err)
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[keys[i]] = s
		}
	}
	return out, nil
}

// Remember implements State.
func (r *RedisState) Remember(ctx context.Context, l Lease, fps map[string]string) error {
	if len(fps) == 0 {
		return nil
	}
	args := make([]any, 0, 1+2*len(fps))
	args = append(args, leaseValue(l))
	for k, v := range fps {
		args = append(args, k, v)
	}
	n, err := rememberScript.Run(ctx, r.client,
		[]string{r.key("lease", l.Integration), r.key("seen", l.Integration)}, args...).Int()
	if err != nil {
		return unavailable("remember", err)
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Record implements State.
func (r *RedisState) Record(ctx context.Context, integration string, res Result) error {
	at := strconv.FormatInt(res.At.UnixMilli(), 10)
	var vals []any
	if res.Err == "" {
		vals = []any{"last_success", at, "last_error", "", "last_events", res.Events}
	} else {
		vals = []any{"last_error", res.Err, "last_error_at", at}
	}
	if err := r.client.HSet(ctx, r.key("status", integration), vals...).Err(); err != nil {
		return unavailable("record", err)
	}
	return nil
}

// Status implements State in one round trip.
func (r *RedisState) Status(ctx context.Context, integration string) (Stored, error) {
	var (
		cursor, lease *redis.StringCmd
		fields        *redis.MapStringStringCmd
	)
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		cursor = p.Get(ctx, r.key("cursor", integration))
		lease = p.Get(ctx, r.key("lease", integration))
		fields = p.HGetAll(ctx, r.key("status", integration))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Stored{}, unavailable("status", err)
	}
	if err := fields.Err(); err != nil {
		return Stored{}, unavailable("status", err)
	}
	var s Stored
	if v, err := cursor.Result(); err == nil {
		s.Cursor = parseMillis(v)
	}
	if v, err := lease.Result(); err == nil {
		if l, ok := parseLease(integration, v); ok {
			s.LeaseHolder, s.LeaseToken = l.Holder, l.Token
		}
	}
	f := fields.Val()
	s.LastSuccess = parseMillis(f["last_success"])
	s.LastError = f["last_error"]
	s.LastErrorAt = parseMillis(f["last_error_at"])
	s.LastEvents, _ = strconv.Atoi(f["last_events"])
	return s, nil
}

// parseMillis reads unix milliseconds; anything else is the zero time.
func parseMillis(v string) time.Time {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

var _ State = (*RedisState)(nil)
