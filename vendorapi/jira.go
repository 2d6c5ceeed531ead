package vendorapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Jira admin webhooks (Jira Cloud and Data Center): GET/POST
// /rest/webhooks/1.0/webhook, PUT /rest/webhooks/1.0/webhook/{id}. They are
// site-wide, so the record needs no target. Registering them needs a Jira
// administrator's credentials.
//
// Scheme token (default): the secret rides in the URL's `token` query
// parameter, so the URL Jira stores and lists carries it; hookgate's hook is
// recognised by its URL without that parameter. Scheme hmac: the plain URL
// and the `secret` field, with which Jira signs X-Hub-Signature.
//
// Jira identifies a webhook by the last element of its `self` URL; Data
// Center answers may carry an `id` instead, which is preferred when present.

type jiraHook struct {
	ID   json.RawMessage `json:"id,omitempty"`
	Self string          `json:"self"`
	URL  string          `json:"url"`
}

// hookID is the webhook's id, from `id` or the end of `self`.
func (h jiraHook) hookID() string {
	var s string
	if err := json.Unmarshal(h.ID, &s); err == nil && s != "" {
		return s
	}
	var n json.Number
	if err := json.Unmarshal(h.ID, &n); err == nil && n != "" {
		return n.String()
	}
	if u, err := url.Parse(h.Self); err == nil && h.Self != "" {
		if id := path.Base(strings.TrimRight(u.Path, "/")); id != "." && id != "/" && id != "webhook" {
			return id
		}
	}
	return ""
}

type jiraHookRequest struct {
	Name        string   `json:"name"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	ExcludeBody bool     `json:"excludeBody"`
	Secret      string   `json:"secret,omitempty"`
}

func registerJira(ctx context.Context, s *session, hook Hook) (Result, error) {
	body := jiraHookRequest{
		Name:   "hookgate",
		URL:    hook.URL,
		Events: eventsOr(hook, "jira:issue_updated", "comment_created", "comment_updated"),
	}
	if s.rec.EffectiveScheme() == integrations.SchemeHMAC {
		body.Secret = hook.Secret
	} else {
		u, _ := url.Parse(hook.URL) // checked by checkHook
		q := u.Query()
		q.Set("token", hook.Secret)
		u.RawQuery = q.Encode()
		body.URL = u.String()
	}
	var list []jiraHook
	if _, err := s.do(ctx, "list webhooks", http.MethodGet, s.endpoint(nil, "rest", "webhooks", "1.0", "webhook"), nil, &list); err != nil {
		return Result{}, err
	}
	for _, hk := range list {
		if !sameReceiver(hk.URL, hook.URL) {
			continue
		}
		id := hk.hookID()
		if id == "" {
			continue
		}
		var got jiraHook
		u := s.endpoint(nil, "rest", "webhooks", "1.0", "webhook", id)
		if _, err := s.do(ctx, "update webhook", http.MethodPut, u, body, &got); err != nil {
			return Result{}, err
		}
		return Result{Registered: true, HookID: id}, nil
	}
	var got jiraHook
	if _, err := s.do(ctx, "create webhook", http.MethodPost, s.endpoint(nil, "rest", "webhooks", "1.0", "webhook"), body, &got); err != nil {
		return Result{}, err
	}
	id := got.hookID()
	if id == "" {
		return Result{}, &APIError{Vendor: s.rec.Vendor, Op: "create webhook", Excerpt: "answer has neither id nor self"}
	}
	return Result{Registered: true, HookID: id, Created: true}, nil
}
