// Package testredis gives end-to-end tests a real Redis: the shared server
// (HOOKGATE_REDIS, default 127.0.0.1:6379) with a key prefix of their own,
// or a private redis-server process with an append-only file that can be
// stopped and restarted on the same port and data directory.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options are the shared Redis's client options: HOOKGATE_REDIS as
// host:port or a redis:// URL, default 127.0.0.1:6379.
func Options(t testing.TB) *redis.UniversalOptions {
	t.Helper()
	addr := os.Getenv("HOOKGATE_REDIS")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	if strings.Contains(addr, "://") {
		o, err := redis.ParseURL(addr)
		if err != nil {
			t.Fatalf("HOOKGATE_REDIS: %v", err)
		}
		return &redis.UniversalOptions{Addrs: []string{o.Addr}, Username: o.Username, Password: o.Password, DB: o.DB}
	}
	return &redis.UniversalOptions{Addrs: []string{addr}}
}

// Client connects to the shared Redis and closes the client when the test
// ends. The test fails, never skips, when that Redis does not answer.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	opts := Options(t)
	c := redis.NewUniversalClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("testredis: no Redis at %v (make test starts one, or set HOOKGATE_REDIS): %v", opts.Addrs, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// NewPrefix is a key prefix no other test run uses.
func NewPrefix() string { return "hgtest-" + randomHex(8) + ":" }

// Prefix is a fresh key prefix whose keys are deleted from c when the test
// ends (before c is closed, when c came from Client).
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	prefix := NewPrefix()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
			if err != nil {
				t.Errorf("testredis: cleaning up %s: %v", prefix, err)
				return
			}
			if len(keys) > 0 {
				if err := c.Del(ctx, keys...).Err(); err != nil {
					t.Errorf("testredis: cleaning up %s: %v", prefix, err)
					return
				}
			}
			if cursor = next; cursor == 0 {
				return
			}
		}
	})
	return prefix
}

// Shared returns the address of the shared Redis and a fresh key prefix
// whose keys are deleted when the test ends, for a Caddy process the test
// starts on it.
func Shared(t testing.TB) (addr, prefix string) {
	t.Helper()
	c := Client(t)
	return Options(t).Addrs[0], Prefix(t, c)
}

// Server is a private redis-server process.
type Server struct {
	Addr string
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs redis-server on a free loopback port with an append-only file
// fsynced on every write in a temporary directory, and stops it when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("testredis: redis-server not installed (make test installs it): %v", err)
	}
	s := &Server{port: freePort(t), dir: t.TempDir()}
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.port)
	s.start(t)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--logfile", filepath.Join(s.dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	for i := 0; i < 200; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	t.Fatalf("testredis: redis-server did not answer on %s\n%s", s.Addr, log)
}

// Stop kills the server (as a crash would); its append-only file stays.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port and data directory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.start(t)
}

// Client is a client for the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("testredis: %v", err))
	}
	return hex.EncodeToString(b)
}
