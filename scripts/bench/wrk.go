package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

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
