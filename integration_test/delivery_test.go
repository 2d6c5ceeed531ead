package integration_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
	"github.com/hookgate/caddy-hookgate/internal/testcaddy"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// forwarder is Caddy in forward mode: static integrations for every
// vendor, events through Redis to a local finding service.
type forwarder struct {
	caddy *testcaddy.Instance
	base  string
	admin string
}

// startForwardCaddy runs Caddy in forward mode: hookgate's state on Redis
// at redisAddr under prefix, events delivered to upstreamURL with the token
// the local finding service checks (fast retries), hookgateLines added
// inside the hookgate block, and /webhooks/* answered 202 after hookgate.
func startForwardCaddy(t *testing.T, redisAddr, prefix, upstreamURL, hookgateLines string) *forwarder {
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
		upstream %s {
			timeout      2s
			max_attempts 5
			backoff      100ms 400ms
			header Authorization "Bearer {env.FINDINGS_TOKEN}"
		}
%s	}
}

:%d {
	route /webhooks/* {
		hookgate
		respond 202
	}
}
`, admin, redisAddr, prefix, upstreamURL, hookgateLines, port)
	in := testcaddy.Start(t, admin, cfg, []string{"FINDINGS_TOKEN=findings-token"}, fmt.Sprintf("127.0.0.1:%d", port))
	return &forwarder{caddy: in, base: fmt.Sprintf("http://127.0.0.1:%d", port), admin: "http://" + admin}
}

// startForwarder is startForwardCaddy with a static integration for every
// vendor (branches main release/*, scans sast sca, pipeline), and extra
// lines for the hookgate block.
func startForwarder(t *testing.T, redisAddr, prefix, upstreamURL string, extra ...string) *forwarder {
	t.Helper()
	var ints strings.Builder
	ints.WriteString("\t\tdedupe_window 1h\n")
	for _, line := range extra {
		ints.WriteString("\t\t" + line + "\n")
	}
	for _, vc := range vendorCases {
		id := string(vc.vendor) + "-main"
		fmt.Fprintf(&ints, "\t\tintegration %s {\n\t\t\tvendor %s\n\t\t\tsecret %s\n\t\t\tbranches main release/*\n\t\t\tscans sast sca\n\t\t\tpipeline\n\t\t}\n", id, vc.vendor, secretFor(id))
	}
	return startForwardCaddy(t, redisAddr, prefix, upstreamURL, ints.String())
}

// deliveryHeaders are vc's headers with the vendor's delivery-id header
// set to deliveryID (for vendors that send one in a header).
func deliveryHeaders(vc vendorCase, deliveryID string) map[string]string {
	headers := map[string]string{}
	for k, v := range vc.headers {
		headers[k] = v
	}
	if deliveryID == "" {
		return headers
	}
	switch vc.vendor {
	case integrations.GitHub:
		headers["X-GitHub-Delivery"] = deliveryID
	case integrations.Bitbucket:
		headers["X-Request-UUID"] = deliveryID
	case integrations.GitLab:
		headers["X-Gitlab-Event-UUID"] = deliveryID
	case integrations.Jira:
		headers["X-Atlassian-Webhook-Identifier"] = deliveryID
	}
	return headers
}

// post sends a signed delivery of vc with the given delivery id and body
// (made its own: ownBody) and returns the status.
func (f *forwarder) post(t *testing.T, vc vendorCase, body []byte, deliveryID string) int {
	t.Helper()
	id := string(vc.vendor) + "-main"
	body = ownBody(body, deliveryID)
	resp, _ := do(t, signed(t, f.base+vc.vendor.ReceiverPath(id), vc.vendor, vc.vendor.DefaultScheme(), secretFor(id), body, deliveryHeaders(vc, deliveryID)))
	return resp.StatusCode
}

// expectedIDs is what the pipeline must deliver for one delivery (post's
// body for deliveryID): the ids hookgate's own normalization and
// orchestration yield.
func expectedIDs(t *testing.T, vc vendorCase, body []byte, deliveryID string) []string {
	t.Helper()
	body = ownBody(body, deliveryID)
	h := http.Header{}
	for k, v := range deliveryHeaders(vc, deliveryID) {
		h.Set(k, v)
	}
	id := string(vc.vendor) + "-main"
	ident := events.Identify(vc.vendor, vc.vendor.DefaultScheme(), h, body)
	d := events.Delivery{Vendor: vc.vendor, Integration: id, Header: h, Body: body, Identity: ident,
		DeliveryKey: events.DeliveryKey(id, ident.Delivery, body), Signature: "valid", Via: "webhook", ReceivedAt: time.Now()}
	evs, ignored, _, err := events.Normalize(d)
	if err != nil {
		t.Fatalf("%s: %v", vc.payload, err)
	}
	if ignored {
		return nil
	}
	rec := integrations.Record{ID: id, Vendor: vc.vendor, Active: true, Branches: []string{"main", "release/*"}, Scans: []string{"sast", "sca"}, Pipeline: true}
	all, _ := events.Orchestrate(rec, evs)
	ids := make([]string, len(all))
	for i, e := range all {
		ids[i] = e.ID
	}
	return ids
}

func (f *forwarder) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(f.admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestForwardEveryVendor: each vendor's payloads are verified, normalized,
// stored and delivered to the finding service, each event once, with the
// fan-out (scans, pipeline, runbook) the integration asks for.
func TestForwardEveryVendor(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	f := startForwarder(t, redisAddr, prefix, fs.URL)

	want := map[string]bool{}
	posted := 0
	for _, vc := range vendorCases {
		dir := filepath.Join("..", "testdata", "payloads", string(vc.vendor))
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		sortByEventTime(t, string(vc.vendor), files)
		for i, file := range files {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c := vc
			// GitHub, GitLab and Bitbucket name the event in a header: post
			// only the files of the case's event (repo-push.json,
			// repo-push--multi.json, ...); the others name it in the body.
			stem := strings.TrimSuffix(filepath.Base(vc.payload), ".json")
			if len(vc.headers) > 0 && vc.vendor != integrations.Jira && !strings.HasPrefix(filepath.Base(file), stem) {
				continue
			}
			deliveryID := fmt.Sprintf("%s-%d", vc.vendor, i)
			ids := expectedIDs(t, c, body, deliveryID)
			if status := f.post(t, c, body, deliveryID); status != http.StatusAccepted {
				t.Fatalf("%s: %d", file, status)
			}
			posted++
			for _, id := range ids {
				want[id] = true
			}
		}
	}
	if len(want) < posted {
		t.Fatalf("only %d events expected from %d deliveries: the fixtures prove little", len(want), posted)
	}
	eventually(t, 60*time.Second, "every event at the finding service", func() bool { return len(fs.snapshot()) >= len(want) })
	got := fs.snapshot()
	for id := range want {
		if got[id] != 1 {
			t.Errorf("event %s acknowledged %d times", id, got[id])
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("unexpected event %s", id)
		}
	}
	// The same delivery again is a duplicate: 200, not passed on.
	vc := caseFor(t, integrations.GitHub)
	body := readPayload(t, vc.payload)
	if s := f.post(t, vc, body, "dup-check"); s != http.StatusAccepted {
		t.Fatalf("first delivery: %d", s)
	}
	resp, _ := do(t, signed(t, f.base+vc.vendor.ReceiverPath("github-main"), vc.vendor, integrations.SchemeHMAC, secretFor("github-main"), body,
		deliveryHeaders(vc, "dup-check")))
	if resp.StatusCode != 200 || resp.Header.Get("X-Hookgate-Duplicate") != "true" {
		t.Fatalf("duplicate delivery: %d %q", resp.StatusCode, resp.Header.Get("X-Hookgate-Duplicate"))
	}
	// A valid signature over a body that is not JSON: 400, after verification.
	resp, _ = do(t, signed(t, f.base+vc.vendor.ReceiverPath("github-main"), vc.vendor, integrations.SchemeHMAC, secretFor("github-main"), []byte("{\"ref\": \xff"),
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "malformed"}))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed body after a valid signature: %d", resp.StatusCode)
	}
}

// sortByEventTime orders a vendor's payload files by the event time their
// bodies state, as the vendor sent them: a ticket change posted after a
// newer one of the same ticket would be kept back as stale.
func sortByEventTime(t *testing.T, folder string, files []string) {
	t.Helper()
	at := map[string]time.Time{}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := payloads.Delivery(folder+"/"+filepath.Base(f), body); err == nil {
			if n, err := events.NormalizeDelivery(d); err == nil {
				at[f] = n.Facts.EventTime
			}
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return at[files[i]].Before(at[files[j]]) })
}

// TestUpstreamOutageThenRecovery: while the finding service answers 503,
// deliveries are still accepted; after it recovers every event arrives,
// once.
func TestUpstreamOutageThenRecovery(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	fs.setStatus(http.StatusServiceUnavailable)
	f := startForwarder(t, redisAddr, prefix, fs.URL)
	vc := caseFor(t, integrations.GitHub)
	body := readPayload(t, vc.payload)
	want := map[string]bool{}
	for i := 0; i < 20; i++ {
		d := fmt.Sprintf("outage-%d", i)
		for _, id := range expectedIDs(t, vc, body, d) {
			want[id] = true
		}
		if s := f.post(t, vc, body, d); s != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", i, s)
		}
	}
	eventually(t, 30*time.Second, "attempts against the failing finding service", func() bool { return fs.attemptCount() >= 20 })
	fs.setStatus(http.StatusOK)
	eventually(t, 60*time.Second, "every event after recovery", func() bool { return len(fs.snapshot()) >= len(want) })
	for id, n := range fs.snapshot() {
		if !want[id] || n != 1 {
			t.Errorf("event %s acknowledged %d times (expected: %v)", id, n, want[id])
		}
	}
}

// TestDeadLetterAndRedrive: a permanent 400 lands in the dead letters;
// redrive delivers it once the finding service accepts it.
func TestDeadLetterAndRedrive(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	fs.setStatus(http.StatusBadRequest)
	f := startForwarder(t, redisAddr, prefix, fs.URL)
	vc := caseFor(t, integrations.GitHub)
	body := readPayload(t, vc.payload)
	want := expectedIDs(t, vc, body, "dead-1")
	if s := f.post(t, vc, body, "dead-1"); s != http.StatusAccepted {
		t.Fatalf("delivery: %d", s)
	}
	var dl struct {
		Entries []struct {
			ID        string          `json:"id"`
			Event     json.RawMessage `json:"event"`
			Attempts  int             `json:"attempts"`
			LastError string          `json:"last_error"`
		} `json:"entries"`
	}
	eventually(t, 30*time.Second, "dead letters", func() bool {
		f.getJSON(t, "/hookgate/deadletter", &dl)
		return len(dl.Entries) == len(want)
	})
	for _, e := range dl.Entries {
		if e.Attempts != 1 || !strings.Contains(e.LastError, "400") || !json.Valid(e.Event) {
			t.Errorf("dead letter %+v", e)
		}
	}
	fs.setStatus(http.StatusOK)
	resp, err := http.Post(f.admin+"/hookgate/deadletter/redrive", "application/json", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	var rd struct {
		Redriven int `json:"redriven"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&rd)
	resp.Body.Close()
	if rd.Redriven != len(want) {
		t.Fatalf("redriven %d, want %d", rd.Redriven, len(want))
	}
	eventually(t, 30*time.Second, "redriven events", func() bool { return len(fs.snapshot()) == len(want) })
	f.getJSON(t, "/hookgate/deadletter", &dl)
	if len(dl.Entries) != 0 {
		t.Fatalf("dead letters left after redrive: %d", len(dl.Entries))
	}
}

// TestRedisStoppedThenBack: with Redis down a verified delivery is refused
// 503 + Retry-After (never falsely acknowledged); when Redis is back,
// deliveries are accepted and delivered again.
func TestRedisStoppedThenBack(t *testing.T) {
	rs := testredis.Start(t)
	fs := newFindingService(t)
	f := startForwarder(t, rs.Addr, "hookgate:", fs.URL)
	vc := caseFor(t, integrations.GitHub)
	body := readPayload(t, vc.payload)
	if s := f.post(t, vc, body, "before"); s != http.StatusAccepted {
		t.Fatalf("before the outage: %d", s)
	}
	rs.Stop()
	id := "github-main"
	resp, _ := do(t, signed(t, f.base+vc.vendor.ReceiverPath(id), vc.vendor, integrations.SchemeHMAC, secretFor(id), body,
		map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "during"}))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("Redis down: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	rs.Restart(t)
	want := map[string]bool{}
	for _, d := range []string{"before", "during"} {
		for _, id := range expectedIDs(t, vc, body, d) {
			want[id] = true
		}
	}
	eventually(t, 30*time.Second, "accepted again after Redis returns", func() bool { return f.post(t, vc, body, "during") == http.StatusAccepted })
	eventually(t, 60*time.Second, "all events delivered", func() bool { return len(fs.snapshot()) >= len(want) })
	for id, n := range fs.snapshot() {
		if !want[id] || n != 1 {
			t.Errorf("event %s acknowledged %d times", id, n)
		}
	}
}

// TestKilledWithPendingEvents: Caddy killed with SIGKILL while events wait
// for a failing finding service; a new Caddy on the same Redis delivers
// them after a Redis restart from its append-only file.
func TestKilledWithPendingEvents(t *testing.T) {
	rs := testredis.Start(t)
	fs := newFindingService(t)
	fs.setStatus(http.StatusServiceUnavailable)
	f := startForwarder(t, rs.Addr, "hookgate:", fs.URL)
	vc := caseFor(t, integrations.GitHub)
	body := readPayload(t, vc.payload)
	want := map[string]bool{}
	for i := 0; i < 10; i++ {
		d := fmt.Sprintf("kill-%d", i)
		for _, id := range expectedIDs(t, vc, body, d) {
			want[id] = true
		}
		if s := f.post(t, vc, body, d); s != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", i, s)
		}
	}
	f.caddy.Kill()
	rs.Restart(t) // the outbox survives a Redis restart too (append-only file)
	fs.setStatus(http.StatusOK)
	startForwarder(t, rs.Addr, "hookgate:", fs.URL)
	eventually(t, 90*time.Second, "pending events after the restart", func() bool { return len(fs.snapshot()) >= len(want) })
	for id, n := range fs.snapshot() {
		if !want[id] || n != 1 {
			t.Errorf("event %s acknowledged %d times", id, n)
		}
	}
}

// TestTwoInstancesShareTheOutbox: two Caddy processes on one Redis; each
// event id is delivered once.
func TestTwoInstancesShareTheOutbox(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	a := startForwarder(t, redisAddr, prefix, fs.URL)
	b := startForwarder(t, redisAddr, prefix, fs.URL)
	vc := caseFor(t, integrations.GitHub)
	body := readPayload(t, vc.payload)
	want := map[string]bool{}
	for i := 0; i < 60; i++ {
		d := fmt.Sprintf("two-%d", i)
		for _, id := range expectedIDs(t, vc, body, d) {
			want[id] = true
		}
		inst := a
		if i%2 == 1 {
			inst = b
		}
		if s := inst.post(t, vc, body, d); s != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", i, s)
		}
	}
	eventually(t, 60*time.Second, "every event", func() bool { return len(fs.snapshot()) >= len(want) })
	for id, n := range fs.snapshot() {
		if !want[id] || n != 1 {
			t.Errorf("event %s acknowledged %d times", id, n)
		}
	}
	if fs.attemptCount() != len(want) {
		t.Errorf("%d delivery attempts for %d events: some event was delivered twice", fs.attemptCount(), len(want))
	}
}

// TestAuditKeepsNewestAndForgedApart: 230 accepted and 300 forged
// deliveries to one integration: the audit keeps the newest 200 accepted,
// newest first, and the forged ones in their own list. Unknown ids leave
// no Redis key. The brute-force limiter is off: past its threshold the
// forged deliveries would get 429 and no audit entry (TestFailureLimit).
func TestAuditKeepsNewestAndForgedApart(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	f := startForwarder(t, redisAddr, prefix, fs.URL, "failure_limit off")
	vc := caseFor(t, integrations.GitHub)
	body := readPayload(t, vc.payload)
	for i := 0; i < 230; i++ {
		if s := f.post(t, vc, body, fmt.Sprintf("audit-%03d", i)); s != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", i, s)
		}
	}
	url := f.base + vc.vendor.ReceiverPath("github-main")
	for i := 0; i < 300; i++ {
		resp, _ := do(t, signed(t, url, vc.vendor, integrations.SchemeHMAC, "forged", body, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": fmt.Sprintf("forged-%d", i)}))
		if resp.StatusCode != 401 {
			t.Fatalf("forged %d: %d", i, resp.StatusCode)
		}
	}
	unknown := "never-configured-integration"
	resp, _ := do(t, signed(t, f.base+vc.vendor.ReceiverPath(unknown), vc.vendor, integrations.SchemeHMAC, "x", body, nil))
	if resp.StatusCode != 401 {
		t.Fatalf("unknown id: %d", resp.StatusCode)
	}
	var audit struct {
		Accepted []struct {
			Delivery, Signature, Action, Repository, Branch string
		} `json:"accepted"`
		Rejected []struct {
			Delivery, Signature, Reason string
		} `json:"rejected"`
	}
	f.getJSON(t, "/hookgate/integrations/github-main/events", &audit)
	if len(audit.Accepted) != 200 || len(audit.Rejected) != 200 {
		t.Fatalf("accepted %d, rejected %d; want 200 each", len(audit.Accepted), len(audit.Rejected))
	}
	if audit.Accepted[0].Delivery != "audit-229" || audit.Accepted[199].Delivery != "audit-030" {
		t.Fatalf("accepted not the newest 200, newest first: %s … %s", audit.Accepted[0].Delivery, audit.Accepted[199].Delivery)
	}
	a := audit.Accepted[0]
	if a.Signature != "valid" || !strings.Contains(a.Action, "forwarded") || a.Repository == "" || a.Branch != "main" {
		t.Errorf("accepted entry %+v", a)
	}
	r := audit.Rejected[0]
	if r.Delivery != "forged-299" || r.Signature != "invalid" || r.Reason == "" {
		t.Errorf("rejected entry %+v", r)
	}
	keys := redisKeys(t, redisAddr, prefix)
	for _, k := range keys {
		if strings.Contains(k, unknown) {
			t.Errorf("a Redis key names an unknown integration: %s", k)
		}
	}
	if len(keys) == 0 {
		t.Fatal("no keys under the prefix: the check above proves nothing")
	}
}

func redisKeys(t *testing.T, addr, prefix string) []string {
	t.Helper()
	out, err := execRedisCLI(addr, "--scan", "--pattern", prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	keys := strings.Fields(out)
	sort.Strings(keys)
	return keys
}
