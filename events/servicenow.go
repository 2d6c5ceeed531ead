package events

import "strings"

// ServiceNow sends the template TEMPLATES.md documents (an after-update
// business rule posting through a REST message). It yields
// ticket.status_changed when the state changed (previous_state absent or
// different from state) and ticket.comment when `comments` holds the
// latest journal entry. The status change id is TicketEventID over
// number, state and sys_updated_on (UTC, as GlideDateTime.getValue gives
// it); the comment id is TicketCommentID over comment_id, else over
// `@<sys_updated_on unix seconds>`.
func normalizeServiceNow(in *input) ([]Event, string, error) {
	var b struct {
		Number        string     `json:"number"`
		State         flexString `json:"state"`
		PreviousState flexString `json:"previous_state"`
		Comments      string     `json:"comments"`
		CommentID     string     `json:"comment_id"`
		SysUpdatedOn  string     `json:"sys_updated_on"`
		SysUpdatedBy  string     `json:"sys_updated_by"`
	}
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	if b.Number == "" {
		return nil, "", malformed("servicenow template without number")
	}
	updated := parseTime(b.SysUpdatedOn)
	state := string(b.State)
	var evs []Event
	if state != "" && (b.PreviousState == "" || b.PreviousState != b.State) {
		evs = append(evs, in.statusEvent(b.Number, state, "", updated))
	}
	if body := strings.TrimSpace(b.Comments); body != "" {
		version := b.CommentID
		if version == "" {
			version = "@" + in.versionSuffix(updated)
		}
		evs = append(evs, in.commentEvent(b.Number, version, state, "", b.SysUpdatedBy, body, updated))
	}
	if len(evs) == 0 {
		return nil, "update changes no state and carries no comment", nil
	}
	return evs, "", nil
}
