package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// newTestRedis returns a Redis store under a fresh prefix, its client and
// prefix, deleting its keys when the test ends.
func newTestRedis(t testing.TB, now func() time.Time) (*Redis, redis.UniversalClient, string) {
	c := testredis.Client(t)
	prefix := testredis.Prefix(t, c)
	return NewRedis(c, RedisOptions{KeyPrefix: prefix, Now: now}), c, prefix
}

func TestRedisConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) *harness {
		var offset atomic.Int64
		now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		r, _, _ := newTestRedis(t, now)
		return &harness{
			d:       r,
			o:       r,
			now:     now,
			advance: func(d time.Duration) { offset.Add(int64(d)) },
			elapse:  time.Sleep,
		}
	})
}

// Every key lives under the prefix and the {hg} hash tag, so each script's
// keys share a cluster slot.
func TestRedisKeyLayout(t *testing.T) {
	ctx := context.Background()
	r, c, prefix := newTestRedis(t, nil)
	a := bodyMAC("demo-gh", "d1", "b1", 3)
	a.Events[2].Order = Order{Ticket: "SEC-1", At: time.Now()}
	if _, err := r.Commit(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := r.Reject(ctx, "demo-gh", AuditEntry{Signature: "invalid"}, 200); err != nil {
		t.Fatal(err)
	}
	ps, err := r.Next(ctx, "w1", 3, 0, time.Minute)
	if err != nil || len(ps) != 3 {
		t.Fatalf("Next = %d, %v", len(ps), err)
	}
	if err := r.Retry(ctx, ps[0], time.Now().Add(time.Hour), "503"); err != nil {
		t.Fatal(err)
	}
	if err := r.Dead(ctx, ps[1], "400", time.Now()); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		prefix + "{hg}:outbox":                 "stream",
		prefix + "{hg}:outbox:retry":           "zset",
		prefix + "{hg}:outbox:retry:age":       "zset",
		prefix + "{hg}:outbox:dead":            "hash",
		prefix + "{hg}:outbox:dead:failed":     "zset",
		prefix + "{hg}:audit:demo-gh:accepted": "list",
		prefix + "{hg}:audit:demo-gh:rejected": "list",
		prefix + "{hg}:dedupe:d1":              "string",
		prefix + "{hg}:dedupe:b1":              "string",
		prefix + "{hg}:order:demo-gh":          "hash",
	}
	for _, k := range keys {
		typ, ok := want[k]
		if !ok {
			t.Errorf("unexpected key %s", k)
			continue
		}
		if got := c.Type(ctx, k).Val(); got != typ {
			t.Errorf("%s is a %s, want %s", k, got, typ)
		}
		delete(want, k)
	}
	for k := range want {
		t.Errorf("missing key %s", k)
	}
}

// The dedupe mark carries the delivery's TTL.
func TestRedisDedupeTTL(t *testing.T) {
	ctx := context.Background()
	r, c, prefix := newTestRedis(t, nil)
	a := delivery("demo", "d1", 1)
	a.DedupeTTL = 72 * time.Hour
	if _, err := r.Commit(ctx, a); err != nil {
		t.Fatal(err)
	}
	ttl := c.PTTL(ctx, prefix+"{hg}:dedupe:d1").Val()
	if ttl <= 72*time.Hour-time.Minute || ttl > 72*time.Hour {
		t.Errorf("PTTL %v, want about 72h", ttl)
	}
	m := bodyMAC("demo", "m1", "b1", 0)
	if o, err := r.Claim(ctx, m, "tok", 30*time.Second); err != nil || o != Claimed {
		t.Fatal(o, err)
	}
	for _, k := range []string{"m1", "b1"} {
		if ttl := c.PTTL(ctx, prefix+"{hg}:dedupe:"+k).Val(); ttl <= 20*time.Second || ttl > 30*time.Second {
			t.Errorf("claim PTTL of %s %v, want about the 30s lease", k, ttl)
		}
	}
	m.DedupeTTL = 90 * time.Second
	if err := r.Finish(ctx, m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"m1", "b1"} {
		if ttl := c.PTTL(ctx, prefix+"{hg}:dedupe:"+k).Val(); ttl <= 80*time.Second || ttl > 90*time.Second {
			t.Errorf("Finish PTTL of %s %v, want about 90s", k, ttl)
		}
	}
}

// A blocked Next wakes for a retry falling due, not only for new events.
func TestRedisNextWakesForDueRetry(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newTestRedis(t, nil)
	if _, err := r.Commit(ctx, delivery("demo", "d", 1)); err != nil {
		t.Fatal(err)
	}
	ps, err := r.Next(ctx, "w1", 1, 0, time.Minute)
	if err != nil || len(ps) != 1 {
		t.Fatalf("Next = %v, %v", ps, err)
	}
	if err := r.Retry(ctx, ps[0], time.Now().Add(300*time.Millisecond), "503"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ps, err = r.Next(ctx, "w1", 1, 5*time.Second, time.Minute)
	if err != nil || len(ps) != 1 || ps[0].Attempts != 1 {
		t.Fatalf("Next = %+v, %v", ps, err)
	}
	if el := time.Since(start); el < 250*time.Millisecond || el > 2*time.Second {
		t.Errorf("woke after %v, want about 300ms", el)
	}
	// An idle blocking Next returns empty after block.
	start = time.Now()
	if ps, err := r.Next(ctx, "w1", 1, 200*time.Millisecond, time.Minute); err != nil || len(ps) != 0 {
		t.Fatalf("idle Next = %v, %v", ps, err)
	}
	if el := time.Since(start); el < 150*time.Millisecond || el > 2*time.Second {
		t.Errorf("idle Next returned after %v, want about 200ms", el)
	}
}

// If the stream (and its consumer group) disappears, Next creates the
// group again and delivers what was committed since.
func TestRedisGroupRecreated(t *testing.T) {
	ctx := context.Background()
	r, c, prefix := newTestRedis(t, nil)
	if ps, err := r.Next(ctx, "w1", 1, 0, time.Minute); err != nil || len(ps) != 0 {
		t.Fatalf("Next = %v, %v", ps, err)
	}
	if err := c.Del(ctx, prefix+"{hg}:outbox").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(ctx, delivery("demo", "d", 2)); err != nil {
		t.Fatal(err)
	}
	ps, err := r.Next(ctx, "w1", 5, 0, time.Minute)
	if err != nil || len(ps) != 2 {
		t.Fatalf("Next after the stream went away = %v, %v", eventIDs(ps), err)
	}
}

// Many dead letters redrive in batches, all of them.
func TestRedisRedriveAllBatches(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newTestRedis(t, nil)
	const n = redriveBatch + 37
	for i := range n / 10 {
		if _, err := r.Commit(ctx, delivery("demo", fmt.Sprintf("d%03d", i), 10)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Commit(ctx, delivery("demo", "rest", n%10)); err != nil {
		t.Fatal(err)
	}
	for {
		ps, err := r.Next(ctx, "w1", 100, 0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			if err := r.Dead(ctx, p, "400", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	moved, err := r.Redrive(ctx, nil)
	if err != nil || moved != n {
		t.Fatalf("Redrive(all) = %d, %v; want %d", moved, err, n)
	}
	if l, _, _ := r.Stats(ctx); l != n {
		t.Errorf("outbox length %d after redrive, want %d", l, n)
	}
}

// Failures to reach Redis match ErrUnavailable and come back quickly.
func TestRedisUnavailable(t *testing.T) {
	port := freePort(t)
	c := redis.NewClient(&redis.Options{
		Addr:          fmt.Sprintf("127.0.0.1:%d", port),
		DialTimeout:   200 * time.Millisecond,
		ReadTimeout:   200 * time.Millisecond,
		WriteTimeout:  200 * time.Millisecond,
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	defer c.Close()
	r := NewRedis(c, RedisOptions{})
	checkUnavailable(t, r)
}

// checkUnavailable calls every method of r, which must fail fast with
// ErrUnavailable and without event bodies in the message.
func checkUnavailable(t *testing.T, r *Redis) {
	t.Helper()
	ctx := context.Background()
	a := delivery("demo", "d", 3)
	secret := "BODY-MARKER-must-not-leak"
	a.Events[0].Body = []byte(`{"x":"` + secret + `"}`)
	p := Pending{StreamID: "1-0", Event: a.Events[0]}
	calls := map[string]func() error{
		"Ping":    func() error { return r.Ping(ctx) },
		"Commit":  func() error { _, err := r.Commit(ctx, a); return err },
		"Seen":    func() error { _, err := r.Seen(ctx, "d"); return err },
		"Claim":   func() error { _, err := r.Claim(ctx, a, "tok", time.Minute); return err },
		"Finish":  func() error { return r.Finish(ctx, a) },
		"Release": func() error { return r.Release(ctx, a, "tok") },
		"Reject":  func() error { return r.Reject(ctx, "demo", AuditEntry{}, 200) },
		"Audit":   func() error { _, _, err := r.Audit(ctx, "demo"); return err },
		"Next": func() error {
			_, err := r.Next(ctx, "w1", 1, 100*time.Millisecond, time.Minute)
			return err
		},
		"Done":        func() error { return r.Done(ctx, p) },
		"Retry":       func() error { return r.Retry(ctx, p, time.Now(), "503") },
		"Dead":        func() error { return r.Dead(ctx, p, "400", time.Now()) },
		"DeadLetters": func() error { _, err := r.DeadLetters(ctx, 10); return err },
		"Redrive":     func() error { _, err := r.Redrive(ctx, nil); return err },
		"Stats":       func() error { _, _, err := r.Stats(ctx); return err },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
			continue
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s took %v to fail", name, el)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s error carries the event body: %v", name, err)
		}
	}
}

func benchDelivery() Accepted {
	a := delivery("demo-gh", "", 3)
	for i := range a.Events {
		a.Events[i].Body = []byte(fmt.Sprintf(`{"id":"%s","type":"ci.push","occurred_at":"2026-03-01T12:00:00Z",`+
			`"source":{"vendor":"github","integration":"demo-gh","event":"push","delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","via":"webhook","signature":"valid","received_at":"2026-03-01T12:00:01Z"},`+
			`"ci":{"repository":"org/repo","branch":"main","commit":"9049f1265b7d61be4a8904a9a27120d2064dab3b","actor":"octocat","url":"https://github.com/org/repo/commit/9049f1265b7d61be4a8904a9a27120d2064dab3b"}}`,
			a.Events[i].ID))
	}
	a.DedupeTTL = time.Minute
	return a
}

func benchKey(i int) string { return fmt.Sprintf("bench-%d", i) }

// BenchmarkRedisCommit commits an accepted delivery of three events, one
// round trip each.
func BenchmarkRedisCommit(b *testing.B) {
	r, _, _ := newTestRedis(b, nil)
	ctx := context.Background()
	a := benchDelivery()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.DedupeKey = benchKey(i)
		if dup, err := r.Commit(ctx, a); err != nil || dup != Committed {
			b.Fatal(dup, err)
		}
	}
}

// BenchmarkRedisCommitParallel is the same from many goroutines, as
// concurrent requests commit.
func BenchmarkRedisCommitParallel(b *testing.B) {
	r, _, _ := newTestRedis(b, nil)
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		a := benchDelivery()
		for pb.Next() {
			a.DedupeKey = benchKey(int(n.Add(1)))
			if _, err := r.Commit(ctx, a); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
