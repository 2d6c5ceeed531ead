// Command bench measures Caddy with hookgate against the same Caddy
// proxying without it, in one run on one machine. One Caddy process serves
// a plain reverse_proxy site and a gate site (hookgate, then the same
// reverse_proxy) to one trivial backend; a second Caddy process runs
// hookgate in forward mode (verify, normalize, one Redis round trip, 202)
// with its outbox delivering to a trivial finding service. A load
// generator in this process (load.go) posts GitHub pushes of several
// sizes to each in turn, every request a delivery of its own: its own
// delivery id, its own body (a unique head commit), pushed_at = now, and
// a signature over that body, so neither dedupe, nor the replay guard,
// nor max_age short-cuts the work; a run in which more than one request
// in a thousand is not accepted (not 2xx, or X-Hookgate-Duplicate) fails.
// It prints markdown tables of requests per second, p50 and p99 latency,
// the ratios against the plain proxy, and how fast the outbox drained.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"

	// The vendors this tool signs for register themselves on import.
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
)

func main() {
	caddyBin := flag.String("caddy", "bin/caddy", "Caddy binary with hookgate")
	duration := flag.Duration("duration", 8*time.Second, "load duration per measurement")
	conns := flag.Int("connections", 32, "keep-alive connections per measurement (as wrk -c)")
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
		push, err := newPush(size)
		if err != nil {
			return err
		}
		if err := checkSigner(push); err != nil {
			return err
		}
		// Check both paths accept a delivery before measuring.
		for _, url := range []string{proxyURL(proxyPort), gateURL(gatePort)} {
			c := newPoster(url)
			a := c.post(push, appendID(nil, runSeq.Add(1), 0, 0))
			c.close()
			if a != accepted {
				return fmt.Errorf("%s did not accept a delivery before the run (answer %d)", url, a)
			}
		}
		var proxy, gate, fwd []result
		for i := 0; i < rounds; i++ {
			p, err := load(proxyURL(proxyPort), push, dur, conns)
			if err != nil {
				return err
			}
			g, err := load(gateURL(gatePort), push, dur, conns)
			if err != nil {
				return err
			}
			before := delivered.Load()
			start := time.Now()
			fw, err := load(gateURL(fwdPort), push, dur, conns)
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
			drains = append(drains, fmt.Sprintf("| %s | %d | %d | %.0f/s | %.0f/s | %d | %s | %s |", human(size), fw.accepted, events,
				2*float64(fw.accepted)/runEnd.Sub(start).Seconds(), float64(events-int64(queued))/runEnd.Sub(start).Seconds(),
				queued, drained.Sub(runEnd).Round(10*time.Millisecond), drainRate))
			proxy, gate, fwd = append(proxy, p), append(gate, g), append(fwd, fw)
		}
		mp, mg, mf := median(proxy), median(gate), median(fwd)
		fmt.Printf("| %s | %.0f | %.0f | %.2f× | %.0f | %.2f× | %s / %s | %s / %s | %s / %s |\n", human(size), mp.rps, mg.rps, ratio(gate, proxy),
			mf.rps, ratio(fwd, proxy), mp.p50, mp.p99, mg.p50, mg.p99, mf.p50, mf.p99)
	}
	fmt.Printf("\nOutbox drain in forward mode (each delivery yields ci.push and runbook.trigger):\n\n")
	fmt.Printf("| body | deliveries accepted | events delivered | events in, during the run | events out, during the run | queued when the load stopped | drain time | drain rate, no load |\n")
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
	steadyPush, err := newPush(8 << 10)
	if err != nil {
		return err
	}
	for _, rate := range []int{1000, 2000, 3000, 4000} {
		before := delivered.Load()
		st := steadyLoad(gateURL(fwdPort), steadyPush, rate, dur, rdb, prefix)
		if err := st.check(fmt.Sprintf("steady %d/s", rate)); err != nil {
			return err
		}
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
	memPush, err := newPush(memSize)
	if err != nil {
		return err
	}
	fmt.Printf("\nPeak memory of Caddy under %d concurrent %s posts (a fresh Caddy process per mode, %d connections for %s; peak resident set, VmHWM):\n\n", memConns, human(memSize), memConns, dur)
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
		r, err := load(m.url, memPush, dur, memConns)
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

// checkSigner checks that the generator's signatures are hookgate's:
// verifiers.Sign over a whole body gives the header the generator sends.
func checkSigner(p *pushTemplate) error {
	body, sig := p.body(appendID(nil, 0, 0, 1))
	h, _, err := verifiers.Sign(integrations.GitHub, integrations.SchemeHMAC, []byte(secret), body, time.Now(), "")
	if err != nil {
		return err
	}
	if got := h.Get("X-Hub-Signature-256"); got != sig {
		return fmt.Errorf("generator signs %s, verifiers.Sign %s", sig, got)
	}
	if len(body) < p.size || len(body) > p.size+64 {
		return fmt.Errorf("push of %d bytes for size %d", len(body), p.size)
	}
	return nil
}
