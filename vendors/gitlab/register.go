package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// GitLab project hooks (REST API v4): GET/POST /api/v4/projects/{id}/hooks,
// PUT .../hooks/{hook_id}, POST .../hooks/{hook_id}/test/{trigger} and GET
// .../hooks/{hook_id}/events (sendtest.go). {id} is the numeric id or the
// URL-encoded path (group%2Fproject).
//
// Scheme token (default): the secret is the hook's `token`, sent back as
// X-Gitlab-Token. Scheme signing (Standard Webhooks): the secret goes in
// `signing_token` and `token` is left out, so the secret never travels in
// plain text. What we know of signing tokens, honestly: they are recent
// (GitLab merge requests 230944 and 231325), behind the
// `webhook_signing_token` feature flag, and GitLab silently ignores
// `signing_token` where the flag is off; the hook then reports
// `signing_token_present` false or not at all. Register trusts only an
// explicit `signing_token_present: true` and otherwise answers, besides the
// registered hook, the manual step of setting the signing token in the UI.

// init registers the hook API, the manual steps and the send-test sample.
func init() {
	vendorapi.RegisterVendor(Vendor, vendorapi.Spec{
		DefaultURL:  "https://gitlab.com",
		Target:      "project path or id",
		Register:    register,
		SendTest:    sendTest,
		Authorize:   authorize,
		ManualSteps: manualSteps,
		Sample:      &sample,
	})
}

// authorize sends the token as GitLab's PRIVATE-TOKEN header.
func authorize(r *http.Request, rec integrations.Record) {
	r.Header.Set("PRIVATE-TOKEN", rec.APIToken)
}

type gitlabHook struct {
	ID                  int64  `json:"id"`
	URL                 string `json:"url"`
	SigningTokenPresent *bool  `json:"signing_token_present,omitempty"`
}

func register(ctx context.Context, s *vendorapi.Session, hook vendorapi.Hook) (vendorapi.Result, error) {
	s.TrimBasePath(apiPrefix)
	rec := s.Record()
	project := strings.Trim(rec.Target, "/")
	body := map[string]any{
		"url":                     hook.URL,
		"enable_ssl_verification": true,
	}
	for _, flag := range hook.EventsOr("push_events", "merge_requests_events", "tag_push_events", "pipeline_events") {
		body[flag] = true
	}
	signing := rec.EffectiveScheme() == integrations.SchemeSigning
	if signing {
		body["signing_token"] = hook.Secret
	} else {
		body["token"] = hook.Secret
	}
	existing, err := findHook(ctx, s, project, hook.URL)
	if err != nil {
		return vendorapi.Result{}, err
	}
	var got gitlabHook
	res := vendorapi.Result{Registered: true}
	if existing != 0 {
		res.HookID = strconv.FormatInt(existing, 10)
		u := s.Endpoint(nil, "api", "v4", "projects", project, "hooks", res.HookID)
		if _, err := s.Do(ctx, "update hook", http.MethodPut, u, body, &got); err != nil {
			return vendorapi.Result{}, err
		}
	} else {
		u := s.Endpoint(nil, "api", "v4", "projects", project, "hooks")
		if _, err := s.Do(ctx, "create hook", http.MethodPost, u, body, &got); err != nil {
			return vendorapi.Result{}, err
		}
		if got.ID == 0 {
			return vendorapi.Result{}, s.BadAnswer("create hook", "answer has no hook id")
		}
		res.HookID, res.Created = strconv.FormatInt(got.ID, 10), true
	}
	if signing && (got.SigningTokenPresent == nil || !*got.SigningTokenPresent) {
		res.ManualSteps = fmt.Sprintf("GitLab did not confirm the signing token (its API takes `signing_token` only where the webhook_signing_token feature is enabled). "+
			"In the project, open Settings → Webhooks, edit the hook for %s (id %s), set its signing token to %s, leave the secret token empty, and save.",
			hook.URL, res.HookID, vendorapi.SecretPlaceholder(rec))
	}
	return res, nil
}

// apiPrefix is stripped from the end of an api_url an operator may have
// written it into: paths are built from the instance's root.
const apiPrefix = "/api/v4"

// findHook returns the id of the project hook whose url is receiverURL, or
// 0, following X-Next-Page (else Link rel="next").
func findHook(ctx context.Context, s *vendorapi.Session, project, receiverURL string) (int64, error) {
	q := url.Values{"per_page": {"100"}}
	u := s.Endpoint(q, "api", "v4", "projects", project, "hooks")
	for range vendorapi.MaxPages {
		var page []gitlabHook
		h, err := s.Do(ctx, "list hooks", http.MethodGet, u, nil, &page)
		if err != nil {
			return 0, err
		}
		for _, hk := range page {
			if hk.ID != 0 && vendorapi.SameReceiver(hk.URL, receiverURL) {
				return hk.ID, nil
			}
		}
		if n, err := strconv.Atoi(h.Get("X-Next-Page")); err == nil && n > 0 {
			q.Set("page", strconv.Itoa(n))
			u = s.Endpoint(q, "api", "v4", "projects", project, "hooks")
		} else if u, err = s.NextLink(h, "list hooks"); u == nil || err != nil {
			return 0, err
		}
	}
	return 0, s.TooManyPages("list hooks")
}
