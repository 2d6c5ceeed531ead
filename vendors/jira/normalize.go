package jira

import (
	"encoding/json"
	"strings"

	"github.com/hookgate/caddy-hookgate/events"
)

// init registers how Jira's deliveries are identified and normalized. A
// status change is done when Jira's status category says so (DoneByState
// false): the record's done states play no part.
func init() {
	events.Register(Vendor, events.Rules{Identify: identify, Normalize: normalize})
}

// normalize turns a Jira delivery into its events. Jira yields:
//
//   - jira:issue_updated whose changelog has a status item:
//     ticket.status_changed with the item's toString as status. Its id is
//     TicketEventID over the top-level timestamp (else issue.fields.updated).
//   - jira:issue_updated carrying a comment (a transition with a comment),
//     comment_created and comment_updated: ticket.comment.
//
// An issue_updated may yield both. Issue creation and deletion, comment
// deletion, worklogs, sprints, and edits that neither change the status nor
// carry a comment are ignored.
func normalize(in *events.Input) ([]events.Event, string, error) {
	switch in.Event {
	case "jira:issue_updated", "comment_created", "comment_updated":
	default:
		return nil, "jira event " + events.QuoteName(in.Event) + " is not used", nil
	}
	var b struct {
		Timestamp events.FlexInt `json:"timestamp"`
		Issue     *struct {
			Key    string `json:"key"`
			Fields struct {
				Updated string      `json:"updated"`
				Status  *jiraStatus `json:"status"`
			} `json:"fields"`
		} `json:"issue"`
		Changelog *struct {
			Items []struct {
				Field    string            `json:"field"`
				To       events.FlexString `json:"to"`
				ToString string            `json:"toString"`
			} `json:"items"`
		} `json:"changelog"`
		Comment *struct {
			ID           events.FlexString `json:"id"`
			Body         json.RawMessage   `json:"body"`
			Created      string            `json:"created"`
			Updated      string            `json:"updated"`
			Author       jiraUser          `json:"author"`
			UpdateAuthor jiraUser          `json:"updateAuthor"`
		} `json:"comment"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	if b.Issue == nil || b.Issue.Key == "" {
		return nil, "", events.Malformed("jira event without issue key")
	}
	key := b.Issue.Key
	current := b.Issue.Fields.Status
	changedAt := events.MillisTime(int64(b.Timestamp))
	if changedAt.IsZero() {
		changedAt = events.ParseTime(b.Issue.Fields.Updated)
	}
	in.SetEventTime(changedAt)
	var evs []events.Event
	if in.Event == "jira:issue_updated" && b.Changelog != nil {
		for _, it := range b.Changelog.Items {
			if it.Field != "status" {
				continue
			}
			if it.ToString == "" {
				return nil, "", events.Malformed("status change without toString")
			}
			category := ""
			if current != nil && (current.Name == it.ToString || (it.To != "" && string(it.To) == string(current.ID))) {
				category = current.StatusCategory.Key
			}
			evs = append(evs, in.StatusEvent(key, it.ToString, category, changedAt))
			break
		}
	}
	if c := b.Comment; c != nil {
		if c.ID == "" {
			return nil, "", events.Malformed("comment without id")
		}
		body, err := jiraText(c.Body)
		if err != nil {
			return nil, "", err
		}
		version := string(c.ID)
		author := c.Author.name()
		at := events.ParseTime(c.Created)
		if in.Event == "comment_updated" {
			if u := events.ParseTime(c.Updated); !u.IsZero() {
				at = u
			}
			if at.IsZero() {
				at = changedAt
			}
			version += "@" + in.VersionSuffix(at)
			if n := c.UpdateAuthor.name(); n != "" {
				author = n
			}
		}
		if at.IsZero() {
			at = changedAt
		}
		status, category := "", ""
		if current != nil {
			status, category = current.Name, current.StatusCategory.Key
		}
		evs = append(evs, in.CommentEvent(key, version, status, category, author, body, at))
	}
	if len(evs) == 0 {
		return nil, "issue update changes no status and carries no comment", nil
	}
	return evs, "", nil
}

type jiraStatus struct {
	ID             events.FlexString `json:"id"`
	Name           string            `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

type jiraUser struct {
	DisplayName string `json:"displayName"`
	Name        string `json:"name"`
}

func (u jiraUser) name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Name
}

// jiraText reads a comment body: a string (API v2 webhooks) or an Atlassian
// Document Format object (API v3), whose text nodes are joined, paragraphs
// by newlines. Output is bounded by events.MaxCommentLen.
func jiraText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := events.Decode(raw, &s); err != nil {
			return "", events.Malformed("comment body")
		}
		return s, nil
	}
	var doc adfNode
	if err := events.Decode(raw, &doc); err != nil {
		return "", events.Malformed("comment body is neither text nor a document")
	}
	var sb strings.Builder
	doc.text(&sb)
	return strings.TrimSpace(sb.String()), nil
}

// adfNode is one node of an Atlassian Document Format document. Nesting is
// bounded by checkJSON's MaxDepth.
type adfNode struct {
	Type    string    `json:"type"`
	Text    string    `json:"text"`
	Content []adfNode `json:"content"`
}

func (n *adfNode) text(sb *strings.Builder) {
	if sb.Len() > events.MaxCommentLen {
		return
	}
	sb.WriteString(n.Text)
	if n.Type == "hardBreak" {
		sb.WriteByte('\n')
	}
	for i := range n.Content {
		n.Content[i].text(sb)
	}
	switch n.Type {
	case "paragraph", "heading", "codeBlock", "listItem", "blockquote":
		sb.WriteByte('\n')
	}
}
