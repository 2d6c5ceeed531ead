package integration_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// limitedGate is a Caddy gate with a low brute-force limit: one static
// GitHub integration, state on Redis, verified deliveries proxied to a
// backend.
type limitedGate struct {
	caddy *testcaddy.Instance
	base  string
}

const (
	limitID        = "lim-gh"
	limitThreshold = 5
	limitUnknown   = 5
)

func startLimitedGate(t *testing.T, redisAddr, prefix, backendAddr string) *limitedGate {
	t.Helper()
	admin := fmt.Sprintf("127.0.0.1:%d", testcaddy.FreePort(t))
	port := testcaddy.FreePort(t)
	cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	hookgate {
		max_age off # the fixtures are of many dates; max_age has its own tests (replay_test.go)
		redis {
			address    %s
			key_prefix %s
		}
		failure_limit {
			threshold         %d
			unknown_threshold %d
			window            1m
		}
		integration %s {
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
`, admin, redisAddr, prefix, limitThreshold, limitUnknown, limitID, secretFor(limitID), port, backendAddr)
	in := testcaddy.Start(t, admin, cfg, nil, fmt.Sprintf("127.0.0.1:%d", port))
	return &limitedGate{caddy: in, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
}

// post sends a GitHub push to id signed with secret and returns the
// answer's status, Retry-After and body.
func (g *limitedGate) post(t *testing.T, id, secret, delivery string) (int, string, string) {
	t.Helper()
	body := ownBody(readPayload(t, "github/push.json"), delivery)
	req := signed(t, g.base+integrations.GitHub.ReceiverPath(id), integrations.GitHub, integrations.SchemeHMAC, secret, body,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery})
	resp, got := do(t, req)
	return resp.StatusCode, resp.Header.Get("Retry-After"), got
}

// wantLimited checks a 429 with the uniform body and a Retry-After within
// the one-minute window.
func wantLimited(t *testing.T, what string, status int, retryAfter, body string) {
	t.Helper()
	if status != http.StatusTooManyRequests || body != `{"error":"too many requests"}` {
		t.Fatalf("%s: %d %q, want 429 too many requests", what, status, body)
	}
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 || n > 60 {
		t.Errorf("%s: Retry-After %q, want 1..60 seconds", what, retryAfter)
	}
}

// TestFailureLimit drives the brute-force limiter through two real Caddy
// instances on one Redis: forged deliveries are answered 401 up to the
// threshold and 429 after, by both instances; a valid delivery from the
// same address still reaches the backend; unknown ids are limited per
// address, and Redis holds a handful of keys, none naming an unknown id.
func TestFailureLimit(t *testing.T) {
	c := testredis.Client(t)
	redisAddr := testredis.Options(t).Addrs[0]
	prefix := testredis.Prefix(t, c)
	be := newBackend(t)
	backendAddr := strings.TrimPrefix(be.URL, "http://")
	a := startLimitedGate(t, redisAddr, prefix, backendAddr)
	b := startLimitedGate(t, redisAddr, prefix, backendAddr)

	// Far enough from the end of a one-minute window that every count
	// below lands in one window.
	for time.Now().Second() > 40 {
		time.Sleep(time.Second)
	}

	for i := range limitThreshold {
		if status, _, body := a.post(t, limitID, "wrong-secret", fmt.Sprintf("forged-%d", i)); status != http.StatusUnauthorized {
			t.Fatalf("forged delivery %d: %d %q, want 401", i+1, status, body)
		}
	}
	status, retry, body := a.post(t, limitID, "wrong-secret", "forged-over")
	wantLimited(t, "forged delivery over the threshold", status, retry, body)

	// A valid delivery from the limited address passes, on both instances.
	for i, g := range []*limitedGate{a, b} {
		before := be.count()
		if status, _, body := g.post(t, limitID, secretFor(limitID), fmt.Sprintf("valid-%d", i)); status != http.StatusOK || body != "backend ok" {
			t.Fatalf("instance %d: valid delivery from a limited address: %d %q", i, status, body)
		}
		if be.count() != before+1 {
			t.Errorf("instance %d: the backend did not get the valid delivery", i)
		}
	}
	// The other instance agrees: it has seen no failure itself.
	status, retry, body = b.post(t, limitID, "wrong-secret", "forged-b")
	wantLimited(t, "forged delivery at the second instance", status, retry, body)

	// Unknown ids: per address only.
	var unknown []string
	for i := range limitUnknown {
		id := fmt.Sprintf("nope-%s-%d", strings.Trim(prefix, ":"), i)
		unknown = append(unknown, id)
		if status, _, body := a.post(t, id, secretFor(limitID), "u"); status != http.StatusUnauthorized {
			t.Fatalf("unknown id %d: %d %q, want 401", i+1, status, body)
		}
	}
	for i, g := range []*limitedGate{a, b, a} {
		id := fmt.Sprintf("nope-%s-over-%d", strings.Trim(prefix, ":"), i)
		unknown = append(unknown, id)
		status, retry, body := g.post(t, id, secretFor(limitID), "u")
		wantLimited(t, fmt.Sprintf("unknown id over the threshold (%d)", i), status, retry, body)
	}
	// The known integration is not limited by unknown ids.
	if status, _, body := b.post(t, limitID, secretFor(limitID), "valid-after-unknown"); status != http.StatusOK {
		t.Fatalf("valid delivery after the unknown flood: %d %q", status, body)
	}

	// Redis: one failure hash per scope and window, plus the audit lists
	// and dedupe and replay marks of the valid deliveries; nothing names an unknown
	// id, and the failure hashes expire with their window.
	keys := redisKeys(t, redisAddr, prefix)
	for i := range keys {
		keys[i] = strings.TrimPrefix(keys[i], prefix)
	}
	t.Logf("keys under the prefix: %q", keys)
	var fail []string
	for _, k := range keys {
		for _, id := range unknown {
			if strings.Contains(k, id) {
				t.Errorf("key %q names unknown id %q", k, id)
			}
		}
		if strings.HasPrefix(k, "{hg}:fail") {
			fail = append(fail, k)
		}
	}
	if len(fail) != 2 || !strings.HasPrefix(fail[0], "{hg}:fail-unknown:") || !strings.HasPrefix(fail[1], "{hg}:fail:"+limitID+":") {
		t.Fatalf("failure keys %q, want one per scope (all keys: %q)", fail, keys)
	}
	// Besides them: the audit lists and two dedupe marks per valid delivery
	// (its delivery id, and its body: GitHub's MAC leaves the id unsigned).
	var other []string
	for _, k := range keys {
		if !strings.HasPrefix(k, "{hg}:fail") && !strings.HasPrefix(k, "{hg}:dedupe:") && !strings.HasPrefix(k, "{hg}:audit:"+limitID+":") {
			other = append(other, k)
		}
	}
	if len(other) != 0 || len(keys) != 2+2+2*3 {
		t.Errorf("keys under the prefix: %q, want the two failure hashes, two audit lists and six dedupe marks", keys)
	}
	ctx := context.Background()
	for _, k := range fail {
		pttl, err := c.PTTL(ctx, prefix+k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if pttl <= 0 || pttl > 61*time.Second {
			t.Errorf("PTTL %s = %v, want within the window", k, pttl)
		}
		fields, err := c.HGetAll(ctx, prefix+k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(fields) != 1 || fields["127.0.0.1"] == "" {
			t.Errorf("%s = %v, want one field for 127.0.0.1", k, fields)
		}
	}
	// The audit log holds the rejections up to the first answer over the
	// threshold, not the flood after it.
	rejected, err := c.LRange(ctx, prefix+"{hg}:audit:"+limitID+":rejected", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	limitedEntries := 0
	for _, e := range rejected {
		if strings.Contains(e, "rate limited") {
			limitedEntries++
		}
	}
	if len(rejected) != limitThreshold+1 || limitedEntries != 1 {
		t.Errorf("rejected audit: %d entries (%d rate limited), want %d (1)", len(rejected), limitedEntries, limitThreshold+1)
	}
}

// With its Redis down the limiter fails open: forged deliveries keep being
// answered 401, never 429 or 503, and the outage is logged, not per
// request.
func TestFailureLimitFailsOpen(t *testing.T) {
	rs := testredis.Start(t)
	be := newBackend(t)
	g := startLimitedGate(t, rs.Addr, "hg:", strings.TrimPrefix(be.URL, "http://"))
	rs.Stop()
	for i := range 2*limitThreshold + 2 {
		if status, _, body := g.post(t, limitID, "wrong-secret", fmt.Sprintf("forged-%d", i)); status != http.StatusUnauthorized {
			t.Fatalf("forged delivery %d with Redis down: %d %q, want 401", i+1, status, body)
		}
		if status, _, body := g.post(t, "nope", secretFor(limitID), "u"); status != http.StatusUnauthorized {
			t.Fatalf("unknown id %d with Redis down: %d %q, want 401", i+1, status, body)
		}
	}
	if n := strings.Count(g.caddy.Log(), "brute-force limiter unavailable"); n != 1 {
		t.Errorf("outage logged %d times, want once", n)
	}
}
