package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/poller"
)

// init registers the ticket poller's Jira client.
func init() {
	poller.Register(Vendor, poller.Client{Poll: poll, Zone: zone})
}

// Jira Cloud: enhanced JQL search,
//
//	GET {api_url}/rest/api/3/search/jql?jql=updated >= "<yyyy-MM-dd HH:mm>" ORDER BY updated ASC
//	    &fields=status,updated,comment&expand=changelog&maxResults=100[&nextPageToken=...]
//
// answering {"issues": [...], "nextPageToken": "...", "isLast": bool}. JQL
// reads the time in the API user's time zone, which
// GET {api_url}/rest/api/3/myself gives ("timeZone"); it is looked up once
// per integration and kept.
//
// Each changelog history created at or after since with a status item
// becomes the jira:issue_updated webhook body it would have been (its
// `timestamp` the history's `created`), and each comment created (or
// edited) at or after since the comment_created (comment_updated) body; all
// go through events.Normalize, so ids equal the webhook's.
// Auth: Basic api_user:api_token when api_user is set, else Bearer
// api_token.
func poll(ctx context.Context, p *poller.Pass) error {
	loc, err := p.Zone(ctx)
	if err != nil {
		return err
	}
	jql := fmt.Sprintf(`updated >= "%s" ORDER BY updated ASC`,
		p.Since().In(loc).Truncate(time.Minute).Format("2006-01-02 15:04"))
	hdr := header(p)
	token := ""
	for n := 0; ; n++ {
		if n == poller.MaxPages {
			return fmt.Errorf("jira search: more than %d pages", poller.MaxPages)
		}
		q := url.Values{}
		q.Set("jql", jql)
		q.Set("fields", "status,updated,comment")
		q.Set("expand", "changelog")
		q.Set("maxResults", fmt.Sprint(poller.PageSize))
		if token != "" {
			q.Set("nextPageToken", token)
		}
		var res struct {
			Issues        []jiraIssue `json:"issues"`
			NextPageToken string      `json:"nextPageToken"`
			IsLast        *bool       `json:"isLast"`
		}
		if err := p.GetJSON(ctx, "jira search", p.Base()+"/rest/api/3/search/jql?"+q.Encode(), hdr, &res); err != nil {
			return err
		}
		if res.Issues == nil {
			return fmt.Errorf("jira search: response without issues")
		}
		pg, err := page(p, res.Issues)
		if err != nil {
			return err
		}
		if err := p.Deliver(ctx, pg); err != nil {
			return err
		}
		last := res.NextPageToken == "" || (res.IsLast != nil && *res.IsLast)
		if last {
			return nil
		}
		if res.NextPageToken == token {
			return fmt.Errorf("jira search: nextPageToken does not advance")
		}
		token = res.NextPageToken
	}
}

// header is what every Jira call carries: Basic api_user:api_token when
// api_user is set, else Bearer api_token.
func header(p *poller.Pass) http.Header {
	rec := p.Record()
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", poller.UserAgent)
	req := http.Request{Header: h}
	if rec.APIUser != "" {
		req.SetBasicAuth(rec.APIUser, rec.APIToken)
	} else {
		h.Set("Authorization", "Bearer "+rec.APIToken)
	}
	return h
}

// zone asks Jira for the API user's time zone; unknown zones are UTC.
func zone(ctx context.Context, p *poller.Pass) (*time.Location, error) {
	var me struct {
		TimeZone string `json:"timeZone"`
	}
	if err := p.GetJSON(ctx, "jira myself", p.Base()+"/rest/api/3/myself", header(p), &me); err != nil {
		return nil, err
	}
	if loc, err := time.LoadLocation(me.TimeZone); err == nil && me.TimeZone != "" {
		return loc, nil
	}
	return time.UTC, nil
}

type jiraIssue struct {
	Key    string `json:"key"`
	Fields struct {
		Status  json.RawMessage `json:"status"`
		Updated string          `json:"updated"`
		Comment *struct {
			Comments []json.RawMessage `json:"comments"`
		} `json:"comment"`
	} `json:"fields"`
	Changelog *struct {
		Histories []jiraHistory `json:"histories"`
	} `json:"changelog"`
}

// jiraHistory is one changelog entry, items kept raw for the webhook body.
type jiraHistory struct {
	ID      json.RawMessage `json:"id"`
	Created string          `json:"created"`
	Items   json.RawMessage `json:"items"`
}

// changesStatus reports whether the history has a status item.
func (h jiraHistory) changesStatus() bool {
	var items []struct {
		Field string `json:"field"`
	}
	if json.Unmarshal(h.Items, &items) != nil {
		return false
	}
	for _, it := range items {
		if it.Field == "status" {
			return true
		}
	}
	return false
}

// page turns a page of issues into events.
func page(p *poller.Pass, issues []jiraIssue) (poller.Page, error) {
	var pg poller.Page
	for _, is := range issues {
		if t := poller.ParseTime(is.Fields.Updated); t.After(pg.Through) {
			pg.Through = t
		}
		if is.Key == "" {
			continue
		}
		issue := map[string]any{"key": is.Key, "fields": map[string]any{
			"status": rawOrNull(is.Fields.Status), "updated": is.Fields.Updated,
		}}
		if is.Changelog != nil {
			for _, h := range is.Changelog.Histories {
				created := poller.ParseTime(h.Created)
				if created.IsZero() || created.Before(p.Since()) || !h.changesStatus() {
					continue
				}
				evs, err := webhook(p, map[string]any{
					"timestamp":    created.UnixMilli(),
					"webhookEvent": "jira:issue_updated",
					"issue":        issue,
					"changelog":    map[string]any{"id": rawOrNull(h.ID), "items": h.Items},
				})
				if err != nil {
					return poller.Page{}, err
				}
				pg.Events = append(pg.Events, evs...)
			}
		}
		if is.Fields.Comment != nil {
			for _, raw := range is.Fields.Comment.Comments {
				var c struct {
					Created string `json:"created"`
					Updated string `json:"updated"`
				}
				if json.Unmarshal(raw, &c) != nil {
					continue
				}
				created, updated := poller.ParseTime(c.Created), poller.ParseTime(c.Updated)
				if !created.IsZero() && !created.Before(p.Since()) {
					evs, err := webhook(p, map[string]any{
						"timestamp": created.UnixMilli(), "webhookEvent": "comment_created",
						"issue": issue, "comment": raw,
					})
					if err != nil {
						return poller.Page{}, err
					}
					pg.Events = append(pg.Events, evs...)
				}
				if !updated.IsZero() && !updated.Before(p.Since()) && updated.Sub(created) >= time.Second {
					evs, err := webhook(p, map[string]any{
						"timestamp": updated.UnixMilli(), "webhookEvent": "comment_updated",
						"issue": issue, "comment": raw,
					})
					if err != nil {
						return poller.Page{}, err
					}
					pg.Events = append(pg.Events, evs...)
				}
			}
		}
	}
	pg.Through = p.Through(pg.Through)
	return pg, nil
}

// webhook normalizes a synthesized webhook body. A body the normalizer
// finds malformed (a history Jira gave half of) is skipped, not fatal: it
// would otherwise stop the integration's polling for good.
func webhook(p *poller.Pass, body map[string]any) ([]events.Event, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("jira search: encoding an issue: %w", err)
	}
	return p.NormalizeOrSkip(b), nil
}

func rawOrNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage("null")
	}
	return r
}
