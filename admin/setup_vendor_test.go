package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/state"
)

// fakeHookAPI answers GitHub's hook calls (list: none, create: hook 5,
// ping: 204) and GitLab's (list: none, create: hook 6, test: 201, events
// list: 404, as before GitLab 17.3), calling onTest when a test delivery
// is asked for. No vendor SaaS is reachable from the tests.
func fakeHookAPI(t *testing.T, onTest func()) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		p := r.URL.EscapedPath()
		switch {
		case r.Method == http.MethodGet && (strings.HasSuffix(p, "/hooks")):
			_, _ = w.Write([]byte(`[]`))
		case r.Method == http.MethodPost && strings.HasPrefix(p, "/repos/") && strings.HasSuffix(p, "/hooks"):
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 5})
		case r.Method == http.MethodPost && strings.HasPrefix(p, "/api/v4/") && strings.HasSuffix(p, "/hooks"):
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 6, "url": "x"})
		case r.Method == http.MethodPost && (strings.HasSuffix(p, "/pings") || strings.HasSuffix(p, "/test/push_events")):
			onTest()
			if strings.HasSuffix(p, "/pings") {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"message":"201 Created"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"404 Not Found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSetupTakesOnlyItsPing: while setup waits, a foreign verified push
// and a replayed copy arrive before the ping; setup takes neither, and
// reports verified with the ping's delivery id once it arrives.
func TestSetupTakesOnlyItsPing(t *testing.T) {
	s, v, logged, _ := newService(t)
	ctx := context.Background()
	mem := s.Deliveries
	deliver := func() {
		go func() {
			now := time.Now()
			_, _ = mem.Commit(ctx, state.Accepted{Integration: "gh", Audit: state.AuditEntry{Time: now, Event: "push", Delivery: "foreign-1", Signature: "valid", Action: "forwarded"}, AuditSize: 10})
			_ = mem.Reject(ctx, "gh", state.AuditEntry{Time: now, Event: "ping", Delivery: "copy-1", Hook: "5", Signature: "valid", Action: "replay", Reason: "body already handled under another delivery id"}, 10)
			time.Sleep(500 * time.Millisecond) // past a few polls of setup's wait
			_, _ = mem.Commit(ctx, state.Accepted{Integration: "gh", Audit: state.AuditEntry{Time: time.Now(), Event: "ping", Delivery: "ping-5", Hook: "5", Signature: "valid", Action: "forwarded"}, AuditSize: 10})
		}()
	}
	api := fakeHookAPI(t, deliver)
	if _, err := v.Write(ctx, "gh", map[string]any{"vendor": "github", "secret": "gh-secret-1", "api_url": api.URL, "api_token": "tok", "target": "acme/pay"}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Setup(ctx, "w", "gh", 10*time.Second)
	if err != nil || !rep.Registered || rep.HookID != "5" || !rep.TestSent || !rep.Verified || rep.Delivery != "ping-5" || rep.Event != "ping" || rep.Ignored != 2 || rep.Error != "" {
		t.Fatalf("setup = %+v, %v", rep, err)
	}
	if last := (*logged)[len(*logged)-1]; last.Action != "setup" || last.Outcome != "verified delivery ping-5" {
		t.Fatalf("logged %+v", last)
	}
}

// TestSetupCannotTellGitLabsTestApart: where GitLab's events list is
// missing, setup takes no delivery for its test, not even a verified one
// that arrives meanwhile, and says why.
func TestSetupCannotTellGitLabsTestApart(t *testing.T) {
	s, v, _, _ := newService(t)
	ctx := context.Background()
	api := fakeHookAPI(t, func() {
		_, _ = s.Deliveries.Commit(ctx, state.Accepted{Integration: "gl", Audit: state.AuditEntry{Time: time.Now(), Event: "Push Hook", Delivery: "someone", Signature: "valid", Action: "forwarded"}, AuditSize: 10})
	})
	if _, err := v.Write(ctx, "gl", map[string]any{"vendor": "gitlab", "secret": "gl-secret-1", "api_url": api.URL, "api_token": "tok", "target": "acme/pay"}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Setup(ctx, "w", "gl", 5*time.Second)
	if err != nil || !rep.TestSent || rep.Verified || rep.Delivery != "" ||
		!strings.HasPrefix(rep.Error, "cannot tell the test delivery apart from other deliveries: ") || !strings.Contains(rep.Error, "17.3") {
		t.Fatalf("setup = %+v, %v", rep, err)
	}
}
