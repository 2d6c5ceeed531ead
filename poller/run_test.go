package poller_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/poller"
)

// TestRunSlowVendorDoesNotHoldUpOthers: a Jira that hangs on every request
// (a local server that answers nothing until the test ends; no vendor SaaS
// is reachable from here) must not delay the next polls of a healthy
// ServiceNow integration: Run skips an integration whose visit is still in
// flight instead of waiting for it.
func TestRunSlowVendorDoesNotHoldUpOthers(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	hung := make(chan struct{}, 100)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	h.mu.Lock()
	h.recs = append(h.recs, integrations.Record{ID: "jira-slow", Vendor: integrations.Jira, Active: true,
		APIURL: slow.URL, APIUser: "bot@example.com", APIToken: "tok-jira-slow"})
	h.mu.Unlock()
	h.add("sn-fast", integrations.ServiceNow)

	p := h.poller("a", func(c *poller.Config) { c.Interval = 50 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	select {
	case <-hung:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow vendor was never asked")
	}
	start := h.sn.CallsOf("tok-sn-fast")
	deadline := time.Now().Add(10 * time.Second)
	for h.sn.CallsOf("tok-sn-fast") < start+3 {
		if time.Now().After(deadline) {
			t.Fatalf("healthy integration polled %d more times while the slow vendor hung; want 3", h.sn.CallsOf("tok-sn-fast")-start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(hung) > 0 {
		t.Fatalf("a second visit to the hanging vendor started while the first was in flight (%d)", len(hung))
	}
}
