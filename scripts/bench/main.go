// Command bench measures Caddy with hookgate against the same Caddy
// proxying without it, in one run on one machine. One Caddy process serves
// a plain reverse_proxy site and a gate site (hookgate, then the same
// reverse_proxy) to one trivial backend; a second Caddy process runs
// hookgate in forward mode (verify, normalize, one Redis round trip, 202)
// with its outbox delivering to a trivial finding service. wrk posts
// signed GitHub pushes of several sizes, each request with a delivery id
// of its own (so dedupe never short-cuts the work), to each in turn. It
// prints markdown tables of requests per second, p50 and p99 latency, the
// ratios against the plain proxy, and how fast the outbox drained.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

func main() {
	caddyBin := flag.String("caddy", "bin/caddy", "Caddy binary with hookgate")
	duration := flag.Duration("duration", 8*time.Second, "wrk duration per measurement")
	conns := flag.Int("connections", 32, "wrk connections")
	rounds := flag.Int("rounds", 2, "alternating rounds per size and mode")
	sizes := flag.String("sizes", "1024,8192,65536,1048576", "body sizes in bytes")
	flag.Parse()
	if err := run(*caddyBin, *duration, *conns, *rounds, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

const secret = "bench-secret-0123456789abcdef"

func run(caddyBin string, dur time.Duration, conns, rounds int, sizeList string) error {
	dir, err := os.MkdirTemp("", "hookgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		_ = http.Serve(backend, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = bytes.NewBuffer(nil).ReadFrom(r.Body)
			w.WriteHeader(http.StatusOK)
		}))
	}()
	var delivered atomic.Int64
	findings, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		_ = http.Serve(findings, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = bytes.NewBuffer(nil).ReadFrom(r.Body)
			delivered.Add(1)
			w.WriteHeader(http.StatusOK)
		}))
	}()
	redisAddr := os.Getenv("HOOKGATE_REDIS")
	if redisAddr == "" {
		redisAddr = "127.0.0.1:6379"
	}
	prefix := fmt.Sprintf("hgbench-%d:", time.Now().UnixNano())
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	defer cleanupRedis(rdb, prefix)

	admin, proxyPort, gatePort := freePort(), freePort(), freePort()
	fwdAdmin, fwdPort := freePort(), freePort()
	caddyfile := fmt.Sprintf(`{
	admin 127.0.0.1:%d
	auto_https off
	persist_config off
	log default {
		level ERROR
	}
	hookgate {
		max_body 2MiB
		integration bench-gh {
			vendor github
			secret %s
		}
	}
}
:%d {
	reverse_proxy %s
}
:%d {
	route /webhooks/* {
		hookgate
		reverse_proxy %s
	}
}
`, admin, secret, proxyPort, backend.Addr(), gatePort, backend.Addr())
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(caddyfile), 0o600); err != nil {
		return err
	}
	fwdCaddyfile := fmt.Sprintf(`{
	admin 127.0.0.1:%d
	auto_https off
	persist_config off
	log default {
		level ERROR
	}
	hookgate {
		max_body 2MiB
		redis {
			address    %s
			key_prefix %s
		}
		upstream http://%s/v1/events
		integration bench-gh {
			vendor github
			secret %s
		}
	}
}
:%d {
	route /webhooks/* {
		hookgate
		respond 202
	}
}
`, fwdAdmin, redisAddr, prefix, findings.Addr(), secret, fwdPort)
	fwdCfg := filepath.Join(dir, "Caddyfile.forward")
	if err := os.WriteFile(fwdCfg, []byte(fwdCaddyfile), 0o600); err != nil {
		return err
	}
	startCaddy := func(config string, ports ...int) (stop func(), pid int, err error) {
		caddy := exec.Command(caddyBin, "run", "--config", config, "--adapter", "caddyfile")
		caddy.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
		if err := caddy.Start(); err != nil {
			return nil, 0, err
		}
		stop = func() { _ = caddy.Process.Kill(); _, _ = caddy.Process.Wait() }
		for _, p := range ports {
			if err := waitPort(p); err != nil {
				stop()
				return nil, 0, err
			}
		}
		return stop, caddy.Process.Pid, nil
	}
	stopGate, _, err := startCaddy(cfg, admin, proxyPort, gatePort)
	if err != nil {
		return err
	}
	defer stopGate()
	stopFwd, _, err := startCaddy(fwdCfg, fwdAdmin, fwdPort)
	if err != nil {
		return err
	}
	defer stopFwd()

	var drains []string
	fmt.Printf("| body | plain reverse_proxy req/s | gate req/s | gate/proxy | forward req/s | forward/proxy | p50 / p99 proxy | p50 / p99 gate | p50 / p99 forward |\n")
	fmt.Printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range strings.Split(sizeList, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		body := pushOfSize(size)
		h, _, err := verifiers.Sign(integrations.GitHub, integrations.SchemeHMAC, []byte(secret), body, time.Now(), "")
		if err != nil {
			return err
		}
		script, err := writeScript(dir, size)
		if err != nil {
			return err
		}
		// Check both paths answer 200 before measuring.
		for _, url := range []string{proxyURL(proxyPort), gateURL(gatePort)} {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("X-Hub-Signature-256", h.Get("X-Hub-Signature-256"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("%s answered %d before the run", url, resp.StatusCode)
			}
		}
		var proxy, gate, fwd []result
		for i := 0; i < rounds; i++ {
			p, err := wrk(script, proxyURL(proxyPort), dur, conns, fmt.Sprintf("p%d-%d", size, i))
			if err != nil {
				return err
			}
			g, err := wrk(script, gateURL(gatePort), dur, conns, fmt.Sprintf("g%d-%d", size, i))
			if err != nil {
				return err
			}
			before := delivered.Load()
			start := time.Now()
			fw, err := wrk(script, gateURL(fwdPort), dur, conns, fmt.Sprintf("f%d-%d", size, i))
			if err != nil {
				return err
			}
			runEnd := time.Now()
			queued, err := outboxLen(rdb, prefix)
			if err != nil {
				return err
			}
			drained, err := waitDrained(rdb, prefix, 5*time.Minute)
			if err != nil {
				return err
			}
			events := delivered.Load() - before
			drainRate := "—"
			if d := drained.Sub(runEnd).Seconds(); queued > 0 && d > 0 {
				drainRate = fmt.Sprintf("%.0f/s", float64(queued)/d)
			}
			drains = append(drains, fmt.Sprintf("| %s | %d | %d | %.0f/s | %.0f/s | %d | %s | %s |", human(size), fw.requests, events,
				2*float64(fw.requests)/runEnd.Sub(start).Seconds(), float64(events-int64(queued))/runEnd.Sub(start).Seconds(),
				queued, drained.Sub(runEnd).Round(10*time.Millisecond), drainRate))
			proxy, gate, fwd = append(proxy, p), append(gate, g), append(fwd, fw)
		}
		mp, mg, mf := median(proxy), median(gate), median(fwd)
		fmt.Printf("| %s | %.0f | %.0f | %.2f× | %.0f | %.2f× | %s / %s | %s / %s | %s / %s |\n", human(size), mp.rps, mg.rps, ratio(gate, proxy),
			mf.rps, ratio(fwd, proxy), mp.p50, mp.p99, mg.p50, mg.p99, mf.p50, mf.p99)
	}
	fmt.Printf("\nOutbox drain in forward mode (each delivery yields ci.push and runbook.trigger):\n\n")
	fmt.Printf("| body | deliveries accepted | events delivered | events in, during the run | events out, during the run | queued when wrk stopped | drain time | drain rate, no load |\n")
	fmt.Printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, d := range drains {
		fmt.Println(d)
	}

	// Steady load: deliveries at a fixed rate (open loop, not as fast as
	// possible), to find the rates the outbox keeps up with: its length
	// stays flat while events arrive, instead of growing.
	fmt.Printf("\nForward mode at a steady rate (8 KiB pushes, each yielding 2 events; %s per rate):\n\n", dur)
	fmt.Printf("| deliveries/s offered | accepted/s | events in/s | events out/s | outbox at the end | largest outbox seen | keeps up |\n")
	fmt.Printf("| --- | --- | --- | --- | --- | --- | --- |\n")
	if _, err := waitDrained(rdb, prefix, 5*time.Minute); err != nil {
		return err
	}
	steadyBody := pushOfSize(8 << 10)
	sh, _, err := verifiers.Sign(integrations.GitHub, integrations.SchemeHMAC, []byte(secret), steadyBody, time.Now(), "")
	if err != nil {
		return err
	}
	for _, rate := range []int{1000, 2000, 3000, 4000} {
		before := delivered.Load()
		st := steadyLoad(gateURL(fwdPort), steadyBody, sh.Get("X-Hub-Signature-256"), rate, dur, rdb, prefix)
		out := delivered.Load() - before
		keeps := "yes"
		if st.endLen > 2*rate/10+64 { // more than ~0.1s of events left queued
			keeps = "no"
		}
		fmt.Printf("| %d | %.0f | %.0f | %.0f | %d | %d | %s |\n", rate, st.accepted/dur.Seconds(), 2*st.accepted/dur.Seconds(),
			float64(out)/dur.Seconds(), st.endLen, st.maxLen, keeps)
		if _, err := waitDrained(rdb, prefix, 5*time.Minute); err != nil {
			return err
		}
	}

	// Peak memory: 100 connections posting 1 MiB pushes to a Caddy process
	// started for this run alone, so its peak resident set (VmHWM) is its
	// own: its start plus this load, nothing left from earlier runs.
	stopGate()
	stopFwd()
	const memConns, memSize = 100, 1 << 20
	memScript, err := writeScript(dir, memSize)
	if err != nil {
		return err
	}
	fmt.Printf("\nPeak memory of Caddy under %d concurrent %s posts (a fresh Caddy process per mode, wrk -c%d for %s; peak resident set, VmHWM):\n\n", memConns, human(memSize), memConns, dur)
	fmt.Printf("| mode | requests | peak RSS | target |\n| --- | --- | --- | --- |\n")
	for _, m := range []struct {
		name, config, url string
		ports             []int
	}{
		{"plain reverse_proxy", cfg, proxyURL(proxyPort), []int{admin, proxyPort, gatePort}},
		{"gate", cfg, gateURL(gatePort), []int{admin, proxyPort, gatePort}},
		{"forward", fwdCfg, gateURL(fwdPort), []int{fwdAdmin, fwdPort}},
	} {
		stop, pid, err := startCaddy(m.config, m.ports...)
		if err != nil {
			return err
		}
		r, err := wrk(memScript, m.url, dur, memConns, "mem-"+m.name[:1])
		if err != nil {
			stop()
			return err
		}
		peak, err := peakRSS(pid)
		stop()
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %d | %.0f MiB | < 300 MiB |\n", m.name, r.requests, float64(peak)/(1<<20))
	}
	return nil
}

// writeScript writes a push of size bytes and the wrk script that posts
// it signed, each request with a delivery id of its own.
func writeScript(dir string, size int) (string, error) {
	body := pushOfSize(size)
	h, _, err := verifiers.Sign(integrations.GitHub, integrations.SchemeHMAC, []byte(secret), body, time.Now(), "")
	if err != nil {
		return "", err
	}
	bodyFile := filepath.Join(dir, fmt.Sprintf("body-%d.json", size))
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return "", err
	}
	script := filepath.Join(dir, fmt.Sprintf("post-%d.lua", size))
	lua := fmt.Sprintf(`local f = io.open(%q, "rb")
local body = f:read("*a")
f:close()
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end
local n = 0
request = function()
	n = n + 1
	return wrk.format("POST", nil, {
		["Content-Type"] = "application/json",
		["X-GitHub-Event"] = "push",
		["X-GitHub-Delivery"] = run_id .. "-" .. tid .. "-" .. n,
		["X-Hub-Signature-256"] = %q,
	}, body)
end
`, bodyFile, h.Get("X-Hub-Signature-256"))
	return script, os.WriteFile(script, []byte(lua), 0o600)
}

// steadyResult is what one steady-rate run saw.
type steadyResult struct {
	accepted       float64 // deliveries answered 202
	endLen, maxLen int     // outbox length when the run ended, and the largest seen
}

// steadyLoad offers rate deliveries per second for dur from 64 senders
// with keep-alive connections, each delivery with an id of its own, and
// samples the outbox length every 100ms.
func steadyLoad(url string, body []byte, signature string, rate int, dur time.Duration, rdb *redis.Client, prefix string) steadyResult {
	tokens := make(chan int, rate)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for n := range tokens {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", "push")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("steady-%d-%d", rate, n))
				req.Header.Set("X-Hub-Signature-256", signature)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					accepted.Add(1)
				}
			}
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
	res.accepted = float64(accepted.Load())
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

func proxyURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/webhooks/ci/github/bench-gh", port)
}
func gateURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/webhooks/ci/github/bench-gh", port)
}

type result struct {
	rps      float64
	requests int
	p50, p99 string
	non2xx   int
}

var (
	rpsRe      = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	requestsRe = regexp.MustCompile(`(\d+) requests in`)
	p50Re      = regexp.MustCompile(`\s50%\s+(\S+)`)
	p99Re      = regexp.MustCompile(`\s99%\s+(\S+)`)
	non2xxRe   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
)

func wrk(script, url string, dur time.Duration, conns int, runID string) (result, error) {
	// run_id makes every delivery id of this run unique across runs.
	lua, err := os.ReadFile(script)
	if err != nil {
		return result{}, err
	}
	runScript := script + "." + runID + ".lua"
	if err := os.WriteFile(runScript, append([]byte(fmt.Sprintf("run_id = %q\n", runID)), lua...), 0o600); err != nil {
		return result{}, err
	}
	out, err := exec.Command("wrk", "-t2", "-c"+strconv.Itoa(conns), "-d"+dur.String(), "--latency", "-s", runScript, url).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	var r result
	m := rpsRe.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("wrk output without Requests/sec: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := requestsRe.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.Atoi(string(m[1]))
	}
	if m := p50Re.FindSubmatch(out); m != nil {
		r.p50 = string(m[1])
	}
	if m := p99Re.FindSubmatch(out); m != nil {
		r.p99 = string(m[1])
	}
	if m := non2xxRe.FindSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(string(m[1]))
		return result{}, fmt.Errorf("%s: %d non-2xx answers during the run", url, r.non2xx)
	}
	return r, nil
}

// median is the median of rs's req/s, with the latency of the last round.
func median(rs []result) result {
	rps := make([]float64, len(rs))
	for i, r := range rs {
		rps[i] = r.rps
	}
	m := rs[len(rs)-1]
	m.rps = medianOf(rps)
	return m
}

// ratio is the median over the rounds of a[i]/b[i]: each round's two runs
// ran back to back, so their ratio sees the same machine, and the median
// drops a round a neighbour disturbed.
func ratio(a, b []result) float64 {
	rs := make([]float64, len(a))
	for i := range a {
		rs[i] = a[i].rps / b[i].rps
	}
	return medianOf(rs)
}

func medianOf(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// pushOfSize is a GitHub push payload padded with commits to size bytes.
func pushOfSize(size int) []byte {
	type commit struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	push := struct {
		Ref        string            `json:"ref"`
		After      string            `json:"after"`
		Repository map[string]string `json:"repository"`
		Commits    []commit          `json:"commits"`
	}{Ref: "refs/heads/main", After: strings.Repeat("a", 40), Repository: map[string]string{"full_name": "acme/payments"}}
	for {
		b, _ := json.Marshal(push)
		if len(b) >= size {
			return b[:len(b):len(b)]
		}
		need := size - len(b) - 40
		msg := strings.Repeat("x", max(1, min(need, 200)))
		push.Commits = append(push.Commits, commit{ID: strings.Repeat("b", 40), Message: msg})
	}
}

func human(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(p int) error {
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("port %d never opened", p)
}
