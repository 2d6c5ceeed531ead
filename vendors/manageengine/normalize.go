package manageengine

import (
	"encoding/json"
	"strings"

	"github.com/hookgate/caddy-hookgate/events"
)

// init registers how ManageEngine's deliveries are normalized. They are
// identified by the template's `event` and `delivery` fields (the default
// Rules.Identify), and a status is done when it is one of the record's
// done states (default Resolved and Closed, compared case-insensitively):
// ServiceDesk Plus statuses carry no category.
func init() {
	events.Register(Vendor, events.Rules{Normalize: normalize, DoneByState: true})
}

// normalize turns a ManageEngine delivery into its events. ManageEngine
// ServiceDesk Plus sends the webhook body TEMPLATES.md documents. It
// yields ticket.status_changed when the status changed (previous_status
// absent or different) and ticket.comment when `note` is set. The status change id is TicketEventID over display_id, status
// name and last_updated_time (ms since the epoch); the comment id is
// TicketCommentID over the note's id, else `@<last_updated_time seconds>`.
// A note given as plain text is attributed to the request's technician.
func normalize(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		Request *struct {
			ID              events.FlexString `json:"id"`
			DisplayID       events.FlexString `json:"display_id"`
			Status          meName            `json:"status"`
			LastUpdatedTime struct {
				Value events.FlexInt `json:"value"`
			} `json:"last_updated_time"`
			Technician meName `json:"technician"`
		} `json:"request"`
		PreviousStatus meName          `json:"previous_status"`
		Note           json.RawMessage `json:"note"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	r := b.Request
	if r == nil {
		return nil, "", events.Malformed("manageengine template without request")
	}
	key := string(r.DisplayID)
	if key == "" {
		key = string(r.ID)
	}
	if key == "" {
		return nil, "", events.Malformed("manageengine request without display_id")
	}
	updated := events.MillisTime(int64(r.LastUpdatedTime.Value))
	in.SetEventTime(updated)
	status := string(r.Status)
	var evs []events.Event
	if status != "" && (b.PreviousStatus == "" || !strings.EqualFold(string(b.PreviousStatus), status)) {
		evs = append(evs, in.StatusEvent(key, status, "", updated))
	}
	note, err := meNote(b.Note)
	if err != nil {
		return nil, "", err
	}
	if body := strings.TrimSpace(note.Description); body != "" {
		version := string(note.ID)
		if version == "" {
			version = "@" + in.VersionSuffix(updated)
		}
		author := string(note.CreatedBy)
		if author == "" {
			author = string(r.Technician)
		}
		evs = append(evs, in.CommentEvent(key, version, status, "", author, body, updated))
	}
	if len(evs) == 0 {
		return nil, "update changes no status and carries no note", nil
	}
	return evs, "", nil
}

// meName is a ServiceDesk Plus named entity, `{"name": "Closed"}`, or the
// name alone.
type meName string

// UnmarshalJSON accepts an object with a name, a string, or null.
func (m *meName) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			Name string `json:"name"`
		}
		if err := events.Decode(b, &o); err != nil {
			return err
		}
		*m = meName(o.Name)
		return nil
	}
	var s events.FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*m = meName(s)
	return nil
}

type meNoteBody struct {
	ID          events.FlexString `json:"id"`
	Description string            `json:"description"`
	CreatedBy   meName            `json:"created_by"`
}

// meNote reads `note`: plain text, or a note object with id, description
// and created_by.
func meNote(raw json.RawMessage) (meNoteBody, error) {
	var n meNoteBody
	if len(raw) == 0 || string(raw) == "null" {
		return n, nil
	}
	if raw[0] == '"' {
		if err := events.Decode(raw, &n.Description); err != nil {
			return n, events.Malformed("note")
		}
		return n, nil
	}
	if err := events.Decode(raw, &n); err != nil {
		return n, events.Malformed("note is neither text nor a note object")
	}
	return n, nil
}
