package main

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator. It replaces wrk, whose Lua cannot compute an HMAC:
// with one pre-signed body under fresh delivery ids, every request after
// the first is a replay to hookgate (answered 200 X-Hookgate-Duplicate,
// nothing forwarded), so wrk measured the replay path, not load. Here
// every request is a delivery of its own, as a user's real load looks: a
// body no other request sends (a unique "after" commit id), with
// repository.pushed_at = now (so max_age passes), signed over that body.
//
// Signing per request stays off the measured path's critical cost: a
// push is a fixed head (the padding commits, up to 1 MiB) and a short
// tail (after, repository, pushed_at). The HMAC state after the head is
// computed once per size and cloned per request, which then hashes ~100
// bytes: about a microsecond, against the tens or hundreds the request
// costs Caddy. Requests are written with one writev (header, the shared
// head, the tail) on keep-alive connections and the answer read with
// http.ReadResponse, without net/http's Transport; like wrk, it is a
// closed loop (each connection sends its next request when the answer to
// the last has arrived), so -connections plays the part of wrk -c. It
// runs in this process, beside the backends, as wrk ran beside them on
// the same cores; the per-request cost it adds is the same for every
// mode, so the ratios compare like with like.

// pushTemplate is a GitHub push of about size bytes, split into the part
// every request shares and the part that makes each one its own.
type pushTemplate struct {
	size int
	head []byte    // `{"ref":…,"commits":[…],` — the padding, shared
	mac  hash.Hash // HMAC-SHA256 keyed with the secret, head written: cloned per request
}

// tailLen is the length of appendTail's output (ids are 40 hex digits,
// pushed_at ten decimal ones until 2286).
var tailLen = len(appendTail(nil, make([]byte, 40), time.Now().Unix()))

func newPush(size int) (*pushTemplate, error) {
	head := []byte(`{"ref":"refs/heads/main","commits":[`)
	for n := 0; len(head)+tailLen+2 < size; n++ {
		if n > 0 {
			head = append(head, ',')
		}
		need := size - len(head) - tailLen - 2 - len(`{"id":"","message":""}`) - 40
		head = fmt.Appendf(head, `{"id":"%040x","message":"%s"}`, n+1, repeatX(max(1, min(need, 200))))
	}
	head = append(head, "],"...)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(head)
	if _, ok := mac.(hash.Cloner); !ok {
		return nil, fmt.Errorf("HMAC-SHA256 cannot be cloned here")
	}
	return &pushTemplate{size: size, head: head[:len(head):len(head)], mac: mac}, nil
}

func repeatX(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return b
}

// appendTail appends the per-delivery end of the push: its own head
// commit id and the time it was pushed.
func appendTail(dst, id []byte, pushedAt int64) []byte {
	dst = append(dst, `"after":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","repository":{"full_name":"acme/payments","pushed_at":`...)
	dst = strconv.AppendInt(dst, pushedAt, 10)
	return append(dst, "}}"...)
}

// body is the whole push for delivery id, pushed now, and its signature
// header value (sha256=…), for the few requests sent outside a run.
func (p *pushTemplate) body(id []byte) ([]byte, string) {
	tail := appendTail(nil, id, time.Now().Unix())
	return append(slices.Clip(p.head), tail...), "sha256=" + hex.EncodeToString(p.sign(tail, nil))
}

// sign is the HMAC of head+tail, appended to dst.
func (p *pushTemplate) sign(tail, dst []byte) []byte {
	c, _ := p.mac.(hash.Cloner).Clone()
	c.Write(tail)
	return c.Sum(dst)
}

// ids hands out delivery ids (which are also the pushes' "after"): 40 hex
// digits from the bench's start time, the run, the connection and the
// request, so no two requests of any bench ever share one.
var (
	benchStart = uint64(time.Now().UnixNano())
	runSeq     atomic.Uint32
)

func appendHex(dst []byte, v uint64, digits int) []byte {
	const hexd = "0123456789abcdef"
	for i := digits - 1; i >= 0; i-- {
		dst = append(dst, hexd[(v>>(4*uint(i)))&0xf])
	}
	return dst
}

func appendID(dst []byte, run uint32, conn int, n uint64) []byte {
	dst = appendHex(dst, benchStart, 16)
	dst = appendHex(dst, uint64(run), 8)
	dst = appendHex(dst, uint64(conn), 4)
	return appendHex(dst, n, 12)
}

// poster is one keep-alive connection posting pushes.
type poster struct {
	addr, path string
	conn       net.Conn
	br         *bufio.Reader
	hdr, tail  []byte
	sum        []byte
}

func newPoster(url string) *poster {
	// url is http://host:port/path.
	rest := url[len("http://"):]
	i := 0
	for i < len(rest) && rest[i] != '/' {
		i++
	}
	return &poster{addr: rest[:i], path: rest[i:]}
}

// answer is what one request got back.
type answer int

const (
	accepted  answer = iota // 2xx, not a duplicate
	duplicate               // 2xx with X-Hookgate-Duplicate: a replay, not load
	refused                 // not 2xx
	failed                  // the connection failed
)

// post sends delivery id of p, pushed now and signed.
func (c *poster) post(p *pushTemplate, id []byte) answer {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return failed
		}
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 4096)
	}
	c.tail = appendTail(c.tail[:0], id, time.Now().Unix())
	c.sum = p.sign(c.tail, c.sum[:0])
	h := append(c.hdr[:0], "POST "...)
	h = append(h, c.path...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, c.addr...)
	h = append(h, "\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: "...)
	h = append(h, id...)
	h = append(h, "\r\nX-Hub-Signature-256: sha256="...)
	h = hex.AppendEncode(h, c.sum)
	h = append(h, "\r\nContent-Length: "...)
	h = strconv.AppendInt(h, int64(len(p.head)+len(c.tail)), 10)
	h = append(h, "\r\n\r\n"...)
	c.hdr = h
	bufs := net.Buffers{h, p.head, c.tail}
	if _, err := bufs.WriteTo(c.conn); err != nil {
		c.close()
		return failed
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return failed
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return refused
	case resp.Header.Get("X-Hookgate-Duplicate") != "":
		return duplicate
	}
	return accepted
}

func (c *poster) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

// counts tallies answers.
type counts struct {
	requests, accepted, duplicates, refused, failed int
}

func (n *counts) add(a answer) {
	n.requests++
	switch a {
	case accepted:
		n.accepted++
	case duplicate:
		n.duplicates++
	case refused:
		n.refused++
	case failed:
		n.failed++
	}
}

func (n *counts) merge(o counts) {
	n.requests += o.requests
	n.accepted += o.accepted
	n.duplicates += o.duplicates
	n.refused += o.refused
	n.failed += o.failed
}

// check fails a run in which more than one request in a thousand was not
// accepted: its figures would measure refusals or replays, not load.
func (n counts) check(what string) error {
	if bad := n.requests - n.accepted; bad > n.requests/1000 {
		return fmt.Errorf("%s: %d of %d requests not accepted (%d duplicates, %d refused, %d connection failures)",
			what, bad, n.requests, n.duplicates, n.refused, n.failed)
	}
	return nil
}

type result struct {
	counts
	rps      float64
	p50, p99 string
}

// load posts pushes of p to url from conns keep-alive connections as fast
// as they are answered, for dur, each request a delivery of its own. It
// fails if more than a tiny fraction was not accepted.
func load(url string, p *pushTemplate, dur time.Duration, conns int) (result, error) {
	run := runSeq.Add(1)
	var (
		mu    sync.Mutex
		total counts
		lats  []time.Duration
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for i := range conns {
		wg.Go(func() {
			c := newPoster(url)
			defer c.close()
			var n counts
			my := make([]time.Duration, 0, 1<<12)
			id := make([]byte, 0, 40)
			for seq := uint64(0); ; seq++ {
				t := time.Now()
				if !t.Before(deadline) {
					break
				}
				id = appendID(id[:0], run, i, seq)
				a := c.post(p, id)
				n.add(a)
				if a == failed {
					time.Sleep(time.Millisecond) // do not spin on a refused connect
					continue
				}
				my = append(my, time.Since(t))
			}
			mu.Lock()
			total.merge(n)
			lats = append(lats, my...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := result{counts: total, rps: float64(total.accepted) / elapsed.Seconds()}
	if len(lats) > 0 {
		slices.Sort(lats)
		r.p50, r.p99 = ms(lats[len(lats)/2]), ms(lats[len(lats)*99/100])
	}
	return r, total.check(url)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
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
