package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// steadyResult is what one steady-rate run saw.
type steadyResult struct {
	counts
	accepted       float64 // deliveries answered 2xx, not as duplicates
	endLen, maxLen int     // outbox length when the run ended, and the largest seen
}

// steadyLoad offers rate deliveries per second for dur from 64 senders
// with keep-alive connections, each delivery of its own (id, body with a
// unique head commit and pushed_at = now, signature: see load.go), and
// samples the outbox length every 100ms.
func steadyLoad(url string, p *pushTemplate, rate int, dur time.Duration, rdb *redis.Client, prefix string) steadyResult {
	run := runSeq.Add(1)
	tokens := make(chan int, rate)
	var (
		mu    sync.Mutex
		total counts
		wg    sync.WaitGroup
	)
	for i := range 64 {
		wg.Go(func() {
			c := newPoster(url)
			defer c.close()
			var n counts
			id := make([]byte, 0, 40)
			for seq := range tokens {
				id = appendID(id[:0], run, i, uint64(seq))
				n.add(c.post(p, id))
			}
			mu.Lock()
			total.merge(n)
			mu.Unlock()
		})
	}
	var res steadyResult
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	sample := time.NewTicker(100 * time.Millisecond)
	sent := 0
	for now := start; now.Sub(start) < dur; {
		select {
		case now = <-tick.C:
			for due := int(float64(rate) * now.Sub(start).Seconds()); sent < due; sent++ {
				select {
				case tokens <- sent:
				default: // the senders fell behind: the offered rate is not met
				}
			}
		case <-sample.C:
			if n, err := outboxLen(rdb, prefix); err == nil {
				res.maxLen = max(res.maxLen, n)
			}
		}
	}
	tick.Stop()
	sample.Stop()
	close(tokens)
	wg.Wait()
	res.counts = total
	res.accepted = float64(total.accepted)
	res.endLen, _ = outboxLen(rdb, prefix)
	res.maxLen = max(res.maxLen, res.endLen)
	return res
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for pid %d", pid)
}

// outboxLen is what the forward instance still has to deliver.
func outboxLen(rdb *redis.Client, prefix string) (int, error) {
	ctx := context.Background()
	n, err := rdb.XLen(ctx, prefix+"{hg}:outbox").Result()
	if err != nil && err != redis.Nil {
		return 0, err
	}
	r, err := rdb.ZCard(ctx, prefix+"{hg}:outbox:retry").Result()
	if err != nil && err != redis.Nil {
		return 0, err
	}
	return int(n + r), nil
}

// waitDrained waits until the forward instance's outbox is empty and
// returns when it was.
func waitDrained(rdb *redis.Client, prefix string, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		n, err := outboxLen(rdb, prefix)
		if err != nil {
			return time.Time{}, err
		}
		if n == 0 {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("outbox not drained after %s: %d left", limit, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cleanupRedis(rdb *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}
