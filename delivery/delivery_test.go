package delivery

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
)

var now = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func payload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webhook is a verified delivery of rec with body and headers, as the
// handler builds it.
func webhook(rec integrations.Record, body []byte, hdr map[string]string) events.Delivery {
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	ident := events.Identify(rec.Vendor, rec.EffectiveScheme(), h, body)
	return events.Delivery{Vendor: rec.Vendor, Integration: rec.ID, Header: h, Body: body, Identity: ident,
		DeliveryKey: events.DeliveryKey(rec.ID, ident.Delivery, body), Signature: "valid", Via: "webhook", ReceivedAt: now}
}

func TestCheckRecord(t *testing.T) {
	gh := integrations.Record{ID: "gh", Vendor: integrations.GitHub, Secret: "s", Active: true}
	secretless := gh
	secretless.Secret = ""
	inactive := gh
	inactive.Active = false
	secretlessJira := integrations.Record{ID: "jira", Vendor: integrations.Jira, Active: true}
	signed := http.Header{"X-Hub-Signature-256": {"sha256=00"}}
	for _, tc := range []struct {
		name   string
		rec    integrations.Record
		vendor integrations.Vendor
		allow  bool
		header http.Header
		query  string
		want   string // "" admitted, else the refusal's signature
	}{
		{"admitted", gh, integrations.GitHub, false, signed, "", ""},
		{"vendor mismatch", gh, integrations.GitLab, false, nil, "", "invalid"},
		{"inactive", inactive, integrations.GitHub, true, nil, "", "invalid"},
		{"no secret", secretless, integrations.GitHub, false, nil, "", "missing"},
		{"no secret, unsigned allowed", secretless, integrations.GitHub, true, nil, "", ""},
		// A credential to an integration without a secret: its secret went
		// missing; the flag must not open it.
		{"signature to no secret, unsigned allowed", secretless, integrations.GitHub, true, signed, "", "missing"},
		{"signature to no secret", secretless, integrations.GitHub, false, signed, "", "missing"},
		{"query token to no secret, unsigned allowed", secretlessJira, integrations.Jira, true, nil, "token=x", "missing"},
	} {
		rf := CheckRecord(tc.rec, tc.vendor, tc.allow, tc.header, tc.query)
		switch {
		case tc.want == "" && rf != nil:
			t.Errorf("%s: refused %+v", tc.name, *rf)
		case tc.want != "" && (rf == nil || rf.Signature != tc.want || rf.Reason == ""):
			t.Errorf("%s: %+v, want a %s refusal", tc.name, rf, tc.want)
		}
	}
}

func TestSecretsFollowTheRotationWindow(t *testing.T) {
	rec := integrations.Record{Secret: "new", PreviousSecret: "old", PreviousValidUntil: now.Add(time.Hour)}
	if s := Secrets(rec, now); string(s.Current) != "new" || string(s.Previous) != "old" {
		t.Fatalf("during the overlap: %q %q", s.Current, s.Previous)
	}
	if s := Secrets(rec, now.Add(2*time.Hour)); string(s.Current) != "new" || s.Previous != nil {
		t.Fatalf("after the overlap: %q %q", s.Current, s.Previous)
	}
}

// TestCommitOnceThenDuplicate: a verified push is committed with all its
// events and audit entry; the same delivery again is a duplicate and
// writes no event; a full outbox refuses with state.ErrOutboxFull and
// writes nothing.
func TestCommitOnceThenDuplicate(t *testing.T) {
	ctx := context.Background()
	mem := state.NewMemory(state.MemoryOptions{Now: func() time.Time { return now }})
	rec := integrations.Record{ID: "gh", Vendor: integrations.GitHub, Secret: "s", Active: true, Scans: []string{"sast"}}
	d := webhook(rec, payload(t, "github/push.json"), map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1"})
	v, err := Prepare(rec, d, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Events) < 2 || v.PrimaryID != v.Events[0].ID || v.Entry.EventID != v.PrimaryID || v.DedupeKey() != d.DeliveryKey {
		t.Fatalf("prepared %d events, primary %q, entry %q, key %q", len(v.Events), v.PrimaryID, v.Entry.EventID, v.DedupeKey())
	}
	p := Policy{DedupeWindow: time.Hour, AuditSize: 10}
	if o, err := Commit(ctx, mem, p, v); o != state.Committed || err != nil {
		t.Fatalf("first commit: %v %v", o, err)
	}
	n, _, _ := mem.Stats(ctx)
	if n != len(v.Events) {
		t.Fatalf("outbox holds %d, want %d", n, len(v.Events))
	}
	if o, err := Commit(ctx, mem, p, v); o != state.Duplicate || err != nil {
		t.Fatalf("second commit: %v %v", o, err)
	}
	if m, _, _ := mem.Stats(ctx); m != n {
		t.Fatalf("a duplicate added %d events", m-n)
	}
	other := webhook(rec, payload(t, "github/push.json"), map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-2"})
	other.Body = append([]byte(nil), other.Body...)
	other.Body = append(other.Body, ' ') // a body of its own: the same one would be a replay
	v2, _ := Prepare(rec, other, Policy{})
	p.MaxOutbox = n + 1
	if _, err := Commit(ctx, mem, p, v2); !errors.Is(err, state.ErrOutboxFull) {
		t.Fatalf("past max_outbox: %v", err)
	}
	if seen, _ := mem.Seen(ctx, v2.DedupeKey()); seen {
		t.Fatal("a refused commit marked the delivery")
	}
}

// TestWebhookAndPollCollapse: a ticket change committed from its webhook
// and then found by the poller is one event, whichever comes first.
func TestWebhookAndPollCollapse(t *testing.T) {
	ctx := context.Background()
	rec := integrations.Record{ID: "jira", Vendor: integrations.Jira, Secret: "s", Active: true}
	d := webhook(rec, payload(t, "jira/issue-updated.json"), map[string]string{"X-Atlassian-Webhook-Identifier": "jira-1"})
	v, err := Prepare(rec, d, Policy{})
	if err != nil || len(v.Events) == 0 || v.Events[0].Ticket == nil {
		t.Fatalf("prepare: %v, %d events", err, len(v.Events))
	}
	if v.DedupeKey() != TicketDedupeKey(v.Events[0].ID) {
		t.Fatalf("ticket delivery keyed %q, want its ticket event id", v.DedupeKey())
	}
	p := Policy{DedupeWindow: time.Hour, AuditSize: 10}
	for _, webhookFirst := range []bool{true, false} {
		mem := state.NewMemory(state.MemoryOptions{Now: func() time.Time { return now }})
		first := func() (state.Outcome, error) { return Commit(ctx, mem, p, v) }
		second := func() (state.Outcome, error) { return CommitPolled(ctx, mem, p, rec, v.Events[0], now) }
		if !webhookFirst {
			first, second = second, first
		}
		if o, err := first(); o != state.Committed || err != nil {
			t.Fatalf("webhook first %v: first commit %v %v", webhookFirst, o, err)
		}
		if dup, err := second(); dup != state.Duplicate || err != nil {
			t.Fatalf("webhook first %v: second commit %v %v, want a duplicate", webhookFirst, dup, err)
		}
	}
	if e := PolledEntry(rec, v.Events[0], now); e.Action != "forwarded,poll" || e.EventID != v.Events[0].ID || e.Repository != v.Events[0].Ticket.Key {
		t.Fatalf("polled entry %+v", e)
	}
}

// TestRejectedEntryReadsHeadersOnly: a refused delivery is audited from
// its headers; the body is never looked at.
func TestRejectedEntryReadsHeadersOnly(t *testing.T) {
	rec := integrations.Record{ID: "gh", Vendor: integrations.GitHub}
	h := http.Header{}
	h.Set("X-GitHub-Event", "push")
	h.Set("X-GitHub-Delivery", "d-9")
	e := RejectedEntry(rec, h, "invalid", "signature invalid: mismatch", now)
	if e.Event != "push" || e.Delivery != "d-9" || e.Action != "rejected" || e.Signature != "invalid" || e.Vendor != "github" || !e.Time.Equal(now) {
		t.Fatalf("entry %+v", e)
	}
}

// TestHookOfTheEntry: an accepted ping's entry names the hook its signed
// body names, whatever X-GitHub-Hook-ID says; a refused delivery's names
// the one its headers name, and so does a verified one Prepare refused.
func TestHookOfTheEntry(t *testing.T) {
	rec := integrations.Record{ID: "gh", Vendor: integrations.GitHub, Secret: "s", Active: true, Target: "acme/pay"}
	ping := []byte(`{"zen":"Keep it simple.","hook_id":4242,"hook":{"id":4242},"repository":{"full_name":"acme/pay"}}`)
	hdr := map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "p-1", "X-GitHub-Hook-ID": "999"}
	v, err := Prepare(rec, webhook(rec, ping, hdr), Policy{})
	if err != nil || v.Entry.Hook != "4242" || v.Entry.Event != "ping" {
		t.Fatalf("accepted ping: %+v, %v", v, err)
	}
	anyTarget := rec
	anyTarget.Target = ""
	push := webhook(anyTarget, payload(t, "github/push.json"), map[string]string{"X-GitHub-Event": "push", "X-GitHub-Hook-ID": "999"})
	if v, err := Prepare(anyTarget, push, Policy{}); err != nil || v.Entry.Hook != "" {
		t.Fatalf("accepted push names a hook its body does not: %v", err)
	}
	other := rec
	other.Target = "acme/other"
	d := webhook(other, ping, hdr)
	_, err = Prepare(other, d, Policy{})
	if e := RefusedEntry(d, err); !errors.Is(err, ErrWrongTarget) || e.Hook != "999" {
		t.Fatalf("refused ping: hook %q, %v", e.Hook, err)
	}
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	if e := RejectedEntry(rec, h, "invalid", "signature invalid: signature mismatch", now); e.Hook != "999" {
		t.Fatalf("rejected ping: hook %q", e.Hook)
	}
}
