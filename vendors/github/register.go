package github

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// GitHub repository webhooks (REST API version 2022-11-28):
// GET/POST /repos/{owner}/{repo}/hooks, PATCH .../hooks/{hook_id},
// POST .../hooks/{hook_id}/pings. The secret is the HMAC key GitHub signs
// X-Hub-Signature-256 (and, pinned hmac-sha1, X-Hub-Signature) with.

// init registers the hook API, the manual steps and the send-test sample.
func init() {
	vendorapi.RegisterVendor(Vendor, vendorapi.Spec{
		DefaultURL:  "https://api.github.com",
		Target:      "owner/repo",
		Register:    register,
		SendTest:    sendTest,
		Authorize:   authorize,
		ManualSteps: manualSteps,
		Sample:      &sample,
	})
}

// authorize sends the token as a bearer token, with the media type and API
// version the calls are written against.
func authorize(r *http.Request, rec integrations.Record) {
	r.Header.Set("Authorization", "Bearer "+rec.APIToken)
	r.Header.Set("Accept", "application/vnd.github+json")
	r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
}

type githubHook struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Config struct {
		URL string `json:"url"`
	} `json:"config"`
}

type githubConfig struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	Secret      string `json:"secret"`
	InsecureSSL string `json:"insecure_ssl"`
}

type githubHookRequest struct {
	Name   string       `json:"name,omitempty"` // create only: always "web"
	Active bool         `json:"active"`
	Events []string     `json:"events"`
	Config githubConfig `json:"config"`
}

func register(ctx context.Context, s *vendorapi.Session, hook vendorapi.Hook) (vendorapi.Result, error) {
	owner, repo, err := vendorapi.SplitTarget(s.Record(), "owner/repo")
	if err != nil {
		return vendorapi.Result{}, err
	}
	existing, err := findHook(ctx, s, owner, repo, hook.URL)
	if err != nil {
		return vendorapi.Result{}, err
	}
	body := githubHookRequest{
		Active: true,
		Events: hook.EventsOr("push", "pull_request"),
		Config: githubConfig{URL: hook.URL, ContentType: "json", Secret: hook.Secret, InsecureSSL: "0"},
	}
	var got githubHook
	if existing != 0 {
		id := strconv.FormatInt(existing, 10)
		u := s.Endpoint(nil, "repos", owner, repo, "hooks", id)
		if _, err := s.Do(ctx, "update hook", http.MethodPatch, u, body, &got); err != nil {
			return vendorapi.Result{}, err
		}
		return vendorapi.Result{Registered: true, HookID: id}, nil
	}
	body.Name = "web"
	u := s.Endpoint(nil, "repos", owner, repo, "hooks")
	if _, err := s.Do(ctx, "create hook", http.MethodPost, u, body, &got); err != nil {
		return vendorapi.Result{}, err
	}
	if got.ID == 0 {
		return vendorapi.Result{}, s.BadAnswer("create hook", "answer has no hook id")
	}
	return vendorapi.Result{Registered: true, HookID: strconv.FormatInt(got.ID, 10), Created: true}, nil
}

// findHook returns the id of the repository hook whose config.url is
// receiverURL, or 0. It follows Link rel="next" pages on the API's origin.
func findHook(ctx context.Context, s *vendorapi.Session, owner, repo, receiverURL string) (int64, error) {
	u := s.Endpoint(url.Values{"per_page": {"100"}}, "repos", owner, repo, "hooks")
	for range vendorapi.MaxPages {
		var page []githubHook
		h, err := s.Do(ctx, "list hooks", http.MethodGet, u, nil, &page)
		if err != nil {
			return 0, err
		}
		for _, hk := range page {
			if hk.ID != 0 && vendorapi.SameReceiver(hk.Config.URL, receiverURL) {
				return hk.ID, nil
			}
		}
		if u, err = s.NextLink(h, "list hooks"); u == nil || err != nil {
			return 0, err
		}
	}
	return 0, s.TooManyPages("list hooks")
}

// sendTest pings the hook. GitHub answers 204 without the delivery's id;
// the ping it sends names the hook in its signed body (hook_id), and that
// tells it from any other delivery.
func sendTest(ctx context.Context, s *vendorapi.Session, hookID string) (vendorapi.TestDelivery, error) {
	owner, repo, err := vendorapi.SplitTarget(s.Record(), "owner/repo")
	if err != nil {
		return vendorapi.TestDelivery{}, err
	}
	u := s.Endpoint(nil, "repos", owner, repo, "hooks", hookID, "pings")
	if _, err = s.Do(ctx, "ping hook", http.MethodPost, u, nil, nil); err != nil {
		return vendorapi.TestDelivery{}, err
	}
	return vendorapi.TestDelivery{Event: "ping", Hook: hookID}, nil
}
