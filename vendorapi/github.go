package vendorapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// GitHub repository webhooks (REST API version 2022-11-28):
// GET/POST /repos/{owner}/{repo}/hooks, PATCH .../hooks/{hook_id},
// POST .../hooks/{hook_id}/pings. The secret is the HMAC key GitHub signs
// X-Hub-Signature-256 (and, pinned hmac-sha1, X-Hub-Signature) with.

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

func registerGitHub(ctx context.Context, s *session, hook Hook) (Result, error) {
	owner, repo, err := splitTarget(s.rec, "owner/repo")
	if err != nil {
		return Result{}, err
	}
	existing, err := findGitHubHook(ctx, s, owner, repo, hook.URL)
	if err != nil {
		return Result{}, err
	}
	body := githubHookRequest{
		Active: true,
		Events: eventsOr(hook, "push", "pull_request"),
		Config: githubConfig{URL: hook.URL, ContentType: "json", Secret: hook.Secret, InsecureSSL: "0"},
	}
	var got githubHook
	if existing != 0 {
		id := strconv.FormatInt(existing, 10)
		u := s.endpoint(nil, "repos", owner, repo, "hooks", id)
		if _, err := s.do(ctx, "update hook", http.MethodPatch, u, body, &got); err != nil {
			return Result{}, err
		}
		return Result{Registered: true, HookID: id}, nil
	}
	body.Name = "web"
	u := s.endpoint(nil, "repos", owner, repo, "hooks")
	if _, err := s.do(ctx, "create hook", http.MethodPost, u, body, &got); err != nil {
		return Result{}, err
	}
	if got.ID == 0 {
		return Result{}, &APIError{Vendor: s.rec.Vendor, Op: "create hook", Excerpt: "answer has no hook id"}
	}
	return Result{Registered: true, HookID: strconv.FormatInt(got.ID, 10), Created: true}, nil
}

// findGitHubHook returns the id of the repository hook whose config.url is
// receiverURL, or 0. It follows Link rel="next" pages on the API's origin.
func findGitHubHook(ctx context.Context, s *session, owner, repo, receiverURL string) (int64, error) {
	u := s.endpoint(url.Values{"per_page": {"100"}}, "repos", owner, repo, "hooks")
	for range maxPages {
		var page []githubHook
		h, err := s.do(ctx, "list hooks", http.MethodGet, u, nil, &page)
		if err != nil {
			return 0, err
		}
		for _, hk := range page {
			if hk.ID != 0 && sameReceiver(hk.Config.URL, receiverURL) {
				return hk.ID, nil
			}
		}
		if u, err = s.nextLink(h, "list hooks"); u == nil || err != nil {
			return 0, err
		}
	}
	return 0, s.tooManyPages("list hooks")
}

func testGitHub(ctx context.Context, s *session, hookID string) error {
	owner, repo, err := splitTarget(s.rec, "owner/repo")
	if err != nil {
		return err
	}
	u := s.endpoint(nil, "repos", owner, repo, "hooks", hookID, "pings")
	_, err = s.do(ctx, "ping hook", http.MethodPost, u, nil, nil)
	return err
}

// nextLink returns the rel="next" target of an RFC 8288 Link header (GitHub,
// GitLab), or nil on the last page. A next page off the API's own origin is
// an error: following it would send the token elsewhere, and stopping there
// could miss hookgate's hook and add a second one.
func (s *session) nextLink(h http.Header, op string) (*url.URL, error) {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			next := false
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") {
					for _, rel := range strings.Fields(strings.Trim(val, `"`)) {
						next = next || strings.EqualFold(rel, "next")
					}
				}
			}
			if !next {
				continue
			}
			u, err := url.Parse(target[1 : len(target)-1])
			if err != nil || !s.sameOrigin(u) {
				return nil, s.offOrigin(op)
			}
			return u, nil
		}
	}
	return nil, nil
}

func (s *session) offOrigin(op string) error {
	return &APIError{Vendor: s.rec.Vendor, Op: op, Excerpt: "next page link is not on api_url's origin"}
}

func (s *session) tooManyPages(op string) error {
	return &APIError{Vendor: s.rec.Vendor, Op: op, Excerpt: fmt.Sprintf("more than %d pages of hooks", maxPages)}
}
