package state

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// startRedisCluster runs a three-master Redis Cluster of its own and
// returns its node addresses.
func startRedisCluster(t *testing.T) []string {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli not installed (run `make redis`): %v", err)
	}
	var addrs []string
	for range 3 {
		port := freePort(t)
		dir := t.TempDir()
		cmd := exec.Command("redis-server",
			"--port", fmt.Sprint(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--dir", dir, "--save", "", "--appendonly", "no",
			"--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		waitPing(t, addr)
		addrs = append(addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		ok := true
		for _, a := range addrs {
			out, _ := exec.Command(cli, "-u", "redis://"+a, "cluster", "info").Output()
			ok = ok && strings.Contains(string(out), "cluster_state:ok")
		}
		if ok {
			return addrs
		}
		if time.Now().After(deadline) {
			t.Fatal("cluster did not reach cluster_state:ok")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitPing(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server at %s did not come up: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The whole suite passes on a Redis Cluster: every script's keys share the
// {hg} slot, so no command fails with CROSSSLOT.
func TestRedisClusterConformance(t *testing.T) {
	addrs := startRedisCluster(t)
	runConformance(t, func(t *testing.T) *harness {
		c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: addrs})
		if _, ok := c.(*redis.ClusterClient); !ok {
			t.Fatalf("client for %v is a %T, not a cluster client", addrs, c)
		}
		t.Cleanup(func() { c.Close() })
		var offset atomic.Int64
		now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		r := NewRedis(c, RedisOptions{KeyPrefix: testredis.NewPrefix(), Now: now})
		return &harness{
			d:       r,
			o:       r,
			now:     now,
			advance: func(d time.Duration) { offset.Add(int64(d)) },
			elapse:  time.Sleep,
		}
	})
}
