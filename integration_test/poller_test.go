package integration_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// TestPollerDeliversWhatTheWebhookMissed: a Jira status change whose
// webhook never arrived reaches the finding service through the poll
// (source.via poll, transition retest); the same change then arriving as a
// webhook is a duplicate, and a change delivered by webhook first is not
// delivered again when the poll sees it: the finding service sees each
// change once.
func TestPollerDeliversWhatTheWebhookMissed(t *testing.T) {
	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	jira := newFakeJiraCloudSearchAPI(t) // internal/fakevendors: no vendor SaaS is reachable from here
	f := startForwardCaddy(t, redisAddr, prefix, fs.URL, fmt.Sprintf(`		poll_interval 1s
		integration jira-poll {
			vendor    jira
			scheme    hmac
			secret    %s
			api_url   %s
			api_user  poller@example.com
			api_token jira-api-token
		}
`, secretFor("jira-poll"), jira.URL))

	// The first visit only sets the cursor: history is not replayed.
	var status struct {
		Running      bool `json:"running"`
		Integrations []struct {
			Integration string `json:"integration"`
			Cursor      string `json:"cursor"`
			LeaseHolder string `json:"lease_holder"`
			LastError   string `json:"last_error"`
		} `json:"integrations"`
	}
	eventually(t, 30*time.Second, "the poller's first visit", func() bool {
		resp, err := http.Get(f.admin + "/hookgate/poller")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&status)
		return status.Running && len(status.Integrations) == 1 && status.Integrations[0].Cursor != ""
	})
	if st := status.Integrations[0]; st.Integration != "jira-poll" || st.LeaseHolder == "" || st.LastError != "" {
		t.Fatalf("poller status %+v", st)
	}

	changedAt := time.Now().UTC().Truncate(time.Second)
	jira.Transition("SEC-42", "Done", "10002", "done", changedAt)
	var polled map[string]any
	eventually(t, 30*time.Second, "the polled change at the finding service", func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		for _, ev := range fs.events {
			if ev["type"] == "ticket.status_changed" {
				polled = ev
				return true
			}
		}
		return false
	})
	src, _ := polled["source"].(map[string]any)
	tk, _ := polled["ticket"].(map[string]any)
	if src["via"] != "poll" || tk["key"] != "SEC-42" || tk["finding_transition"] != "retest" || tk["status_category"] != "done" {
		t.Fatalf("polled event %v", polled)
	}

	// Poll lag is a metric with the vendor as its only label.
	mresp, err := http.Get(f.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(metrics), `caddy_hookgate_poll_lag_seconds{vendor="jira"}`) || strings.Contains(string(metrics), "jira-poll") {
		t.Fatalf("poll lag metric missing or labelled with an integration id:\n%s", grepLines(string(metrics), "hookgate"))
	}

	// The same change as a (late) webhook: same event id, so a duplicate.
	body := fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"jira:issue_updated","issue":{"id":"10457","key":"SEC-42","fields":{"status":{"name":"Done","id":"10002","statusCategory":{"key":"done"}},"updated":"%s"}},"changelog":{"id":"18001","items":[{"field":"status","fromString":"In Progress","toString":"Done","to":"10002"}]}}`,
		changedAt.UnixMilli(), changedAt.Format("2006-01-02T15:04:05.000-0700"))
	resp, _ := do(t, signed(t, f.base+"/webhooks/jira/jira-poll", integrations.Jira, integrations.SchemeHMAC,
		secretFor("jira-poll"), []byte(body), map[string]string{"X-Atlassian-Webhook-Identifier": "late-webhook"}))
	if resp.StatusCode != 200 || resp.Header.Get("X-Hookgate-Duplicate") != "true" {
		t.Fatalf("the late webhook for a polled change: %d duplicate=%q", resp.StatusCode, resp.Header.Get("X-Hookgate-Duplicate"))
	}
	// The other order: a change delivered by webhook first, then seen by
	// the poll, is not delivered again.
	hookedAt := changedAt.Add(time.Second)
	body2 := fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"jira:issue_updated","issue":{"id":"10458","key":"SEC-43","fields":{"status":{"name":"Done","id":"10002","statusCategory":{"key":"done"}},"updated":"%s"}},"changelog":{"id":"18001","items":[{"field":"status","fromString":"In Progress","toString":"Done","to":"10002"}]}}`,
		hookedAt.UnixMilli(), hookedAt.Format("2006-01-02T15:04:05.000-0700"))
	resp, _ = do(t, signed(t, f.base+"/webhooks/jira/jira-poll", integrations.Jira, integrations.SchemeHMAC,
		secretFor("jira-poll"), []byte(body2), map[string]string{"X-Atlassian-Webhook-Identifier": "first-webhook"}))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the webhook for SEC-43: %d", resp.StatusCode)
	}
	var hooked string
	eventually(t, 30*time.Second, "the webhook's change at the finding service", func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		for id, ev := range fs.events {
			if tk, _ := ev["ticket"].(map[string]any); tk["key"] == "SEC-43" {
				hooked = id
				return true
			}
		}
		return false
	})
	jira.Transition("SEC-43", "Done", "10002", "done", hookedAt)

	// More polls pass over both changes (overlap window): each still once.
	before := jira.CallCount()
	eventually(t, 30*time.Second, "three more polls", func() bool { return jira.CallCount() >= before+3 })
	id, _ := polled["id"].(string)
	for _, e := range []string{id, hooked} {
		if n := fs.snapshot()[e]; n != 1 {
			t.Fatalf("event %s acknowledged %d times", e, n)
		}
	}
	if len(fs.snapshot()) != 2 {
		t.Fatalf("%d events at the finding service, want 2", len(fs.snapshot()))
	}
	if !strings.HasPrefix(id, "evt_") {
		t.Fatalf("event id %q", id)
	}
}

// grepLines returns the lines of text that contain sub.
func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
