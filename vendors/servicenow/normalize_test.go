package servicenow

import (
	"errors"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// TestIdentify: ServiceNow registers no Identify of its own: the
// template's `event` and `delivery` fields, the event `ticket` when the
// body names none.
func TestIdentify(t *testing.T) {
	for body, want := range map[string]events.Identity{
		`{"number":"INC1"}`: {Event: "ticket"},
		`{"event":"incident.updated","delivery":"46d44a2f-1"}`: {Event: "incident.updated", Delivery: "46d44a2f-1"},
	} {
		if got := events.Identify(Vendor, Vendor.DefaultScheme(), nil, []byte(body)); got != want {
			t.Errorf("Identify(%s) = %+v, want %+v", body, got, want)
		}
	}
}

// TestNormalize: a state change unless previous_state equals state, a
// comment when comments is set (its id comment_id, else the update time),
// a template without number malformed.
func TestNormalize(t *testing.T) {
	updated := time.Date(2025, 3, 4, 14, 5, 11, 0, time.UTC)
	for _, c := range []struct {
		name, body string
		types      []string
		commentID  string
	}{
		{"state and comment", `{"number":"INC1","state":6,"previous_state":"2","comments":" done ","comment_id":"j-9","sys_updated_on":"2025-03-04 14:05:11"}`,
			[]string{events.TypeTicketStatus, events.TypeTicketComment}, "j-9"},
		{"unchanged state, comment without id", `{"number":"INC1","state":"2","previous_state":2,"comments":"note","sys_updated_on":"2025-03-04 14:05:11"}`,
			[]string{events.TypeTicketComment}, "@" + "1741097111"},
		{"state without previous", `{"number":"INC1","state":"7"}`, []string{events.TypeTicketStatus}, ""},
		{"nothing changed", `{"number":"INC1","state":"2","previous_state":"2","comments":"  "}`, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := payloads.Inline(Vendor, nil, "", []byte(c.body))
			evs, ign, reason, err := events.Normalize(d)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range evs {
				types = append(types, e.Type)
				if e.Ticket.Key != "INC1" {
					t.Errorf("key %q", e.Ticket.Key)
				}
				if e.Type == events.TypeTicketComment && e.ID != events.TicketCommentID(d.Integration, "INC1", c.commentID) {
					t.Errorf("comment id %s, want the id of version %q", e.ID, c.commentID)
				}
				if e.Type == events.TypeTicketStatus && c.name == "state and comment" &&
					(e.Ticket.Status != "6" || e.ID != events.TicketEventID(d.Integration, "INC1", "6", updated)) {
					t.Errorf("status %q id %s", e.Ticket.Status, e.ID)
				}
			}
			if len(types) != len(c.types) || (len(c.types) == 0) != ign || (ign && reason == "") {
				t.Fatalf("types %v, want %v (ignored=%v %q)", types, c.types, ign, reason)
			}
			for i := range types {
				if types[i] != c.types[i] {
					t.Fatalf("types %v, want %v", types, c.types)
				}
			}
		})
	}
	if _, _, _, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(`{"state":"6"}`))); !errors.Is(err, events.ErrMalformed) {
		t.Errorf("without number: err %v, want ErrMalformed", err)
	}
}

// TestDoneByState: ServiceNow states carry no category, so a state is
// done when it is one of the record's done states, 6 and 7 by default.
func TestDoneByState(t *testing.T) {
	for _, c := range []struct {
		state      string
		doneStates []string
		transition string
	}{
		{"6", nil, events.TransitionClosed},
		{"7", nil, events.TransitionClosed},
		{"2", nil, ""},
		{"2", []string{" 2 "}, events.TransitionClosed},
		{"6", []string{"7"}, ""},
	} {
		evs, _, _, err := events.Normalize(payloads.Inline(Vendor, nil, "", []byte(`{"number":"INC1","state":"`+c.state+`"}`)))
		if err != nil {
			t.Fatal(err)
		}
		all, _ := events.Orchestrate(integrations.Record{ID: "it-1", Vendor: Vendor, AutoCloseOnResolve: true, DoneStates: c.doneStates}, evs)
		if got := all[0].Ticket.FindingTransition; got != c.transition {
			t.Errorf("state %s, done states %q: transition %q, want %q", c.state, c.doneStates, got, c.transition)
		}
	}
}
