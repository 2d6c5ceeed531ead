package limiter

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

func TestRedisConformance(t *testing.T) {
	c := testredis.Client(t)
	runConformance(t, func(t *testing.T, opts Options) Failures {
		opts.KeyPrefix = testredis.Prefix(t, c)
		return NewRedis(c, opts)
	})
}

// scanKeys lists every key under prefix.
func scanKeys(t *testing.T, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// The keys are exactly one hash per integration and window and one per
// window for unknown ids, with an address per field, and they expire
// shortly after their window ends.
func TestRedisKeysAndExpiry(t *testing.T) {
	c := testredis.Client(t)
	prefix := testredis.Prefix(t, c)
	r := NewRedis(c, Options{KeyPrefix: prefix})
	ctx := context.Background()
	const w = 400 * time.Millisecond
	// Far enough from a window's end that all adds land in one window.
	for {
		if _, end := windowOf(time.Now(), w); time.Until(end) > 250*time.Millisecond {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	startMs, _ := windowOf(time.Now(), w)
	for _, a := range []string{"192.0.2.1", "192.0.2.1", "2001:db8::1", "2001:db8::2"} {
		if _, err := r.Add(ctx, "gh-1", netip.MustParseAddr(a), w); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 { // five distinct unknown ids would be five requests: one hash
		if _, err := r.Add(ctx, Unknown, netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), w); err != nil {
			t.Fatal(err)
		}
	}
	s := strconv.FormatInt(startMs, 10)
	known, unknown := prefix+"{hg}:fail:gh-1:"+s, prefix+"{hg}:fail-unknown:"+s
	want := []string{known, unknown}
	slices.Sort(want)
	if got := scanKeys(t, c, prefix); !slices.Equal(got, want) {
		t.Fatalf("keys = %q, want %q", got, want)
	}
	fields, err := c.HGetAll(ctx, known).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 2 || fields["192.0.2.1"] != "2" || fields["2001:db8::/64"] != "2" {
		t.Errorf("%s = %v", known, fields)
	}
	if n, _ := c.HLen(ctx, unknown).Result(); n != 5 {
		t.Errorf("%s has %d fields, want 5", unknown, n)
	}
	for _, k := range []string{known, unknown} {
		pttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if pttl <= 0 || pttl > w+expirySlack {
			t.Errorf("PTTL %s = %v, want in (0, %v]", k, pttl, w+expirySlack)
		}
	}
	deadline := time.Now().Add(w + expirySlack + 2*time.Second)
	for len(scanKeys(t, c, prefix)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("keys did not expire: %q", scanKeys(t, c, prefix))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Past MaxAddrs, a hash stops growing: new addresses share the overflow
// field.
func TestRedisHashCapped(t *testing.T) {
	c := testredis.Client(t)
	prefix := testredis.Prefix(t, c)
	clock := &fakeClock{t: start}
	r := NewRedis(c, Options{KeyPrefix: prefix, MaxAddrs: 50, Now: clock.Now})
	ctx := context.Background()
	for i := range 500 {
		if _, err := r.Add(ctx, Unknown, netip.AddrFrom4([4]byte{10, 1, byte(i / 256), byte(i)}), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	keys := scanKeys(t, c, prefix)
	if len(keys) != 1 || !strings.Contains(keys[0], "{hg}:fail-unknown:") {
		t.Fatalf("keys = %q", keys)
	}
	fields, err := c.HGetAll(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 51 || fields[OverflowField] != "450" {
		t.Errorf("%d fields, overflow %q; want 51 and 450", len(fields), fields[OverflowField])
	}
}

// A Redis that does not answer is an error, not a zero count.
func TestRedisUnavailable(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	r := NewRedis(c, Options{})
	if _, err := r.Add(context.Background(), "gh", netip.MustParseAddr("192.0.2.1"), time.Minute); err == nil {
		t.Fatal("Add against a closed port succeeded")
	}
}
