package integration_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// declared25MiB is what the edge-bounds attacks declare: GitHub's own cap,
// and hookgate's default max_body.
const declared25MiB = 25 << 20

// edge is Caddy as a user runs it: default server timeouts, default
// max_body and body budget, a GitLab (token) and a GitHub (body MAC)
// integration in the Caddyfile, in gate mode in front of a backend.
type edge struct {
	caddy   *testcaddy.Instance
	backend *backend
	base    string // http://127.0.0.1:port
	addr    string // 127.0.0.1:port
	admin   string // http://admin
}

func startEdge(t *testing.T) *edge {
	t.Helper()
	e := &edge{backend: newBackend(t)}
	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	metrics
	hookgate {
		max_age off # the fixtures are of many dates; max_age has its own tests (replay_test.go)
		integration gitlab-edge {
			vendor gitlab
			secret %s
		}
		integration github-edge {
			vendor github
			secret %s
		}
	}
}

:%d {
	route /webhooks/* {
		hookgate
		reverse_proxy %s
	}
}
`, admin, secretFor("gitlab-edge"), secretFor("github-edge"), port, strings.TrimPrefix(e.backend.URL, "http://"))
	e.addr = fmt.Sprintf("127.0.0.1:%d", port)
	e.caddy = testcaddy.Start(t, admin, cfg, nil, e.addr)
	e.base = "http://" + e.addr
	e.admin = "http://" + admin
	return e
}

// metric reads one sample of Caddy's /metrics on the admin endpoint: the
// first line that starts with name (labels included in name when given).
func metric(t *testing.T, admin, name string) float64 {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				t.Fatalf("metric %s: %q", name, line)
			}
			return v
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// peakSampler samples a figure every 50ms until stopped and keeps the
// largest.
type peakSampler struct {
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func samplePeak(sample func() int64) *peakSampler {
	p := &peakSampler{stop: make(chan struct{}), done: make(chan struct{})}
	p.peak.Store(sample())
	go func() {
		defer close(p.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				if v := sample(); v > p.peak.Load() {
					p.peak.Store(v)
				}
			}
		}
	}()
	return p
}

func (p *peakSampler) Stop() int64 {
	close(p.stop)
	<-p.done
	return p.peak.Load()
}

// heapSampler samples Caddy's heap (go_memstats_heap_alloc_bytes) from its
// admin endpoint; a failed scrape counts as no change.
func heapSampler(admin string) func() int64 {
	var last atomic.Int64
	return func() int64 {
		resp, err := http.Get(admin + "/metrics")
		if err != nil {
			return last.Load()
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_alloc_bytes "); ok {
				if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
					last.Store(int64(v))
				}
			}
		}
		return last.Load()
	}
}

// blockedBody is a request body that sends nothing until closed.
type blockedBody struct {
	once sync.Once
	done chan struct{}
}

func newBlockedBody() *blockedBody { return &blockedBody{done: make(chan struct{})} }

func (b *blockedBody) Read([]byte) (int, error) { <-b.done; return 0, io.EOF }
func (b *blockedBody) Close() error             { b.once.Do(func() { close(b.done) }); return nil }

// h2cClient speaks cleartext HTTP/2 with prior knowledge, every request on
// one connection (at most 250 streams at once).
func h2cClient() (*http.Client, *http.Transport) {
	tr := &http.Transport{Protocols: new(http.Protocols), HTTP2: &http.HTTP2Config{StrictMaxConcurrentRequests: true}}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr}, tr
}

// TestHeldBodiesCostNothing is the attack of issue 10: hundreds of requests
// declaring 25 MiB for a known GitLab integration with a wrong token, none
// sending a byte of body, on one cleartext HTTP/2 connection and on as
// many HTTP/1.1 connections. Each is answered within a few seconds with
// its body unsent, and Caddy's heap stays within 64 MiB of where it was.
func TestHeldBodiesCostNothing(t *testing.T) {
	e := startEdge(t)
	path := e.base + integrations.GitLab.ReceiverPath("gitlab-edge")
	const held = 200
	const answerWithin = 5 * time.Second

	check := func(t *testing.T, send func(i int) (status int, took time.Duration, err error)) {
		base := heapSampler(e.admin)()
		peak := samplePeak(heapSampler(e.admin))
		var wg sync.WaitGroup
		errs := make(chan string, held)
		for i := range held {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, took, err := send(i)
				switch {
				case err != nil:
					errs <- fmt.Sprintf("request %d: %v", i, err)
				case status != http.StatusUnauthorized && status != http.StatusTooManyRequests:
					errs <- fmt.Sprintf("request %d: status %d, want 401 or 429", i, status)
				case took > answerWithin:
					errs <- fmt.Sprintf("request %d: answered after %v", i, took)
				}
			}()
		}
		wg.Wait()
		close(errs)
		top := peak.Stop()
		n := 0
		for e := range errs {
			if n++; n <= 5 {
				t.Error(e)
			}
		}
		if n > 5 {
			t.Errorf("... and %d more", n-5)
		}
		if grew := top - base; grew > 64<<20 {
			t.Errorf("heap grew by %d MiB (from %d MiB), over 64 MiB", grew>>20, base>>20)
		}
		t.Logf("%d held requests: heap %d MiB before, %d MiB at most", held, base>>20, top>>20)
	}

	t.Run("h2c one connection", func(t *testing.T) {
		client, tr := h2cClient()
		defer tr.CloseIdleConnections()
		check(t, func(int) (int, time.Duration, error) {
			body := newBlockedBody()
			defer body.Close()
			req, _ := http.NewRequest(http.MethodPost, path, body)
			req.ContentLength = declared25MiB
			req.Header.Set("X-Gitlab-Token", "wrong-token")
			req.Header.Set("X-Gitlab-Event", "Push Hook")
			ctx, cancel := context.WithTimeout(context.Background(), 2*answerWithin)
			defer cancel()
			start := time.Now()
			resp, err := client.Do(req.WithContext(ctx))
			if err != nil {
				return 0, 0, err
			}
			resp.Body.Close()
			if resp.ProtoMajor != 2 {
				return 0, 0, fmt.Errorf("answered over %s, not HTTP/2", resp.Proto)
			}
			return resp.StatusCode, time.Since(start), nil
		})
	})

	t.Run("http1 connections", func(t *testing.T) {
		check(t, func(int) (int, time.Duration, error) {
			conn, err := net.Dial("tcp", e.addr)
			if err != nil {
				return 0, 0, err
			}
			defer conn.Close()
			start := time.Now()
			head := rawPost(integrations.GitLab.ReceiverPath("gitlab-edge"), []string{
				"Content-Type: application/json",
				"Content-Length: " + strconv.Itoa(declared25MiB),
				"X-Gitlab-Token: wrong-token",
				"X-Gitlab-Event: Push Hook",
			}, nil)
			if _, err := conn.Write(head); err != nil {
				return 0, 0, err
			}
			_ = conn.SetReadDeadline(start.Add(2 * answerWithin))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				return 0, 0, err
			}
			resp.Body.Close()
			if !resp.Close {
				return 0, 0, fmt.Errorf("status %d without Connection: close", resp.StatusCode)
			}
			return resp.StatusCode, time.Since(start), nil
		})
	})
	if n := e.backend.count(); n != 0 {
		t.Errorf("%d held requests reached the backend", n)
	}
}

// TestConcurrentLargeBodiesStayBounded: 40 senders post 25 MiB bodies with
// a well-formed but wrong GitHub signature at once (a body MAC must read
// everything to judge it). The body budget (256 MiB by default) admits
// what fits and answers the rest 503 before reading; Caddy's resident
// memory stays under 700 MiB and every sender gets 401, 413, 429 or 503.
func TestConcurrentLargeBodiesStayBounded(t *testing.T) {
	e := startEdge(t)
	const senders = 40
	body := bytes.Repeat([]byte("x"), declared25MiB)
	target := integrations.GitHub.ReceiverPath("github-edge")
	wrongSig := "sha256=" + strings.Repeat("ab", 32)
	pid := e.caddy.Pid()
	rssBefore := vmRSS(t, pid)
	peak := samplePeak(func() int64 { return vmRSS(t, pid) })

	statuses := make([]int, senders)
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", e.addr)
			if err != nil {
				errs[i] = err
				return
			}
			defer conn.Close()
			head := rawPost(target, []string{
				"Content-Type: application/json",
				"Content-Length: " + strconv.Itoa(len(body)),
				"X-GitHub-Event: push",
				fmt.Sprintf("X-GitHub-Delivery: big-%d", i),
				"X-Hub-Signature-256: " + wrongSig,
			}, nil)
			go func() { // the body goes out while the answer is read: a refusal may come first
				if _, err := conn.Write(head); err == nil {
					_, _ = conn.Write(body)
				}
			}()
			_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	top := peak.Stop()
	counts := map[int]int{}
	for i := range senders {
		if errs[i] != nil {
			t.Errorf("sender %d: no answer: %v", i, errs[i])
			continue
		}
		counts[statuses[i]]++
		switch statuses[i] {
		case http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		default:
			t.Errorf("sender %d: status %d", i, statuses[i])
		}
	}
	if top > 700<<20 {
		t.Errorf("Caddy's resident memory reached %d MiB, over 700 MiB", top>>20)
	}
	if counts[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no sender was refused by the body budget: %v", counts)
	}
	t.Logf("40 × 25 MiB with a wrong signature: RSS %d MiB before, %d MiB at most; answers %v", rssBefore>>20, top>>20, counts)
	if n := e.backend.count(); n != 0 {
		t.Errorf("%d forged bodies reached the backend", n)
	}
	if v := metric(t, e.admin, `caddy_hookgate_deliveries_total{result="over_budget",vendor="github"}`); v < 1 {
		t.Errorf("caddy_hookgate_deliveries_total over_budget = %v", v)
	}
	if v := metric(t, e.admin, "caddy_hookgate_inflight_body_bytes"); v != 0 {
		t.Errorf("caddy_hookgate_inflight_body_bytes = %v after every sender was answered", v)
	}
}

// TestTrickledBodyIsCut: with no server timeouts configured, a body sent
// one byte every two seconds is cut off by hookgate's own body deadline
// (body_timeout 10s plus the minimum rate), answered 408, on HTTP/1.1 and
// on cleartext HTTP/2.
func TestTrickledBodyIsCut(t *testing.T) {
	e := startEdge(t)
	push := readPayload(t, "github/push.json")
	headers := signed(t, "http://x/", integrations.GitHub, integrations.SchemeHMAC, secretFor("github-edge"), push, nil).Header
	const within = 30 * time.Second

	t.Run("http1", func(t *testing.T) {
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		head := rawPost(integrations.GitHub.ReceiverPath("github-edge"), []string{
			"Content-Type: application/json",
			"Content-Length: " + strconv.Itoa(len(push)),
			"X-GitHub-Event: push",
			"X-GitHub-Delivery: trickle-h1",
			"X-Hub-Signature-256: " + headers.Get("X-Hub-Signature-256"),
		}, nil)
		start := time.Now()
		if _, err := conn.Write(head); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for i := 0; i < len(push); i++ {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Second):
				}
				if _, err := conn.Write(push[i : i+1]); err != nil {
					return
				}
			}
		}()
		_ = conn.SetReadDeadline(start.Add(within))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("no answer within %v: %v", within, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("status %d after %v, want 408", resp.StatusCode, took)
		}
		t.Logf("trickled HTTP/1.1 body cut after %v", took.Round(100*time.Millisecond))
	})

	t.Run("h2c", func(t *testing.T) {
		client, tr := h2cClient()
		defer tr.CloseIdleConnections()
		pr, pw := io.Pipe()
		defer pw.Close()
		go func() {
			for i := 0; i < len(push); i++ {
				time.Sleep(2 * time.Second)
				if _, err := pw.Write(push[i : i+1]); err != nil {
					return
				}
			}
		}()
		req, _ := http.NewRequest(http.MethodPost, e.base+integrations.GitHub.ReceiverPath("github-edge"), pr)
		req.ContentLength = int64(len(push))
		for k, v := range headers {
			req.Header[k] = v
		}
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", "trickle-h2")
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		start := time.Now()
		resp, err := client.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatalf("no answer within %v: %v", within, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("status %d after %v, want 408", resp.StatusCode, time.Since(start))
		}
		t.Logf("trickled HTTP/2 body cut after %v", time.Since(start).Round(100*time.Millisecond))
	})
	if v := metric(t, e.admin, `caddy_hookgate_deliveries_total{result="timeout",vendor="github"}`); v != 2 {
		t.Errorf("caddy_hookgate_deliveries_total timeout = %v, want 2", v)
	}
	// A delivery sent at once still passes.
	if resp, got := do(t, signed(t, e.base+integrations.GitHub.ReceiverPath("github-edge"), integrations.GitHub, integrations.SchemeHMAC,
		secretFor("github-edge"), push, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "prompt"})); resp.StatusCode != 200 || got != "backend ok" {
		t.Fatalf("a prompt delivery after the trickles: %d %q", resp.StatusCode, got)
	}
}

// TestFullOutboxRefusesThenRecovers: in forward mode with the finding
// service down, deliveries fill the outbox up to max_outbox; the next one
// is answered 503 with Retry-After and stores nothing in Redis; once the
// finding service is back and the outbox drained, deliveries are accepted
// again and every acknowledged one's events arrive.
func TestFullOutboxRefusesThenRecovers(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	fs.setStatus(http.StatusServiceUnavailable)
	f := startForwarder(t, redisAddr, prefix, fs.URL+"/v1/events", "max_outbox 10")
	vc := caseFor(t, integrations.GitHub)
	body := readPayload(t, vc.payload)
	perDelivery := len(expectedIDs(t, vc, body, "full-0"))
	if perDelivery == 0 || perDelivery > 5 {
		t.Fatalf("a push yields %d events; the test needs 1-5", perDelivery)
	}

	var acked []string
	refusedAt := -1
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("full-%d", i)
		status := f.post(t, vc, body, id)
		if status == http.StatusServiceUnavailable {
			refusedAt = i
			break
		}
		if status != http.StatusAccepted {
			t.Fatalf("delivery %d: status %d", i, status)
		}
		acked = append(acked, id)
	}
	if refusedAt < 0 {
		t.Fatal("20 deliveries into an outbox of 10 events: none was refused")
	}
	if got, max := len(acked)*perDelivery, 10; got > max {
		t.Fatalf("%d events acknowledged into an outbox of %d", got, max)
	}
	keysBefore := redisKeys(t, redisAddr, prefix)
	id := string(vc.vendor) + "-main"
	resp, _ := do(t, signed(t, f.base+vc.vendor.ReceiverPath(id), vc.vendor, vc.vendor.DefaultScheme(), secretFor(id), body, deliveryHeaders(vc, "full-again")))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("full outbox: status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if keysAfter := redisKeys(t, redisAddr, prefix); len(keysAfter) != len(keysBefore) {
		t.Errorf("a refused delivery left Redis keys: %d before, %d after", len(keysBefore), len(keysAfter))
	}
	if v := metric(t, f.admin, `caddy_hookgate_deliveries_total{result="outbox_full",vendor="github"}`); v < 2 {
		t.Errorf("caddy_hookgate_deliveries_total outbox_full = %v, want at least 2", v)
	}

	fs.setStatus(http.StatusOK)
	var want []string
	for _, d := range acked {
		want = append(want, expectedIDs(t, vc, body, d)...)
	}
	eventually(t, 30*time.Second, "the acknowledged deliveries' events at the finding service", func() bool {
		got := fs.snapshot()
		for _, id := range want {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	eventually(t, 10*time.Second, "the outbox drained", func() bool {
		return metric(t, f.admin, "caddy_hookgate_outbox_length") == 0
	})
	if status := f.post(t, vc, body, "full-after-drain"); status != http.StatusAccepted {
		t.Fatalf("after the drain: status %d, want 202", status)
	}
}

// TestRefusalReachesAClientStillSending: a refusal answered before the
// body is read must reach a client that is still sending that body (Go's
// client sends while it reads; many clients send everything first), not a
// connection reset: hookgate flushes the answer, then reads and throws
// away up to 256 KiB of the body before the connection closes. (A client
// still sending more than that when the connection closes may see a
// reset, as with Go's own server.)
func TestRefusalReachesAClientStillSending(t *testing.T) {
	e := startEdge(t)
	path := integrations.GitLab.ReceiverPath("gitlab-edge")
	for _, size := range []int{100 << 10, 250 << 10} {
		body := bytes.Repeat([]byte("x"), size)
		for i := range 20 {
			req, _ := http.NewRequest(http.MethodPost, e.base+path, bytes.NewReader(body))
			req.Header.Set("X-Gitlab-Token", "wrong-token")
			req.Header.Set("X-Gitlab-Event", "Push Hook")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%d KiB body, try %d: no answer: %v", size>>10, i, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("%d KiB body, try %d: status %d", size>>10, i, resp.StatusCode)
			}
		}
	}
	// A client that writes its whole body before it reads a byte.
	for i := range 10 {
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		body := bytes.Repeat([]byte("y"), 200<<10)
		if _, err := conn.Write(rawPost(path, []string{
			"Content-Type: application/json",
			"Content-Length: " + strconv.Itoa(len(body)),
			"X-Gitlab-Token: wrong-token",
		}, body)); err != nil {
			t.Fatalf("try %d: writing: %v", i, err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatalf("write-then-read client, try %d: no answer: %v", i, err)
		}
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("write-then-read client, try %d: status %d", i, resp.StatusCode)
		}
	}
}
