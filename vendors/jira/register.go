package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// Jira admin webhooks (Jira Cloud and Data Center): GET/POST
// /rest/webhooks/1.0/webhook, PUT /rest/webhooks/1.0/webhook/{id}. They are
// site-wide, so the record needs no target, and there is no default
// api_url (the site's). Registering them needs a Jira administrator's
// credentials: Basic with api_user and api_token, or a bearer token
// without api_user (vendorapi's default).
//
// Scheme token (default): the secret rides in the URL's `token` query
// parameter, so the URL Jira stores and lists carries it; hookgate's hook is
// recognised by its URL without that parameter. Scheme hmac: the plain URL
// and the `secret` field, with which Jira signs X-Hub-Signature.
//
// Jira identifies a webhook by the last element of its `self` URL; Data
// Center answers may carry an `id` instead, which is preferred when present.

// init registers the hook API, the manual steps and the send-test sample.
// Jira has no test-delivery API.
func init() {
	vendorapi.RegisterVendor(Vendor, vendorapi.Spec{
		Register:    register,
		APISchemes:  []integrations.Scheme{integrations.SchemeToken, integrations.SchemeHMAC},
		ManualSteps: manualSteps,
		Sample:      &sample,
	})
}

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

func register(ctx context.Context, s *vendorapi.Session, hook vendorapi.Hook) (vendorapi.Result, error) {
	body := jiraHookRequest{
		Name:   "hookgate",
		URL:    hook.URL,
		Events: hook.EventsOr("jira:issue_updated", "comment_created", "comment_updated"),
	}
	if rec := s.Record(); rec.EffectiveScheme() == integrations.SchemeHMAC {
		body.Secret = hook.Secret
	} else {
		u, _ := url.Parse(hook.URL) // checked by vendorapi.Register
		q := u.Query()
		q.Set("token", hook.Secret)
		u.RawQuery = q.Encode()
		body.URL = u.String()
	}
	var list []jiraHook
	if _, err := s.Do(ctx, "list webhooks", http.MethodGet, s.Endpoint(nil, "rest", "webhooks", "1.0", "webhook"), nil, &list); err != nil {
		return vendorapi.Result{}, err
	}
	for _, hk := range list {
		if !vendorapi.SameReceiver(hk.URL, hook.URL) {
			continue
		}
		id := hk.hookID()
		if id == "" {
			continue
		}
		var got jiraHook
		u := s.Endpoint(nil, "rest", "webhooks", "1.0", "webhook", id)
		if _, err := s.Do(ctx, "update webhook", http.MethodPut, u, body, &got); err != nil {
			return vendorapi.Result{}, err
		}
		return vendorapi.Result{Registered: true, HookID: id}, nil
	}
	var got jiraHook
	if _, err := s.Do(ctx, "create webhook", http.MethodPost, s.Endpoint(nil, "rest", "webhooks", "1.0", "webhook"), body, &got); err != nil {
		return vendorapi.Result{}, err
	}
	id := got.hookID()
	if id == "" {
		return vendorapi.Result{}, s.BadAnswer("create webhook", "answer has neither id nor self")
	}
	return vendorapi.Result{Registered: true, HookID: id, Created: true}, nil
}
