package bitbucket

import (
	"context"
	"net/http"
	"net/url"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// Bitbucket Cloud repository webhooks (REST API 2.0):
// GET/POST /2.0/repositories/{workspace}/{repo_slug}/hooks (listing pages
// through `values` and `next`), PUT .../hooks/{uid}. The secret is the HMAC
// key Bitbucket signs X-Hub-Signature with; the API never returns it (only
// `secret_set`). Hook ids are UUIDs in braces, e.g. {0b1c...}. The API
// token goes as the password of Basic auth with the record's api_user (an
// app password), or as a bearer token without one (an access token):
// vendorapi's default.

// init registers the hook API, the manual steps and the send-test sample.
// Bitbucket has no test-delivery API.
func init() {
	vendorapi.RegisterVendor(Vendor, vendorapi.Spec{
		DefaultURL:  "https://api.bitbucket.org",
		Target:      "workspace/repo",
		Register:    register,
		APISchemes:  []integrations.Scheme{integrations.SchemeHMAC},
		ManualSteps: manualSteps,
		Sample:      &sample,
	})
}

type bitbucketHook struct {
	UUID string `json:"uuid"`
	URL  string `json:"url"`
}

type bitbucketPage struct {
	Values []bitbucketHook `json:"values"`
	Next   string          `json:"next"`
}

type bitbucketHookRequest struct {
	Description string   `json:"description"`
	URL         string   `json:"url"`
	Active      bool     `json:"active"`
	Secret      string   `json:"secret"`
	Events      []string `json:"events"`
}

func register(ctx context.Context, s *vendorapi.Session, hook vendorapi.Hook) (vendorapi.Result, error) {
	ws, repo, err := vendorapi.SplitTarget(s.Record(), "workspace/repo")
	if err != nil {
		return vendorapi.Result{}, err
	}
	existing, err := findHook(ctx, s, ws, repo, hook.URL)
	if err != nil {
		return vendorapi.Result{}, err
	}
	body := bitbucketHookRequest{
		Description: "hookgate",
		URL:         hook.URL,
		Active:      true,
		Secret:      hook.Secret,
		Events:      hook.EventsOr("repo:push", "pullrequest:created", "pullrequest:updated"),
	}
	var got bitbucketHook
	if existing != "" {
		u := s.Endpoint(nil, "2.0", "repositories", ws, repo, "hooks", existing)
		if _, err := s.Do(ctx, "update hook", http.MethodPut, u, body, &got); err != nil {
			return vendorapi.Result{}, err
		}
		return vendorapi.Result{Registered: true, HookID: existing}, nil
	}
	u := s.Endpoint(nil, "2.0", "repositories", ws, repo, "hooks")
	if _, err := s.Do(ctx, "create hook", http.MethodPost, u, body, &got); err != nil {
		return vendorapi.Result{}, err
	}
	if got.UUID == "" {
		return vendorapi.Result{}, s.BadAnswer("create hook", "answer has no hook uuid")
	}
	return vendorapi.Result{Registered: true, HookID: got.UUID, Created: true}, nil
}

// findHook returns the uuid of the repository hook whose url is
// receiverURL, or "", following `next` on the API's origin.
func findHook(ctx context.Context, s *vendorapi.Session, ws, repo, receiverURL string) (string, error) {
	u := s.Endpoint(nil, "2.0", "repositories", ws, repo, "hooks")
	for range vendorapi.MaxPages {
		var page bitbucketPage
		if _, err := s.Do(ctx, "list hooks", http.MethodGet, u, nil, &page); err != nil {
			return "", err
		}
		for _, hk := range page.Values {
			if hk.UUID != "" && vendorapi.SameReceiver(hk.URL, receiverURL) {
				return hk.UUID, nil
			}
		}
		if page.Next == "" {
			return "", nil
		}
		next, err := url.Parse(page.Next)
		if err != nil || !s.SameOrigin(next) {
			return "", s.OffOrigin("list hooks")
		}
		u = next
	}
	return "", s.TooManyPages("list hooks")
}
