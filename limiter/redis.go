package limiter

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/state"
)

// Redis counts failures in Redis (single node, cluster or sentinel), one
// round trip per Add, so that every instance on the same Redis and key
// prefix agrees. Its keys are state.Keys.Failures: one hash per known
// integration and window, and one per window for every id that names no
// known integration, fields by client address.
//
// A hash holds at most MaxAddrs address fields plus OverflowField, and
// expires a second after its window ends. Nothing is ever keyed by an
// unknown id or by a caller. Every key shares hookgate's {hg} hash tag.
type Redis struct {
	client   redis.UniversalClient
	keys     state.Keys
	maxAddrs string
	now      func() time.Time
}

// NewRedis returns a counter kept in client. It does no I/O.
func NewRedis(client redis.UniversalClient, opts Options) *Redis {
	opts.defaults()
	return &Redis{
		client:   client,
		keys:     state.NewKeys(opts.KeyPrefix),
		maxAddrs: strconv.Itoa(opts.MaxAddrs),
		now:      opts.Now,
	}
}

// addScript counts one failure.
//
// KEYS: the window's hash
// ARGV: address field, most address fields, time to live in ms
// Returns the field's count after the increment.
var addScript = redis.NewScript(`
local f = ARGV[1]
if redis.call('HEXISTS', KEYS[1], f) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) then
  f = '` + OverflowField + `'
end
local n = redis.call('HINCRBY', KEYS[1], f, 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n
`)

// key names the hash of scope's window starting at startMs.
func (r *Redis) key(scope string, startMs int64) string { return r.keys.Failures(scope, startMs) }

// Add implements Failures. A Redis failure is returned wrapped; the
// caller decides whether to fail open.
func (r *Redis) Add(ctx context.Context, scope string, addr netip.Addr, window time.Duration) (Tally, error) {
	if err := check(scope, window); err != nil {
		return Tally{}, err
	}
	now := r.now()
	start, end := windowOf(now, window)
	ttl := end.Sub(now) + expirySlack
	n, err := addScript.Run(ctx, r.client, []string{r.key(scope, start)},
		Key(addr), r.maxAddrs, strconv.FormatInt(ttl.Milliseconds(), 10)).Int64()
	if err != nil {
		return Tally{}, fmt.Errorf("limiter: redis: counting a failure: %w", err)
	}
	return Tally{Count: n, End: end}, nil
}

var _ Failures = (*Redis)(nil)
