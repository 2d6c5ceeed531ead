package servicenow

import (
	"strings"

	"github.com/hookgate/caddy-hookgate/events"
)

// init registers how ServiceNow's deliveries are normalized. They are
// identified by the template's `event` and `delivery` fields (the default
// Rules.Identify), and a state is done when it is one of the record's done
// states (default 6 and 7, Resolved and Closed): ServiceNow states carry
// no category.
func init() {
	events.Register(Vendor, events.Rules{Normalize: normalize, DoneByState: true})
}

// normalize turns a ServiceNow delivery into its events. ServiceNow sends
// the template TEMPLATES.md documents (an after-update business rule
// posting through a REST message). It yields ticket.status_changed when
// the state changed (previous_state absent or different from state) and
// ticket.comment when `comments` holds the latest journal entry. The status change id is TicketEventID over
// number, state and sys_updated_on (UTC, as GlideDateTime.getValue gives
// it); the comment id is TicketCommentID over comment_id, else over
// `@<sys_updated_on unix seconds>`.
func normalize(in *events.Input) ([]events.Event, string, error) {
	var b struct {
		Number        string            `json:"number"`
		State         events.FlexString `json:"state"`
		PreviousState events.FlexString `json:"previous_state"`
		Comments      string            `json:"comments"`
		CommentID     string            `json:"comment_id"`
		SysUpdatedOn  string            `json:"sys_updated_on"`
		SysUpdatedBy  string            `json:"sys_updated_by"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if b.Number == "" {
		return nil, "", events.Malformed("servicenow template without number")
	}
	updated := events.ParseTime(b.SysUpdatedOn)
	in.SetEventTime(updated)
	state := string(b.State)
	var evs []events.Event
	if state != "" && (b.PreviousState == "" || b.PreviousState != b.State) {
		evs = append(evs, in.StatusEvent(b.Number, state, "", updated))
	}
	if body := strings.TrimSpace(b.Comments); body != "" {
		version := b.CommentID
		if version == "" {
			version = "@" + in.VersionSuffix(updated)
		}
		evs = append(evs, in.CommentEvent(b.Number, version, state, "", b.SysUpdatedBy, body, updated))
	}
	if len(evs) == 0 {
		return nil, "update changes no state and carries no comment", nil
	}
	return evs, "", nil
}
