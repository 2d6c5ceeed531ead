package state

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	// The tests that stop Redis on purpose would fill the output with the
	// client's dial failures.
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// freePort returns a TCP port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedisServer runs a redis-server of its own that fsyncs every write
// to its append-only file in dir, and waits until it answers.
func startRedisServer(t *testing.T, port int, dir string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not installed (run `make redis`): %v", err)
	}
	cmd := exec.Command(bin,
		"--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--appendonly", "yes", "--appendfsync", "always",
		"--dir", dir, "--save", "",
		"--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not come up: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill9 ends the server the way a crash or power cut would.
func kill9(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// A committed delivery survives Redis being killed and restarted: events,
// audit entry and dedupe mark, and the events are still delivered, the one
// in flight at the crash included. While Redis is down every call fails
// fast with ErrUnavailable.
func TestRedisDurability(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	port := freePort(t)
	srv := startRedisServer(t, port, dir)

	c := redis.NewClient(&redis.Options{
		Addr:          fmt.Sprintf("127.0.0.1:%d", port),
		DialTimeout:   300 * time.Millisecond,
		ReadTimeout:   300 * time.Millisecond,
		WriteTimeout:  300 * time.Millisecond,
		MaxRetries:    1,
		DialerRetries: 1,
	})
	defer c.Close()
	r := NewRedis(c, RedisOptions{KeyPrefix: "durable:"})

	a, b := delivery("demo-gh", "d1", 3), delivery("demo-gh", "d2", 3)
	for _, x := range []Accepted{a, b} {
		if o, err := r.Commit(ctx, x); err != nil || o != Committed {
			t.Fatalf("Commit = %v, %v", o, err)
		}
	}
	// One event delivered, one in flight when Redis dies.
	ps, err := r.Next(ctx, "before", 2, 0, time.Minute)
	if err != nil || len(ps) != 2 {
		t.Fatalf("Next = %v, %v", ps, err)
	}
	if err := r.Done(ctx, ps[0]); err != nil {
		t.Fatal(err)
	}

	kill9(t, srv)

	checkUnavailable(t, r)

	startRedisServer(t, port, dir)
	// The client's pool, after failing to dial, retries in the background
	// about once a second: wait for it to notice Redis is back.
	for deadline := time.Now().Add(5 * time.Second); r.Ping(ctx) != nil; {
		if time.Now().After(deadline) {
			t.Fatalf("client did not reconnect: %v", r.Ping(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}

	if o, err := r.Commit(ctx, a); err != nil || o != Duplicate {
		t.Errorf("Commit of d1 after restart = %v, %v; want duplicate (mark lost?)", o, err)
	}
	acc, _, err := r.Audit(ctx, "demo-gh")
	if err != nil || len(acc) != 3 {
		t.Errorf("audit after restart: %d entries, %v; want 3", len(acc), err)
	}
	if n, _, err := r.Stats(ctx); err != nil || n != 5 {
		t.Errorf("Stats after restart = %d, %v; want 5", n, err)
	}
	var got []string
	bodies := map[string]string{}
	for _, x := range []Accepted{a, b} {
		for _, e := range x.Events {
			bodies[e.ID] = string(e.Body)
		}
	}
	time.Sleep(20 * time.Millisecond)
	for range 10 {
		ps, err := r.Next(ctx, "after", 10, 0, 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			got = append(got, p.Event.ID)
			if string(p.Event.Body) != bodies[p.Event.ID] {
				t.Errorf("%s body changed: %s", p.Event.ID, p.Event.Body)
			}
			if err := r.Done(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) >= 5 {
			break
		}
	}
	slices.Sort(got)
	if want := []string{"d1-1", "d1-2", "d2-0", "d2-1", "d2-2"}; !slices.Equal(got, want) {
		t.Errorf("delivered after restart %v, want %v", got, want)
	}
}

// TestRedisDownCommitFast: a stopped Redis turns Commit into
// ErrUnavailable within the client's timeouts.
func TestRedisDownCommitFast(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	srv := startRedisServer(t, port, dir)
	c := redis.NewClient(&redis.Options{
		Addr:          fmt.Sprintf("127.0.0.1:%d", port),
		DialTimeout:   200 * time.Millisecond,
		ReadTimeout:   200 * time.Millisecond,
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	defer c.Close()
	r := NewRedis(c, RedisOptions{})
	ctx := context.Background()
	if _, err := r.Commit(ctx, delivery("demo", "d", 1)); err != nil {
		t.Fatal(err)
	}
	kill9(t, srv)
	start := time.Now()
	_, err := r.Commit(ctx, delivery("demo", "e", 1))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Commit with Redis down: %v, want ErrUnavailable", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("Commit took %v to fail", el)
	}
}
