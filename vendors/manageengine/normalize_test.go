package manageengine

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestIdentify: ManageEngine registers no Identify of its own: the
// template's `event` and `delivery` fields, the event `ticket` when the
// body names none.
func TestIdentify(t *testing.T) {
	for body, want := range map[string]events.Identity{
		`{"request":{"id":"1"}}`:                    {Event: "ticket"},
		`{"event":"request.edited","delivery":"7"}`: {Event: "request.edited", Delivery: "7"},
	} {
		if got := events.Identify(Vendor, Vendor.DefaultScheme(), nil, []byte(body)); got != want {
			t.Errorf("Identify(%s) = %+v, want %+v", body, got, want)
		}
	}
}

// TestMeName: a named entity is an object with a name, or the name alone.
func TestMeName(t *testing.T) {
	for raw, want := range map[string]meName{
		`{"id":"2","name":"Closed"}`: "Closed",
		`"Open"`:                     "Open",
		`5`:                          "5",
		`null`:                       "",
		`{}`:                         "",
	} {
		var m meName
		if err := json.Unmarshal([]byte(raw), &m); err != nil || m != want {
			t.Errorf("%s: %q, %v; want %q", raw, m, err, want)
		}
	}
	var m meName
	if err := json.Unmarshal([]byte(`[1]`), &m); err == nil {
		t.Errorf("an array is a name: %q", m)
	}
}

// TestNormalize: a status change unless previous_status is the same
// (case-insensitively); a note as text by the technician, or as an object
// by its author with its id; the key display_id, else id.
func TestNormalize(t *testing.T) {
	const updated = `"last_updated_time":{"value":1741098311000}`
	at := time.UnixMilli(1741098311000)
	for _, c := range []struct {
		name, body           string
		types                []string
		key, author, version string
	}{
		{"status and text note", `{"request":{"display_id":"5731","status":{"name":"Closed"},` + updated + `,"technician":{"name":"Ana"}},"previous_status":"Open","note":"done"}`,
			[]string{events.TypeTicketStatus, events.TypeTicketComment}, "5731", "Ana", "@1741098311"},
		{"same status, note object", `{"request":{"id":"9","status":"closed",` + updated + `},"previous_status":{"name":"Closed"},"note":{"id":44,"description":"x","created_by":{"name":"Luis"}}}`,
			[]string{events.TypeTicketComment}, "9", "Luis", "44"},
		{"nothing", `{"request":{"display_id":"1","status":"Open"},"previous_status":"open","note":null}`, nil, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := payloads.Inline(Vendor, nil, "", []byte(c.body))
			evs, ign, reason, err := events.Normalize(d)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(c.types) || (len(c.types) == 0) != ign || (ign && reason == "") {
				t.Fatalf("%d events, want %v (ignored=%v %q)", len(evs), c.types, ign, reason)
			}
			for i, e := range evs {
				if e.Type != c.types[i] || e.Ticket.Key != c.key {
					t.Errorf("event %d: %s key %q", i, e.Type, e.Ticket.Key)
				}
				switch e.Type {
				case events.TypeTicketStatus:
					if e.ID != events.TicketEventID(d.Integration, c.key, e.Ticket.Status, at) {
						t.Errorf("status id %s", e.ID)
					}
				case events.TypeTicketComment:
					if e.Ticket.Comment.Author != c.author || e.ID != events.TicketCommentID(d.Integration, c.key, c.version) {
						t.Errorf("comment by %q id %s, want by %q version %q", e.Ticket.Comment.Author, e.ID, c.author, c.version)
					}
				}
			}
		})
	}
	for _, body := range []string{`{"note":"x"}`, `{"request":{"status":"Open"}}`, `{"request":{"id":"1"},"note":[1]}`} {
		if _, _, _, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(body))); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", body, err)
		}
	}
}

// TestDoneByState: ServiceDesk Plus statuses carry no category, so a
// status is done when it is one of the record's done states (Resolved and
// Closed by default), compared case-insensitively.
func TestDoneByState(t *testing.T) {
	for _, c := range []struct {
		status     string
		doneStates []string
		transition string
	}{
		{"Closed", nil, events.TransitionRetest},
		{"resolved", nil, events.TransitionRetest},
		{"In Progress", nil, ""},
		{"On Hold", []string{"on hold"}, events.TransitionRetest},
	} {
		evs, _, _, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(`{"request":{"id":"1","status":"`+c.status+`"}}`)))
		if err != nil {
			t.Fatal(err)
		}
		all, _ := events.Orchestrate(integrations.Record{ID: "it-1", Vendor: Vendor, DoneStates: c.doneStates}, evs)
		if got := all[0].Ticket.FindingTransition; got != c.transition {
			t.Errorf("status %s, done states %q: transition %q, want %q", c.status, c.doneStates, got, c.transition)
		}
	}
}
