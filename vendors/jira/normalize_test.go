package jira

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// load is the delivery Jira would have sent with the payload file rel.
func load(t *testing.T, rel string) events.Delivery {
	t.Helper()
	_, d, err := payloads.Load(rel)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestIdentify: the event name is the body's webhookEvent (that name
// exactly), the delivery id X-Atlassian-Webhook-Identifier; an event name
// that cannot go into a log line is dropped, a delivery id hashed.
func TestIdentify(t *testing.T) {
	for _, c := range []struct {
		name, body, header string
		want               events.Identity
	}{
		{"both", `{"webhookEvent":"jira:issue_updated"}`, "w-1", events.Identity{Event: "jira:issue_updated", Delivery: "w-1"}},
		{"no header", `{"webhookEvent":"comment_created"}`, "", events.Identity{Event: "comment_created"}},
		{"not JSON", `webhookEvent=x`, "w-2", events.Identity{Delivery: "w-2"}},
		{"event of the wrong type", `{"webhookEvent":5}`, "w-3", events.Identity{Delivery: "w-3"}},
		{"not printable", `{"webhookEvent":"a\nb"}`, strings.Repeat("x", 257), events.Identity{Delivery: "sha256:15eb95a462ee20bd91a415ae2d4aed34"}},
		{"name in another case", `{"WebhookEvent":"jira:issue_updated"}`, "w-4", events.Identity{Delivery: "w-4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.header != "" {
				h.Set("X-Atlassian-Webhook-Identifier", c.header)
			}
			if got := events.Identify(Vendor, Vendor.DefaultScheme(), h, []byte(c.body)); got != c.want {
				t.Fatalf("Identify = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestNormalizeCaps: strings copied into events are bounded.
func TestNormalizeCaps(t *testing.T) {
	long := strings.Repeat("é", 5000)
	body := `{"timestamp":1741097622000,"webhookEvent":"comment_created","issue":{"key":"SEC-1"},` +
		`"comment":{"id":"1","body":"` + long + `","author":{"displayName":"` + long + `"}}}`
	evs, _, _, err := events.Normalize(payloads.Inline(Vendor, nil, "comment_created", []byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	c := evs[0].Ticket.Comment
	if len(c.Body) > events.MaxCommentLen || len(c.Author) > events.MaxFieldLen || len(c.Body) < events.MaxCommentLen-2 {
		t.Fatalf("body %d author %d bytes", len(c.Body), len(c.Author))
	}
	if !strings.HasPrefix(long, c.Body) || !strings.HasPrefix(long, c.Author) {
		t.Fatal("cut inside a rune")
	}
}

// TestCommentIDs: Jira comment_created and the same comment carried by an
// issue_updated converge; an edit is a new version.
func TestCommentIDs(t *testing.T) {
	created := load(t, "jira/comment-created.json")
	updated := load(t, "jira/comment-updated--adf.json")
	c, _, _, err := events.Normalize(created)
	if err != nil {
		t.Fatal(err)
	}
	u, _, _, err := events.Normalize(updated)
	if err != nil {
		t.Fatal(err)
	}
	if c[0].ID != events.TicketCommentID(created.Integration, "SEC-42", "20417") {
		t.Errorf("created id %s", c[0].ID)
	}
	edit := time.Date(2025, 3, 4, 14, 55, 0, 0, time.UTC).Unix()
	if u[0].ID != events.TicketCommentID(updated.Integration, "SEC-42", "20417@"+strconv.FormatInt(edit, 10)) || u[0].ID == c[0].ID {
		t.Errorf("updated id %s", u[0].ID)
	}
}

// TestNormalizeStatus: a status change carries the category of the
// issue's current status only when that status is the one changed to
// (by name or id); without a timestamp the change time is
// issue.fields.updated; events that are not issue or comment updates are
// ignored.
func TestNormalizeStatus(t *testing.T) {
	const issue = `"issue":{"key":"SEC-7","fields":{"updated":"2025-03-04T14:00:00.000+0100","status":{"id":"3","name":"Done","statusCategory":{"key":"done"}}}}`
	for _, c := range []struct {
		name, event, body string
		ignored           bool
		status, category  string
		changedAt         time.Time
	}{
		{"same name", "jira:issue_updated", `{"timestamp":1741097622000,` + issue + `,"changelog":{"items":[{"field":"status","to":"3","toString":"Done"}]}}`,
			false, "Done", "done", time.UnixMilli(1741097622000)},
		{"same id, renamed", "jira:issue_updated", `{"timestamp":1741097622000,` + issue + `,"changelog":{"items":[{"field":"status","to":3,"toString":"Closed"}]}}`,
			false, "Closed", "done", time.UnixMilli(1741097622000)},
		{"another status", "jira:issue_updated", `{` + issue + `,"changelog":{"items":[{"field":"status","to":"1","toString":"Open"}]}}`,
			false, "Open", "", time.Date(2025, 3, 4, 13, 0, 0, 0, time.UTC)},
		{"no status item", "jira:issue_updated", `{` + issue + `,"changelog":{"items":[{"field":"labels","toString":"x"}]}}`, true, "", "", time.Time{}},
		{"issue created", "jira:issue_created", `{` + issue + `}`, true, "", "", time.Time{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := payloads.Inline(Vendor, nil, c.event, []byte(c.body))
			d.Identity.Event = c.event
			evs, ign, reason, err := events.Normalize(d)
			if err != nil {
				t.Fatal(err)
			}
			if c.ignored {
				if !ign || reason == "" {
					t.Fatalf("want ignored with a reason, got %d events", len(evs))
				}
				return
			}
			if len(evs) != 1 || evs[0].Type != events.TypeTicketStatus {
				t.Fatalf("events %+v", evs)
			}
			tk := evs[0].Ticket
			if tk.Key != "SEC-7" || tk.Status != c.status || tk.StatusCategory != c.category {
				t.Errorf("ticket %+v, want status %q category %q", *tk, c.status, c.category)
			}
			if want := events.TicketEventID(d.Integration, "SEC-7", c.status, c.changedAt); evs[0].ID != want {
				t.Errorf("id %s, want %s (changed at %s)", evs[0].ID, want, c.changedAt)
			}
		})
	}
}

// TestJiraText: comment bodies are API v2 strings or API v3 documents,
// whose text nodes are joined with a newline after each block.
func TestJiraText(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{``, ""},
		{`null`, ""},
		{`"plain text"`, "plain text"},
		{`{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"one"},{"type":"hardBreak"},{"type":"text","text":"two"}]},{"type":"paragraph","content":[{"type":"text","text":"three"}]}]}`, "one\ntwo\nthree"},
		{`{"type":"doc","content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"text","text":"a"}]},{"type":"listItem","content":[{"type":"text","text":"b"}]}]}]}`, "a\nb"},
	} {
		got, err := jiraText([]byte(c.raw))
		if err != nil || got != c.want {
			t.Errorf("jiraText(%s) = %q, %v; want %q", c.raw, got, err, c.want)
		}
	}
	for _, raw := range []string{`5`, `[1]`, `{"type":5}`} {
		if _, err := jiraText([]byte(raw)); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("jiraText(%s) err %v, want ErrMalformed", raw, err)
		}
	}
	long := `{"type":"doc","content":[` + strings.Repeat(`{"type":"paragraph","content":[{"type":"text","text":"`+strings.Repeat("x", 1000)+`"}]},`, 10) + `{"type":"text","text":"end"}]}`
	if got, _ := jiraText([]byte(long)); len(got) > events.MaxCommentLen+1100 || strings.HasSuffix(got, "end") {
		t.Errorf("document text of %d bytes not bounded", len(got))
	}
}
