package vendorapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Hook is what hookgate asks a vendor to deliver to.
type Hook struct {
	// URL is the receiver URL the vendor posts to
	// (https://<public_url>/webhooks/...). Required; absolute http or https.
	URL string
	// Secret is the integration's current webhook secret or token. Required:
	// a hook registered without one could never be verified.
	Secret string
	// Events replaces the vendor's default event list, in the vendor's own
	// vocabulary: GitHub event names (push), GitLab hook flags
	// (push_events), Bitbucket event keys (repo:push), Jira webhook events
	// (jira:issue_updated), Azure DevOps event types (git.push). Optional.
	Events []string
}

// Result says what Register did.
type Result struct {
	// Registered is true when the hook now exists on the vendor.
	Registered bool
	// HookID is the vendor's id of hookgate's hook. Azure DevOps has one
	// subscription per event type: their ids, comma-separated, in event
	// order.
	HookID string
	// Created is true when Register created a hook (or, on Azure DevOps, at
	// least one subscription), false when it updated hookgate's existing one.
	Created bool
	// ManualSteps are what the operator must still do by hand: everything,
	// for vendors without a hook API, or a remaining step (e.g. a GitLab
	// signing token the API did not take). Never contains a secret.
	ManualSteps string
}

// Errors Register and SendTest wrap; test them with errors.Is.
var (
	// ErrMissingSetting marks a record or hook lacking what a call needs
	// (api_url, api_token, target, receiver URL, secret).
	ErrMissingSetting = errors.New("missing setting")
	// ErrBadSetting marks a setting of the wrong form (a target that is not
	// owner/repo, an api_url that is not http or https).
	ErrBadSetting = errors.New("bad setting")
)

// vendorAPI is one vendor's hook API: one row per vendor, the code in the
// vendor's file. A vendor without a row has no hook API.
type vendorAPI struct {
	// defaultURL is used when the record has no api_url; "" makes it
	// required.
	defaultURL string
	// target describes the record's target for error messages; "" means
	// the vendor takes none (Jira hooks are site-wide).
	target string
	// register creates or updates the hook.
	register func(ctx context.Context, s *session, hook Hook) (Result, error)
	// sendTest asks for a test delivery; nil when the vendor cannot.
	sendTest func(ctx context.Context, s *session, hookID string) error
}

var vendorAPIs = map[integrations.Vendor]vendorAPI{
	integrations.GitHub:      {defaultURL: "https://api.github.com", target: "owner/repo", register: registerGitHub, sendTest: testGitHub},
	integrations.GitLab:      {defaultURL: "https://gitlab.com", target: "project path or id", register: registerGitLab, sendTest: testGitLab},
	integrations.Bitbucket:   {defaultURL: "https://api.bitbucket.org", target: "workspace/repo", register: registerBitbucket},
	integrations.Jira:        {register: registerJira},
	integrations.AzureDevOps: {target: "project", register: registerAzureDevOps},
}

// HasAPI reports whether Register can create v's hook through an API.
func HasAPI(v integrations.Vendor) bool {
	_, ok := vendorAPIs[v]
	return ok
}

// Register creates hookgate's hook on the vendor for rec (rec.APIURL,
// APIUser, APIToken, Target), or updates it if one pointing at the same
// receiver URL already exists: calling it again never adds a second hook,
// and hooks pointing elsewhere are left alone. The update also brings the
// vendor's copy of the secret up to date after a rotation.
//
// For vendors without a hook API it answers Result{Registered: false,
// ManualSteps: ManualSteps(rec, hook.URL)} and no error. Vendor API failures
// come back as *APIError (status and a scrubbed excerpt of the vendor's
// answer); neither the secret nor the API token is ever part of an error.
// c nil means http.DefaultClient.
func Register(ctx context.Context, c *http.Client, rec integrations.Record, hook Hook) (Result, error) {
	api, ok := vendorAPIs[rec.Vendor]
	if !ok {
		if !rec.Vendor.Known() {
			return Result{}, fmt.Errorf("vendorapi: %w: unknown vendor %q", ErrBadSetting, rec.Vendor)
		}
		return Result{ManualSteps: ManualSteps(rec, hook.URL)}, nil
	}
	if err := checkHook(rec, hook); err != nil {
		return Result{}, err
	}
	s, err := newSession(c, rec, api)
	if err != nil {
		return Result{}, err
	}
	s.addSecret(hook.Secret)
	return api.register(ctx, s, hook)
}

// SendTest asks the vendor to send a test delivery to hook hookID: GitHub
// POST /repos/{owner}/{repo}/hooks/{id}/pings, GitLab POST
// /projects/{id}/hooks/{hook_id}/test/push_events. For other vendors it
// answers (false, nil): they have no such API.
func SendTest(ctx context.Context, c *http.Client, rec integrations.Record, hookID string) (sent bool, err error) {
	api, ok := vendorAPIs[rec.Vendor]
	if !ok || api.sendTest == nil {
		return false, nil
	}
	if strings.TrimSpace(hookID) == "" {
		return false, fmt.Errorf("vendorapi: %s: %w: hook id", rec.Vendor, ErrMissingSetting)
	}
	s, err := newSession(c, rec, api)
	if err != nil {
		return false, err
	}
	if err := api.sendTest(ctx, s, hookID); err != nil {
		return false, err
	}
	return true, nil
}

// checkHook validates the receiver URL and the secret.
func checkHook(rec integrations.Record, hook Hook) error {
	if hook.URL == "" {
		return fmt.Errorf("vendorapi: %s: %w: receiver URL (set public_url)", rec.Vendor, ErrMissingSetting)
	}
	u, err := url.Parse(hook.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("vendorapi: %s: %w: receiver URL must be an absolute http or https URL without user info", rec.Vendor, ErrBadSetting)
	}
	if hook.Secret == "" {
		return fmt.Errorf("vendorapi: %s: %w: integration %s has no secret; regenerate one before registering", rec.Vendor, ErrMissingSetting, rec.ID)
	}
	return nil
}

// splitTarget splits "a/b" into its two non-empty parts.
func splitTarget(rec integrations.Record, what string) (string, string, error) {
	a, b, ok := strings.Cut(strings.Trim(rec.Target, "/"), "/")
	if !ok || a == "" || b == "" || strings.Contains(b, "/") || a == ".." || b == ".." || a == "." || b == "." {
		return "", "", fmt.Errorf("vendorapi: %s: %w: target must be %s", rec.Vendor, ErrBadSetting, what)
	}
	return a, b, nil
}

// sameReceiver reports whether two hook URLs point at the same receiver:
// scheme and host compared case-insensitively, the path exactly, and a
// `token` query parameter (Jira's token scheme) ignored.
func sameReceiver(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil {
		return false
	}
	ub, err := url.Parse(b)
	if err != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) &&
		strings.EqualFold(ua.Host, ub.Host) &&
		ua.EscapedPath() == ub.EscapedPath() &&
		withoutToken(ua.Query()) == withoutToken(ub.Query())
}

func withoutToken(q url.Values) string {
	q.Del("token")
	return q.Encode()
}

// eventsOr returns hook.Events, or def when there are none.
func eventsOr(hook Hook, def ...string) []string {
	if len(hook.Events) > 0 {
		return hook.Events
	}
	return def
}
