package integration_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// reloadCaddyfile is a forwarding Caddy with the github-main integration;
// auditSize is the setting each reload changes.
func reloadCaddyfile(admin string, port int, redisAddr, prefix, upstream string, auditSize int) string {
	return fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	hookgate {
		redis {
			address    %s
			key_prefix %s
		}
		upstream %s {
			timeout      2s
			max_attempts 5
			backoff      100ms 400ms
			header Authorization "Bearer {env.FINDINGS_TOKEN}"
		}
		audit_size %d
		integration github-main {
			vendor   github
			secret   {env.GH_MAIN_SECRET}
			branches main release/*
			scans    sast sca
			pipeline
		}
	}
}

:%d {
	route /webhooks/* {
		hookgate
		respond 202
	}
}
`, admin, redisAddr, prefix, upstream, auditSize, port)
}

// goroutineStats reads Caddy's goroutine dump (admin /debug/pprof): the
// total, and how many are an outbox worker's Run.
func goroutineStats(t *testing.T, admin string) (total, workers int) {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/debug/pprof/goroutine?debug=2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dump, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(dump)) {
		switch {
		case strings.HasPrefix(line, "goroutine "):
			total++
		case strings.HasPrefix(line, "github.com/hookgate/caddy-hookgate/upstream.(*Worker).Run("):
			workers++
		}
	}
	return total, workers
}

// openSockets counts the process's open sockets.
func openSockets(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// TestReloadsUnderLoadLoseNothing: twenty `caddy reload`s (POST /load,
// each a real change) while signed deliveries arrive. No delivery is
// answered other than 202 or a documented 503; every acknowledged
// delivery's events reach the finding service within seconds of the load's
// end, far sooner than the reclaim timeout (2 × 2s + 30s), because a
// stopping worker finishes or hands back what it holds; and afterwards
// one outbox worker runs, and goroutines and sockets are back near their
// start once the config that served the load is itself replaced (it holds
// the load's keep-alive connections to the finding service until then).
func TestReloadsUnderLoadLoseNothing(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	in := testcaddy.Start(t, admin, reloadCaddyfile(admin, port, redisAddr, prefix, fs.URL, 200),
		[]string{"GH_MAIN_SECRET=" + secretFor("github-main"), "FINDINGS_TOKEN=findings-token"}, fmt.Sprintf("127.0.0.1:%d", port))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	template := readPayload(t, "github/push.json")
	targets := map[string]string{"a": base + receiver(integrations.GitHub, "github-main")}

	// Warm up: one delivery through, so the pools exist before counting.
	warm := signed(t, targets["a"], integrations.GitHub, integrations.SchemeHMAC, secretFor("github-main"), pushOf(t, template, "warm-up"),
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "warm-up"})
	if resp, raw := do(t, warm); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("warm-up: %d %s", resp.StatusCode, raw)
	}
	eventually(t, 10*time.Second, "the warm-up delivered", func() bool { return len(fs.snapshot()) > 0 })
	startTotal, startWorkers := goroutineStats(t, admin)
	startSockets := openSockets(t, in.Pid())
	if startWorkers != 1 {
		t.Fatalf("%d outbox workers at start, want 1", startWorkers)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	reload := func(i int) {
		cfg := reloadCaddyfile(admin, port, redisAddr, prefix, fs.URL, 200+i)
		resp, err := http.Post("http://"+admin+"/load", "text/caddyfile", bytes.NewReader([]byte(cfg)))
		if err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reload %d: %d %s", i, resp.StatusCode, body)
		}
	}
	load := loadPushes(ctx, t, 4, targets, template)
	for i := 1; i <= 20; i++ {
		time.Sleep(300 * time.Millisecond)
		reload(i)
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	<-load.done
	loadEnd := time.Now()

	load.mu.Lock()
	acked := load.accepted["a"]
	refused := map[int]int{}
	for code, n := range load.refused {
		refused[code] = n
	}
	load.mu.Unlock()
	for code, n := range refused {
		if code != http.StatusServiceUnavailable {
			t.Errorf("%d deliveries answered %d during the reloads (0: as duplicates)", n, code)
		}
	}
	// A keep-alive connection the old server closes as the new one takes
	// over can meet a request already on its way (Caddy's, and any HTTP/1
	// server's, graceful restart): the sender sees a connection error,
	// not an answer, and retries; nothing was acknowledged.
	if len(acked) < 200 {
		t.Fatalf("too little load to prove anything: %d acknowledged", len(acked))
	}
	want := wantedEvents(t, acked)
	awaitEvents(t, fs, want, 10*time.Second, redisAddr, prefix)
	t.Logf("%d connection errors (not answers) during the reloads", load.errors)
	t.Logf("%d deliveries acknowledged, %d answered 503, all %d events delivered %s after the load; 20 reloads",
		len(acked), refused[http.StatusServiceUnavailable], len(want), time.Since(loadEnd).Round(100*time.Millisecond))

	// The config serving now holds the connections the load opened to the
	// finding service; one more reload, without traffic, must close them
	// with the rest of that config: then every count is back to its start.
	reload(21)
	var total, workers, sockets int
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		total, workers = goroutineStats(t, admin)
		sockets = openSockets(t, in.Pid())
		if workers == 1 && total <= startTotal+5 && sockets <= startSockets+2 {
			break
		}
		if time.Now().After(deadline) {
			if resp, err := http.Get("http://" + admin + "/debug/pprof/goroutine?debug=1"); err == nil {
				dump, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("goroutines:\n%s", dump)
			}
			t.Fatalf("20s after the reloads: goroutines %d (start %d), outbox workers %d (want 1), sockets %d (start %d)",
				total, startTotal, workers, sockets, startSockets)
		}
	}
	t.Logf("goroutines %d (start %d), outbox workers %d, sockets %d (start %d)", total, startTotal, workers, sockets, startSockets)
}
