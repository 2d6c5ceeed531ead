package vendorapi

import (
	"context"
	"net/http"
	"net/url"
)

// Bitbucket Cloud repository webhooks (REST API 2.0):
// GET/POST /2.0/repositories/{workspace}/{repo_slug}/hooks (listing pages
// through `values` and `next`), PUT .../hooks/{uid}. The secret is the HMAC
// key Bitbucket signs X-Hub-Signature with; the API never returns it (only
// `secret_set`). Hook ids are UUIDs in braces, e.g. {0b1c...}.

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

func registerBitbucket(ctx context.Context, s *session, hook Hook) (Result, error) {
	ws, repo, err := splitTarget(s.rec, "workspace/repo")
	if err != nil {
		return Result{}, err
	}
	existing, err := findBitbucketHook(ctx, s, ws, repo, hook.URL)
	if err != nil {
		return Result{}, err
	}
	body := bitbucketHookRequest{
		Description: "hookgate",
		URL:         hook.URL,
		Active:      true,
		Secret:      hook.Secret,
		Events:      eventsOr(hook, "repo:push", "pullrequest:created", "pullrequest:updated"),
	}
	var got bitbucketHook
	if existing != "" {
		u := s.endpoint(nil, "2.0", "repositories", ws, repo, "hooks", existing)
		if _, err := s.do(ctx, "update hook", http.MethodPut, u, body, &got); err != nil {
			return Result{}, err
		}
		return Result{Registered: true, HookID: existing}, nil
	}
	u := s.endpoint(nil, "2.0", "repositories", ws, repo, "hooks")
	if _, err := s.do(ctx, "create hook", http.MethodPost, u, body, &got); err != nil {
		return Result{}, err
	}
	if got.UUID == "" {
		return Result{}, &APIError{Vendor: s.rec.Vendor, Op: "create hook", Excerpt: "answer has no hook uuid"}
	}
	return Result{Registered: true, HookID: got.UUID, Created: true}, nil
}

// findBitbucketHook returns the uuid of the repository hook whose url is
// receiverURL, or "", following `next` on the API's origin.
func findBitbucketHook(ctx context.Context, s *session, ws, repo, receiverURL string) (string, error) {
	u := s.endpoint(nil, "2.0", "repositories", ws, repo, "hooks")
	for range maxPages {
		var page bitbucketPage
		if _, err := s.do(ctx, "list hooks", http.MethodGet, u, nil, &page); err != nil {
			return "", err
		}
		for _, hk := range page.Values {
			if hk.UUID != "" && sameReceiver(hk.URL, receiverURL) {
				return hk.UUID, nil
			}
		}
		if page.Next == "" {
			return "", nil
		}
		next, err := url.Parse(page.Next)
		if err != nil || !s.sameOrigin(next) {
			return "", s.offOrigin("list hooks")
		}
		u = next
	}
	return "", s.tooManyPages("list hooks")
}
