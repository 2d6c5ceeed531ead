package integration_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
	"github.com/hookgate/caddy-hookgate/secretstore"
)

// hostileMaxBody is the test Caddyfile's max_body: small, yet above the
// deeply nested bodies (200,000 bytes) the malformed-body cases send.
const hostileMaxBody = 256 << 10

// cutOff bounds how long a slow sender may hold a connection before the
// tests call it hanging. The Caddyfile's timeouts are 2s; this only has to
// tell "cut off" from "never".
const cutOff = 20 * time.Second

// hostile is one running setup for the hostile-input tests: Vault behind a
// proxy that counts record reads, Redis for the audit log, and Caddy in
// gate mode in front of a backend, with short server timeouts and a small
// max_body.
type hostile struct {
	vault     *testvault.Server
	reads     atomic.Int64 // GETs of integration records through the proxy
	lists     atomic.Int64 // LISTs of the prefix through the proxy
	caddy     *testcaddy.Instance
	backend   *backend
	base      string // http://127.0.0.1:port
	addr      string // 127.0.0.1:port, for raw connections
	admin     string // http://admin
	logDir    string
	redisAddr string
	prefix    string
}

func startHostile(t *testing.T) *hostile {
	t.Helper()
	h := &hostile{vault: testvault.Start(t), backend: newBackend(t), logDir: t.TempDir()}
	h.redisAddr, h.prefix = testredis.Shared(t)
	putRecord(t, h.vault, "github-main", map[string]any{"vendor": "github", "secret": secretFor("github-main")})
	putRecord(t, h.vault, "gitlab-main", map[string]any{"vendor": "gitlab", "secret": secretFor("gitlab-main")})

	// Every Vault request Caddy makes goes through this proxy, which counts
	// reads of records (GET <mount>/data/<prefix>/<id>) and listings (the
	// client sends LIST as GET ?list=true on <mount>/metadata/<prefix>).
	target, err := url.Parse(h.vault.Addr)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/secret/data/hookgate/integrations/") && r.Method == http.MethodGet:
			h.reads.Add(1)
		case strings.HasPrefix(r.URL.Path, "/v1/secret/metadata/hookgate/integrations"):
			h.lists.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	log {
		output file %s/caddy.log
		format json
		level DEBUG
	}
	servers {
		timeouts {
			read_header 2s
			read_body 2s
			write 10s
			idle 30s
		}
	}
	hookgate {
		max_age off # the fixtures are of many dates; max_age has its own tests (replay_test.go)
		vault {
			address   %s
			token     {env.VAULT_TOKEN}
			cache_ttl 1s
			stale_ttl 10m
			timeout   2s
		}
		redis {
			address    %s
			key_prefix %s
		}
		max_body %d
		# These tests send thousands of failures from one address on
		# purpose; the limiter has its own tests.
		failure_limit off
	}
}

:%d {
	route /webhooks/* {
		hookgate
		reverse_proxy %s
	}
}
`, admin, h.logDir, proxy.URL, h.redisAddr, h.prefix, hostileMaxBody, port, strings.TrimPrefix(h.backend.URL, "http://"))
	h.addr = fmt.Sprintf("127.0.0.1:%d", port)
	h.caddy = testcaddy.Start(t, admin, cfg, []string{"VAULT_TOKEN=" + h.vault.RootToken}, h.addr)
	h.base = "http://" + h.addr
	h.admin = "http://" + admin
	t.Cleanup(func() { h.noPanic(t) })
	return h
}

// ghPush is a GitHub push delivery to id, signed with id's secret over
// body (or with secret, when set), with delivery id deliv.
func (h *hostile) ghPush(t *testing.T, id, secret string, body []byte, deliv string) *http.Request {
	t.Helper()
	if secret == "" {
		secret = secretFor(id)
	}
	return signed(t, h.base+receiver(integrations.GitHub, id), integrations.GitHub, integrations.SchemeHMAC, secret, body,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": deliv})
}

// signature is the X-Hub-Signature-256 value of body under id's secret.
func signature(t *testing.T, id string, body []byte) string {
	t.Helper()
	req := signed(t, "http://x/", integrations.GitHub, integrations.SchemeHMAC, secretFor(id), body, nil)
	return req.Header.Get("X-Hub-Signature-256")
}

// expect sends req and checks the status, the body when want is set, and
// that the backend saw nothing.
func (h *hostile) expect(t *testing.T, name string, req *http.Request, status int, want string) {
	t.Helper()
	before := h.backend.count()
	resp, got := do(t, req)
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d (body %q)", name, resp.StatusCode, status, got)
	}
	if want != "" && got != want {
		t.Errorf("%s: body %q, want %q", name, got, want)
	}
	if n := h.backend.count() - before; n != 0 {
		t.Errorf("%s: %d request(s) reached the backend", name, n)
	}
}

// passes sends req and checks that it reached the backend once, intact.
func (h *hostile) passes(t *testing.T, name string, req *http.Request, body []byte) received {
	t.Helper()
	before := h.backend.count()
	resp, got := do(t, req)
	if resp.StatusCode != http.StatusOK || got != "backend ok" {
		t.Fatalf("%s: %d %q, want the backend's 200", name, resp.StatusCode, got)
	}
	if n := h.backend.count() - before; n != 1 {
		t.Fatalf("%s: reached the backend %d times", name, n)
	}
	seen := h.backend.last(t)
	if !bytes.Equal(seen.body, body) {
		t.Fatalf("%s: body changed on the way (%d bytes sent, %d seen)", name, len(body), len(seen.body))
	}
	return seen
}

// rejectedAudit is the integration's list of refused deliveries.
func (h *hostile) rejectedAudit(t *testing.T, id string) []map[string]any {
	t.Helper()
	return rejectedAt(t, h.admin, id)
}

// rejectedAt is id's list of refused deliveries, newest first, from the
// admin endpoint at admin (http://host:port).
func rejectedAt(t *testing.T, admin, id string) []map[string]any {
	t.Helper()
	resp, err := http.Get(admin + "/hookgate/integrations/" + id + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var audit struct {
		Rejected []map[string]any `json:"rejected"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&audit); err != nil || resp.StatusCode != 200 {
		t.Fatalf("audit of %s: %d %v", id, resp.StatusCode, err)
	}
	return audit.Rejected
}

// noPanic fails the test if Caddy's log or its process output shows a
// panic (a handler panic is recovered by Caddy and logged; a runtime panic
// ends the process with a goroutine dump).
func (h *hostile) noPanic(t *testing.T) {
	t.Helper()
	logs, _ := os.ReadFile(filepath.Join(h.logDir, "caddy.log"))
	if !bytes.Contains(logs, []byte(`"webhook refused"`)) {
		t.Errorf("caddy.log has no refusals: the panic scan below proves nothing")
	}
	for name, s := range map[string]string{"caddy.log": string(logs), "process output": h.caddy.Log()} {
		low := strings.ToLower(s)
		if strings.Contains(low, "panic") || strings.Contains(s, "goroutine ") {
			i := max(strings.Index(low, "panic"), strings.Index(s, "goroutine "))
			t.Errorf("%s shows a panic: %s", name, s[max(0, i-200):min(len(s), i+800)])
		}
	}
}

// rawResult is what a raw connection got back.
type rawResult struct {
	statuses []int
	bodies   []string
	closed   bool          // the server ended the connection (EOF or reset)
	err      error         // how reading ended
	took     time.Duration // from the first byte sent until reading ended
}

// raw writes payload on a fresh connection, keeps writing what more
// yields (nil: nothing, then wait), and reads responses until the server
// closes the connection or cutOff passes.
func (h *hostile) raw(t *testing.T, payload []byte, more func() []byte, every time.Duration) rawResult {
	t.Helper()
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	if more != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					b := more()
					if b == nil {
						continue
					}
					if _, err := conn.Write(b); err != nil {
						return // the server hung up
					}
				}
			}
		}()
	}
	_ = conn.SetReadDeadline(start.Add(cutOff))
	var res rawResult
	br := bufio.NewReader(conn)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			res.err = err
			break
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		res.statuses = append(res.statuses, resp.StatusCode)
		res.bodies = append(res.bodies, string(b))
		if err != nil {
			res.err = err
			break
		}
	}
	res.took = time.Since(start)
	var ne net.Error
	res.closed = !(errors.As(res.err, &ne) && ne.Timeout())
	return res
}

// rawPost is a POST request as raw bytes: the request line with target
// exactly as given, then headers in order, then body.
func rawPost(target string, headers []string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: hookgate.test\r\n", target)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// TestHostileInput throws hostile requests at a running Caddy: every one is
// refused with the documented code, nothing reaches the backend, and Caddy
// never panics.
func TestHostileInput(t *testing.T) {
	h := startHostile(t)
	push := readPayload(t, "github/push.json")
	ghPath := receiver(integrations.GitHub, "github-main")

	// A valid delivery first: the setup works, so every refusal below is
	// the input's doing.
	h.passes(t, "valid delivery", h.ghPush(t, "github-main", "", push, "hostile-valid"), push)

	t.Run("bodies over max_body", func(t *testing.T) {
		big := bytes.Repeat([]byte("a"), hostileMaxBody+1)
		h.expect(t, "with Content-Length", h.ghPush(t, "github-main", "", big, "big-1"), 413, `{"error":"payload too large"}`)
		h.expect(t, "chunked", chunked(h.ghPush(t, "github-main", "", big, "big-2")), 413, `{"error":"payload too large"}`)
		h.expect(t, "chunked, unknown integration", chunked(h.ghPush(t, "no-such-integration", "x", big, "big-3")), 401, unauthorizedBody)

		// Content-Length smaller than the body: the server reads only the
		// declared bytes, whose MAC does not match (401); the rest is read
		// as the next request, which is no HTTP (400 from Go's server, and
		// the connection is closed).
		before := h.backend.count()
		res := h.raw(t, rawPost(ghPath, []string{
			"Content-Type: application/json",
			"X-GitHub-Event: push",
			"X-Hub-Signature-256: " + signature(t, "github-main", push),
			"Content-Length: 10",
		}, push), nil, 0)
		if len(res.statuses) == 0 || res.statuses[0] != 401 || res.bodies[0] != unauthorizedBody {
			t.Errorf("lying Content-Length: answers %v %q, want 401 first", res.statuses, res.bodies)
		}
		for _, s := range res.statuses[min(1, len(res.statuses)):] {
			if s != 400 {
				t.Errorf("lying Content-Length: the body's rest answered %d, want 400", s)
			}
		}
		if !res.closed {
			t.Errorf("lying Content-Length: connection still open after %s (%v)", res.took, res.err)
		}
		if n := h.backend.count() - before; n != 0 {
			t.Errorf("lying Content-Length: %d request(s) reached the backend", n)
		}
	})

	t.Run("slow senders are cut off", func(t *testing.T) {
		before := h.backend.count()
		body := bytes.Repeat([]byte(" "), 1000)
		copy(body, push)
		head := func(length int) []byte {
			return rawPost(ghPath, []string{
				"Content-Type: application/json",
				"X-GitHub-Event: push",
				"X-Hub-Signature-256: " + signature(t, "github-main", body),
				"Content-Length: " + strconv.Itoa(length),
			}, nil)
		}
		var sent atomic.Int64
		trickle := func() []byte {
			if sent.Add(1) > int64(len(body)) {
				return nil
			}
			return []byte{' '}
		}
		cases := []struct {
			name    string
			payload []byte
			more    func() []byte
		}{
			// Headers at once, then the body one byte every 300ms: the
			// whole body would take five minutes.
			{"trickled body", head(len(body)), trickle},
			// Content-Length promises more than ever comes.
			{"stalled body", append(head(len(body)), body[:10]...), nil},
			// Slowloris: the headers never end.
			{"slowloris headers", []byte("POST " + ghPath + " HTTP/1.1\r\nHost: hookgate.test\r\n"), func() []byte { return []byte("X-Slow: 1\r\n") }},
		}
		for _, c := range cases {
			sent.Store(0)
			res := h.raw(t, c.payload, c.more, 300*time.Millisecond)
			if !res.closed {
				t.Errorf("%s: connection not cut off within %s (%v)", c.name, cutOff, res.err)
			}
			for _, s := range res.statuses {
				if s != 400 && s != 408 {
					t.Errorf("%s: answered %d, want at most a 400 or 408 before the close", c.name, s)
				}
			}
			t.Logf("%s: cut off after %s, answers %v, then %v", c.name, res.took.Round(time.Millisecond), res.statuses, res.err)
		}
		if n := h.backend.count() - before; n != 0 {
			t.Errorf("slow senders: %d request(s) reached the backend", n)
		}
	})

	t.Run("malformed bodies after a valid signature", func(t *testing.T) {
		cases := []struct {
			name string
			body []byte
		}{
			{"invalid UTF-8", []byte("{\"ref\":\"refs/heads/ma\xffin\",\"after\":\"0d1a\",\"repository\":{\"full_name\":\"acme/app\"}}")},
			{"invalid UTF-8 in a key", []byte("{\"re\xc3\x28f\":\"refs/heads/main\"}")},
			{"100k unclosed brackets", bytes.Repeat([]byte("["), 100000)},
			{"100k nested arrays", append(bytes.Repeat([]byte("["), 100000), bytes.Repeat([]byte("]"), 100000)...)},
			{"wrong types", []byte(`{"ref":5,"after":["x"],"repository":"acme/app"}`)},
			{"not JSON", []byte("ref=refs/heads/main")},
		}
		for i, c := range cases {
			deliv := fmt.Sprintf("malformed-%d", i)
			h.expect(t, c.name, h.ghPush(t, "github-main", "", c.body, deliv), 400, `{"error":"bad request"}`)
			rejected := h.rejectedAudit(t, "github-main")
			idx := slices.IndexFunc(rejected, func(e map[string]any) bool { return e["delivery"] == deliv })
			if idx < 0 {
				t.Errorf("%s: no audit entry for delivery %s", c.name, deliv)
				continue
			}
			e := rejected[idx]
			if r, _ := e["reason"].(string); !strings.HasPrefix(r, "malformed body") || e["signature"] != "valid" || e["action"] != "rejected" {
				t.Errorf("%s: audit entry %v, want reason \"malformed body: ...\", signature valid, action rejected", c.name, e)
			}
		}
	})

	t.Run("content types", func(t *testing.T) {
		// hookgate verifies the raw bytes whatever the header says, and
		// reads a verified GitHub body as JSON unless it is declared
		// form-encoded (GitHub's other format, payload=<json>).
		for _, ct := range []string{"text/plain", "", "multipart/form-data; boundary=x", "application/octet-stream"} {
			own := ownBody(push, "ct-"+ct)
			req := h.ghPush(t, "github-main", "", own, "ct-"+ct)
			if ct == "" {
				req.Header.Del("Content-Type")
			} else {
				req.Header.Set("Content-Type", ct)
			}
			seen := h.passes(t, "JSON body as "+strconv.Quote(ct), req, own)
			if got := seen.header.Get("Content-Type"); got != ct {
				t.Errorf("Content-Type %q reached the backend as %q", ct, got)
			}
		}
		form := []byte("payload=" + url.QueryEscape(string(push)))
		req := h.ghPush(t, "github-main", "", form, "ct-form")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if seen := h.passes(t, "form-encoded", req, form); seen.header.Get("X-Hookgate-Event") != "push" {
			t.Errorf("form-encoded: annotated %q", seen.header.Get("X-Hookgate-Event"))
		}

		// A real multipart body is no JSON: refused after verification.
		var mp bytes.Buffer
		w := multipart.NewWriter(&mp)
		_ = w.WriteField("payload", string(push))
		_ = w.Close()
		req = h.ghPush(t, "github-main", "", mp.Bytes(), "ct-multipart")
		req.Header.Set("Content-Type", w.FormDataContentType())
		h.expect(t, "multipart body", req, 400, `{"error":"bad request"}`)
		// Form-encoded where the payload is no JSON.
		bad := []byte("payload=" + url.QueryEscape("{\"ref\":\"\xff\"}"))
		req = h.ghPush(t, "github-main", "", bad, "ct-form-bad")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.expect(t, "form-encoded invalid UTF-8", req, 400, `{"error":"bad request"}`)
		// Content-Type never helps a forged delivery.
		req = h.ghPush(t, "github-main", "forged", push, "ct-forged")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.expect(t, "forged form-encoded", req, 401, unauthorizedBody)
	})

	t.Run("header injection", func(t *testing.T) {
		sig := "X-Hub-Signature-256: " + signature(t, "github-main", push)
		length := "Content-Length: " + strconv.Itoa(len(push))
		before := h.backend.count()
		// Go's server refuses control characters in header values itself.
		for name, hdr := range map[string]string{
			"CR in a value":  "X-Note: a\rX-Hookgate-Verified: true",
			"NUL in a value": "X-Note: a\x00b",
			"CR in the MAC":  "X-Hub-Signature-256: sha256=00\r11",
		} {
			res := h.raw(t, rawPost(ghPath, []string{"X-GitHub-Event: push", sig, hdr, length}, push), nil, 0)
			if len(res.statuses) != 1 || res.statuses[0] != 400 {
				t.Errorf("%s: answers %v, want one 400", name, res.statuses)
			}
			if !res.closed {
				t.Errorf("%s: connection left open (%v)", name, res.err)
			}
		}
		if n := h.backend.count() - before; n != 0 {
			t.Errorf("control characters: %d request(s) reached the backend", n)
		}

		// A bare LF ends a header line: what follows is just another
		// header the caller sent, and inbound X-Hookgate-* never survive.
		res := h.raw(t, rawPost(ghPath, []string{"X-GitHub-Event: push", sig, "X-Note: a\nX-Hookgate-Verified: forged", length, "Connection: close"}, push), nil, 0)
		if len(res.statuses) != 1 || res.statuses[0] != 200 {
			t.Fatalf("LF-split header on a valid delivery: answers %v", res.statuses)
		}
		if got := h.backend.last(t).header.Values("X-Hookgate-Verified"); len(got) != 1 || got[0] != "true" {
			t.Errorf("LF-split header: backend saw X-Hookgate-Verified %q", got)
		}

		spoof := map[string]string{
			"X-Hookgate-Verified":    "true",
			"x-hookgate-vendor":      "gitlab",
			"X-HOOKGATE-INTEGRATION": "someone-else",
			"X-Hookgate-Event-Id":    "evt_forged",
			"X-Hookgate-Custom":      "smuggled",
		}
		forged := h.ghPush(t, "github-main", "forged", push, "spoof-forged")
		for k, v := range spoof {
			forged.Header[k] = []string{v, v}
		}
		h.expect(t, "spoofed annotations on a forged delivery", forged, 401, unauthorizedBody)

		spoofBody := ownBody(push, "spoof-valid")
		valid := h.ghPush(t, "github-main", "", spoofBody, "spoof-valid")
		for k, v := range spoof {
			valid.Header[k] = []string{v, v}
		}
		seen := h.passes(t, "spoofed annotations on a valid delivery", valid, spoofBody)
		want := map[string]string{
			"X-Hookgate-Verified":    "true",
			"X-Hookgate-Vendor":      "github",
			"X-Hookgate-Integration": "github-main",
			"X-Hookgate-Delivery":    "spoof-valid",
		}
		for k, v := range want {
			if got := seen.header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("backend saw %s %q, want only hookgate's %q", k, got, v)
			}
		}
		if got := seen.header.Values("X-Hookgate-Event-Id"); len(got) != 1 || !strings.HasPrefix(got[0], "evt_") || got[0] == "evt_forged" {
			t.Errorf("backend saw X-Hookgate-Event-Id %q", got)
		}
		if got := seen.header.Values("X-Hookgate-Custom"); len(got) != 0 {
			t.Errorf("an inbound X-Hookgate-Custom reached the backend: %q", got)
		}

		// A credential sent twice is refused, even when both copies are valid.
		dup := h.ghPush(t, "github-main", "", push, "dup-1")
		s := dup.Header.Get("X-Hub-Signature-256")
		dup.Header["X-Hub-Signature-256"] = []string{s, s}
		h.expect(t, "signature header twice (both valid)", dup, 401, unauthorizedBody)
		dup = h.ghPush(t, "github-main", "", push, "dup-2")
		dup.Header["X-Hub-Signature-256"] = []string{"sha256=" + strings.Repeat("0", 64), s}
		h.expect(t, "signature header twice (forged first)", dup, 401, unauthorizedBody)
		res = h.raw(t, rawPost(ghPath, []string{"X-GitHub-Event: push", sig, strings.Replace(sig, "X-Hub-Signature-256", "x-hub-signature-256", 1), length, "Connection: close"}, push), nil, 0)
		if len(res.statuses) != 1 || res.statuses[0] != 401 || res.bodies[0] != unauthorizedBody {
			t.Errorf("signature header twice, differently cased: answers %v %q", res.statuses, res.bodies)
		}
		gl := signed(t, h.base+receiver(integrations.GitLab, "gitlab-main"), integrations.GitLab, integrations.SchemeToken, secretFor("gitlab-main"), push, nil)
		gl.Header.Add("X-Gitlab-Token", secretFor("gitlab-main"))
		h.expect(t, "token header twice", gl, 401, unauthorizedBody)
	})

	t.Run("malformed integration ids", func(t *testing.T) {
		keys := redisKeys(t, h.redisAddr, h.prefix)
		reads := h.reads.Load()
		before := h.backend.count()
		sig := "X-Hub-Signature-256: " + signature(t, "github-main", push)
		for _, target := range []string{
			"/webhooks/ci/github/../github-main",
			"/webhooks/ci/github/x/../github-main",
			"/webhooks/ci/github/%2e%2e/github-main",
			"/webhooks/ci/github/%2e%2e",
			"/webhooks/ci/github/..%2fgithub-main",
			"/webhooks/ci/github/%2e%2e%2fgithub-main",
			"/webhooks/ci/github/github-main%2f..%2f..%2fsecret",
			"/webhooks/ci/../ci/github/github-main",
			"/webhooks/ci/github/g%C3%AFthub-main",
			"/webhooks/ci/github/github%E2%80%90main",
			"/webhooks/ci/github/github-main%00",
			"/webhooks/ci/github/%00github-main",
			"/webhooks/ci/github/" + strings.Repeat("a", 129),
			"/webhooks/ci/github/",
			"/webhooks/ci/github/github-main/",
			"/webhooks/ci/github//github-main",
			"/webhooks/ci/github/.github-main",
			"/webhooks/ci/github/github main",
		} {
			res := h.raw(t, rawPost(strings.ReplaceAll(target, " ", "%20"), []string{"X-GitHub-Event: push", sig, "Content-Length: " + strconv.Itoa(len(push)), "Connection: close"}, push), nil, 0)
			if len(res.statuses) != 1 || res.statuses[0] != 401 || res.bodies[0] != unauthorizedBody {
				t.Errorf("%q: answers %v %q, want 401 %s", target, res.statuses, res.bodies, unauthorizedBody)
			}
		}
		if n := h.backend.count() - before; n != 0 {
			t.Errorf("%d request(s) with malformed ids reached the backend", n)
		}
		if n := h.reads.Load() - reads; n != 0 {
			t.Errorf("malformed ids cost %d Vault reads, want none", n)
		}
		if after := redisKeys(t, h.redisAddr, h.prefix); !slices.Equal(keys, after) {
			t.Errorf("malformed ids changed the Redis keys: %v -> %v", keys, after)
		}
	})

	t.Run("10000 distinct unknown ids", func(t *testing.T) {
		// Warm up: the first miss starts the known-id listing; give it a
		// moment so the flood meets a listed set.
		h.expect(t, "warm-up", h.ghPush(t, "flood-warm-up", "x", push, "w"), 401, unauthorizedBody)
		deadline := time.Now().Add(10 * time.Second)
		for h.lists.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if h.lists.Load() == 0 {
			t.Fatal("Caddy never listed the integrations in Vault")
		}
		time.Sleep(200 * time.Millisecond)

		keys := redisKeys(t, h.redisAddr, h.prefix)
		rss0 := vmRSS(t, h.caddy.Pid())
		reads0 := h.reads.Load()
		before := h.backend.count()
		const total, workers = 10000, 4
		var next atomic.Int64
		var mu sync.Mutex
		other := map[string]int{}
		start := time.Now()
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 30 * time.Second}
				defer client.CloseIdleConnections()
				body := []byte(`{"ref":"refs/heads/main"}`)
				for {
					i := next.Add(1) - 1
					if i >= total {
						return
					}
					id := fmt.Sprintf("flood-%05d", i)
					req, err := http.NewRequest(http.MethodPost, h.base+receiver(integrations.GitHub, id), bytes.NewReader(body))
					var resp *http.Response
					if err == nil {
						req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 32))
						req.Header.Set("X-GitHub-Event", "push")
						resp, err = client.Do(req)
					}
					var got string
					if err == nil {
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode == 401 && string(b) == unauthorizedBody {
							continue
						}
						got = fmt.Sprintf("%d %s", resp.StatusCode, b)
					} else {
						got = err.Error()
					}
					mu.Lock()
					other[got]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		reads := h.reads.Load() - reads0
		rss1 := vmRSS(t, h.caddy.Pid())
		t.Logf("%d requests in %s: %d Vault reads, %d listings so far, RSS %d -> %d KiB",
			total, elapsed.Round(time.Millisecond), reads, h.lists.Load(), rss0>>10, rss1>>10)

		if len(other) != 0 {
			t.Errorf("answers other than the uniform 401: %v", other)
		}
		if n := h.backend.count() - before; n != 0 {
			t.Errorf("%d unknown-id request(s) reached the backend", n)
		}
		if after := redisKeys(t, h.redisAddr, h.prefix); !slices.Equal(keys, after) {
			t.Errorf("unknown ids changed the Redis keys: %d before, %d after", len(keys), len(after))
		}
		// Unlisted ids may cost a read from a global token bucket of
		// DefaultUnlistedBurst, refilled at DefaultUnlistedRate per second;
		// nothing else. A little slack for the bucket's partial second.
		bound := int64(secretstore.DefaultUnlistedBurst) + int64(math.Ceil(elapsed.Seconds()))*secretstore.DefaultUnlistedRate + 10
		if reads > bound {
			t.Errorf("%d distinct unknown ids cost %d Vault reads in %s, want at most %d", total, reads, elapsed.Round(time.Millisecond), bound)
		}
		if growth := rss1 - rss0; growth > 64<<20 {
			t.Errorf("Caddy's RSS grew by %d MiB, want under 64 MiB", growth>>20)
		}

		// Integrations still work, one written straight into Vault too.
		putRecord(t, h.vault, "created-after-flood", map[string]any{"vendor": "github", "secret": secretFor("created-after-flood")})
		time.Sleep(time.Second) // the flood spent the bucket; let it refill a little
		h.passes(t, "integration created in Vault after the flood", h.ghPush(t, "created-after-flood", "", push, "after-flood"), push)
		afterFlood := ownBody(push, "after-flood-2")
		h.passes(t, "listed integration after the flood", h.ghPush(t, "github-main", "", afterFlood, "after-flood-2"), afterFlood)
	})
}

// vmRSS is the resident set size of process pid, in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return kb << 10
			}
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
