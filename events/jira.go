package events

import (
	"encoding/json"
	"strings"
)

// Jira yields:
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
func normalizeJira(in *input) ([]Event, string, error) {
	switch in.event {
	case "jira:issue_updated", "comment_created", "comment_updated":
	default:
		return nil, "jira event " + quoteName(in.event) + " is not used", nil
	}
	var b struct {
		Timestamp flexInt `json:"timestamp"`
		Issue     *struct {
			Key    string `json:"key"`
			Fields struct {
				Updated string      `json:"updated"`
				Status  *jiraStatus `json:"status"`
			} `json:"fields"`
		} `json:"issue"`
		Changelog *struct {
			Items []struct {
				Field    string     `json:"field"`
				To       flexString `json:"to"`
				ToString string     `json:"toString"`
			} `json:"items"`
		} `json:"changelog"`
		Comment *struct {
			ID           flexString      `json:"id"`
			Body         json.RawMessage `json:"body"`
			Created      string          `json:"created"`
			Updated      string          `json:"updated"`
			Author       jiraUser        `json:"author"`
			UpdateAuthor jiraUser        `json:"updateAuthor"`
		} `json:"comment"`
	}
	if err := decode(in.body, &b); err != nil {
		return nil, "", err
	}
	if b.Issue == nil || b.Issue.Key == "" {
		return nil, "", malformed("jira event without issue key")
	}
	key := b.Issue.Key
	current := b.Issue.Fields.Status
	changedAt := msTime(int64(b.Timestamp))
	if changedAt.IsZero() {
		changedAt = parseTime(b.Issue.Fields.Updated)
	}
	var evs []Event
	if in.event == "jira:issue_updated" && b.Changelog != nil {
		for _, it := range b.Changelog.Items {
			if it.Field != "status" {
				continue
			}
			if it.ToString == "" {
				return nil, "", malformed("status change without toString")
			}
			category := ""
			if current != nil && (current.Name == it.ToString || (it.To != "" && string(it.To) == string(current.ID))) {
				category = current.StatusCategory.Key
			}
			evs = append(evs, in.statusEvent(key, it.ToString, category, changedAt))
			break
		}
	}
	if c := b.Comment; c != nil {
		if c.ID == "" {
			return nil, "", malformed("comment without id")
		}
		body, err := jiraText(c.Body)
		if err != nil {
			return nil, "", err
		}
		version := string(c.ID)
		author := c.Author.name()
		at := parseTime(c.Created)
		if in.event == "comment_updated" {
			if u := parseTime(c.Updated); !u.IsZero() {
				at = u
			}
			if at.IsZero() {
				at = changedAt
			}
			version += "@" + in.versionSuffix(at)
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
		evs = append(evs, in.commentEvent(key, version, status, category, author, body, at))
	}
	if len(evs) == 0 {
		return nil, "issue update changes no status and carries no comment", nil
	}
	return evs, "", nil
}

type jiraStatus struct {
	ID             flexString `json:"id"`
	Name           string     `json:"name"`
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
// by newlines. Output is bounded by MaxCommentLen.
func jiraText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", malformed("comment body")
		}
		return s, nil
	}
	var doc adfNode
	if err := json.Unmarshal(raw, &doc); err != nil {
		return "", malformed("comment body is neither text nor a document")
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
	if sb.Len() > MaxCommentLen {
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
