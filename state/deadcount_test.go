package state

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// deadLetterCounter is what the metrics read from both stores.
type deadLetterCounter interface {
	Outbox
	DeadLetterCount(ctx context.Context) (int, error)
}

// testDeadLetterCount: the count follows Dead, a second Dead of the same
// event, and Redrive.
func testDeadLetterCount(t *testing.T, o deadLetterCounter, d Deliveries) {
	ctx := context.Background()
	countIs := func(want int) {
		t.Helper()
		n, err := o.DeadLetterCount(ctx)
		if err != nil || n != want {
			t.Fatalf("DeadLetterCount = %d, %v; want %d", n, err, want)
		}
	}
	countIs(0)
	if _, err := d.Commit(ctx, delivery("demo", "dead-count", 3)); err != nil {
		t.Fatal(err)
	}
	ps, err := o.Next(ctx, "w1", 10, 0, time.Minute)
	if err != nil || len(ps) != 3 {
		t.Fatalf("Next = %d, %v", len(ps), err)
	}
	for _, p := range ps[:2] {
		if err := o.Dead(ctx, p, "400", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	countIs(2)
	if _, err := o.Redrive(ctx, []string{ps[0].Event.ID}); err != nil {
		t.Fatal(err)
	}
	countIs(1)
	if _, err := o.Redrive(ctx, nil); err != nil {
		t.Fatal(err)
	}
	countIs(0)
}

func TestMemoryDeadLetterCount(t *testing.T) {
	m := NewMemory(MemoryOptions{})
	testDeadLetterCount(t, m, m)
}

func TestRedisDeadLetterCount(t *testing.T) {
	r, _, _ := newTestRedis(t, nil)
	testDeadLetterCount(t, r, r)
}

// An unreachable Redis fails the count with ErrUnavailable.
func TestRedisDeadLetterCountUnavailable(t *testing.T) {
	c := redis.NewClient(&redis.Options{
		Addr:        fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		DialTimeout: 200 * time.Millisecond,
		MaxRetries:  -1,
	})
	defer c.Close()
	if _, err := NewRedis(c, RedisOptions{}).DeadLetterCount(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("DeadLetterCount on a closed port: %v", err)
	}
}
