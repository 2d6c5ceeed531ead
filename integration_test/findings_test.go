package integration_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// findingService is a local HTTP server standing in for the upstream
// finding service. It answers with the status set by setStatus and counts,
// per Idempotency-Key, the events it acknowledged with 2xx.
type findingService struct {
	*httptest.Server
	mu       sync.Mutex
	status   int
	acked    map[string]int
	events   map[string]map[string]any
	attempts int
}

func newFindingService(t testing.TB) *findingService { return newFindingServiceOn(t, nil) }

// newFindingServiceOn is newFindingService on a given listener (nil: any
// free port).
func newFindingServiceOn(t testing.TB, l net.Listener) *findingService {
	f := &findingService{status: http.StatusOK, acked: map[string]int{}, events: map[string]map[string]any{}}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Header.Get("Idempotency-Key")
		f.mu.Lock()
		defer f.mu.Unlock()
		f.attempts++
		if f.status >= 300 {
			w.WriteHeader(f.status)
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil || key == "" || ev["id"] != key || r.Header.Get("Authorization") != "Bearer findings-token" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.acked[key]++
		f.events[key] = ev
		w.WriteHeader(f.status)
	}))
	if l != nil {
		f.Listener.Close()
		f.Listener = l
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func (f *findingService) setStatus(s int) {
	f.mu.Lock()
	f.status = s
	f.mu.Unlock()
}

// snapshot returns the acknowledged counts per event id.
func (f *findingService) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.acked))
	for k, v := range f.acked {
		out[k] = v
	}
	return out
}

func (f *findingService) attemptCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts
}

// eventually polls cond until it holds or the limit passes; the limit only
// stops a hung test, it asserts no duration.
func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantedEvents is the event ids the GitHub pushes sent must yield.
func wantedEvents(t *testing.T, sent []sentPush) map[string]bool {
	t.Helper()
	want := map[string]bool{}
	vc := caseFor(t, integrations.GitHub)
	for _, d := range sent {
		for _, id := range expectedIDs(t, vc, d.body, d.id) {
			want[id] = true
		}
	}
	return want
}

// awaitEvents waits up to limit for every id in want to reach fs, and
// fails naming what is missing and where the outbox under prefix holds it.
func awaitEvents(t *testing.T, fs *findingService, want map[string]bool, limit time.Duration, redisAddr, prefix string) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		got := fs.snapshot()
		var missing []string
		for id := range want {
			if got[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			pending, _ := execRedisCLI(redisAddr, "XPENDING", prefix+"{hg}:outbox", "delivery")
			length, _ := execRedisCLI(redisAddr, "XLEN", prefix+"{hg}:outbox")
			retries, _ := execRedisCLI(redisAddr, "ZCARD", prefix+"{hg}:outbox:retry")
			dead, _ := execRedisCLI(redisAddr, "HLEN", prefix+"{hg}:outbox:dead")
			t.Fatalf("%d of %d events of acknowledged deliveries not at the finding service within %s (e.g. %s); outbox length %s, retrying %s, dead %s, pending %s",
				len(missing), len(want), limit, missing[0], length, retries, dead, pending)
		}
	}
}
