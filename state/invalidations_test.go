package state

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// testInvalidations publishes through one handle and checks that two
// subscribers each get every id, in order.
func testInvalidations(t *testing.T, pub Invalidations, subs ...Invalidations) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make([]chan string, len(subs))
	for i, s := range subs {
		got[i] = make(chan string, 16)
		go s.Subscribe(ctx, InvalidationHandler{ID: func(id string) { got[i] <- id }})
	}
	// A subscription takes a moment to be confirmed; publish until the
	// first id arrives everywhere, then the rest.
	deadline := time.Now().Add(5 * time.Second)
	for i := range subs {
		for {
			if err := pub.Publish(ctx, "warmup"); err != nil {
				t.Fatal(err)
			}
			select {
			case id := <-got[i]:
				if id != "warmup" {
					t.Fatalf("subscriber %d got %q first", i, id)
				}
			case <-time.After(50 * time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatalf("subscriber %d never got an id", i)
				}
				continue
			}
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // let the warmups still in flight arrive
	for i := range subs {
		for len(got[i]) > 0 {
			<-got[i]
		}
	}
	for _, id := range []string{"gh-1", "jira-2"} {
		if err := pub.Publish(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for i := range subs {
		for _, want := range []string{"gh-1", "jira-2"} {
			select {
			case id := <-got[i]:
				if id != want {
					t.Fatalf("subscriber %d got %q, want %q", i, id, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("subscriber %d did not get %q", i, want)
			}
		}
	}
}

func TestMemoryInvalidations(t *testing.T) {
	m := new(MemoryInvalidations)
	testInvalidations(t, m, m, m)
	testReadInvalidations(t, m, m)
}

func TestRedisInvalidations(t *testing.T) {
	c := testredis.Client(t)
	keys := NewKeys(testredis.Prefix(t, c))
	testInvalidations(t, NewRedisInvalidations(c, keys), NewRedisInvalidations(c, keys), NewRedisInvalidations(c, keys))
	testReadInvalidations(t, NewRedisInvalidations(c, keys), NewRedisInvalidations(c, keys))
}

// testReadInvalidations: an id published with the version read reaches
// Read with that version, a bare id reaches ID, and a subscriber without
// Read gets the id of a read message as a plain invalidation.
func testReadInvalidations(t *testing.T, pub, sub Invalidations) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type msg struct {
		how, id string
		version int
	}
	withRead, withoutRead := make(chan msg, 64), make(chan msg, 64)
	go sub.Subscribe(ctx, InvalidationHandler{
		ID:   func(id string) { withRead <- msg{"id", id, 0} },
		Read: func(id string, v int) { withRead <- msg{"read", id, v} },
	})
	go sub.Subscribe(ctx, InvalidationHandler{ID: func(id string) { withoutRead <- msg{"id", id, 0} }})
	// Wait until both subscriptions are confirmed.
	deadline := time.Now().Add(5 * time.Second)
	for len(withRead) == 0 || len(withoutRead) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the subscribers never got the warmup")
		}
		if err := pub.Publish(ctx, "warmup"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	for _, ch := range []chan msg{withRead, withoutRead} {
		for len(ch) > 0 {
			<-ch
		}
	}
	if err := pub.PublishRead(ctx, "gh-1", 7); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, "jira-2"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ch   chan msg
		want []msg
	}{
		{withRead, []msg{{"read", "gh-1", 7}, {"id", "jira-2", 0}}},
		{withoutRead, []msg{{"id", "gh-1", 0}, {"id", "jira-2", 0}}},
	} {
		for _, want := range c.want {
			select {
			case got := <-c.ch:
				if got != want {
					t.Fatalf("got %+v, want %+v", got, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("did not get %+v", want)
			}
		}
	}
}

// TestKeysStartWithThePrefix: every name Keys gives starts with the
// prefix, the default one when none is configured, and shares one hash
// tag.
func TestKeysStartWithThePrefix(t *testing.T) {
	for _, prefix := range []string{"", "tenant-a:"} {
		k := NewKeys(prefix)
		want := prefix
		if want == "" {
			want = DefaultKeyPrefix
		}
		for _, name := range []string{k.Outbox(), k.OutboxRetry(), k.OutboxRetryAge(), k.OutboxDead(), k.OutboxDeadFailed(),
			k.Audit("gh", "accepted"), k.Dedupe("x"), k.AdminAudit(), k.Invalidate(), k.Failures("gh", 1), k.Failures("", 1), k.Poll("lease", "jira")} {
			if len(name) < len(want)+len(hashTag) || name[:len(want)] != want || name[len(want):len(want)+len(hashTag)] != hashTag {
				t.Errorf("key %q does not start with %q%s", name, want, hashTag)
			}
		}
	}
}
