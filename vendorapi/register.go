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

// Register creates hookgate's hook on the vendor for rec (rec.APIURL,
// APIUser, APIToken, Target), or updates it if one pointing at the same
// receiver URL already exists: calling it again never adds a second hook,
// and hooks pointing elsewhere are left alone. The update also brings the
// vendor's copy of the secret up to date after a rotation.
//
// How is the vendor's own: its package's Spec.Register. For vendors
// without a hook API it answers Result{Registered: false,
// ManualSteps: ManualSteps(rec, hook.URL)} and no error. Vendor API failures
// come back as *APIError (status and a scrubbed excerpt of the vendor's
// answer); neither the secret nor the API token is ever part of an error.
// c nil means http.DefaultClient.
func Register(ctx context.Context, c *http.Client, rec integrations.Record, hook Hook) (Result, error) {
	spec := specs[rec.Vendor]
	if spec.Register == nil || !spec.registers(rec.EffectiveScheme()) {
		if !rec.Vendor.Known() {
			return Result{}, fmt.Errorf("vendorapi: %w: unknown vendor %q", ErrBadSetting, rec.Vendor)
		}
		return Result{ManualSteps: ManualSteps(rec, hook.URL)}, nil
	}
	if err := checkHook(rec, hook); err != nil {
		return Result{}, err
	}
	s, err := newSession(c, rec, spec)
	if err != nil {
		return Result{}, err
	}
	s.addSecret(hook.Secret)
	return spec.Register(ctx, s, hook)
}

// TestDelivery is the test delivery a vendor was asked for, and how to
// tell it from every other delivery that arrives meanwhile (a real push,
// someone's copy of an old one), as hookgate's audit log shows them.
type TestDelivery struct {
	// Sent is true when the vendor took the request.
	Sent bool
	// Event is the vendor event name the test delivery carries (GitHub:
	// "ping"); "" when any.
	Event string
	// Hook, when set, is the hook id the test delivery's signed body names
	// (a GitHub ping's hook_id): the audit entry's hook_id.
	Hook string
	// Deliveries, when set, are the ids the vendor's API reports for the
	// test delivery (GitLab's hook events), as events.Identify reads them:
	// the audit entry's delivery is one of them.
	Deliveries []string
	// Unidentified, when set, says why the vendor's API cannot tell which
	// delivery is the test: no delivery is the test, then.
	Unidentified string
}

// Identified reports whether t names its delivery (Hook or Deliveries).
func (t TestDelivery) Identified() bool {
	return t.Unidentified == "" && (t.Hook != "" || len(t.Deliveries) > 0)
}

// SendTest asks the vendor to send a test delivery to hook hookID, through
// its package's Spec.SendTest (GitHub pings the hook, GitLab tests its push
// events), and answers how to tell it apart. For vendors without such an
// API it answers a TestDelivery not sent, and no error. A vendor's answer
// that names no delivery is Unidentified.
func SendTest(ctx context.Context, c *http.Client, rec integrations.Record, hookID string) (TestDelivery, error) {
	spec := specs[rec.Vendor]
	if spec.SendTest == nil {
		return TestDelivery{}, nil
	}
	if strings.TrimSpace(hookID) == "" {
		return TestDelivery{}, fmt.Errorf("vendorapi: %s: %w: hook id", rec.Vendor, ErrMissingSetting)
	}
	s, err := newSession(c, rec, spec)
	if err != nil {
		return TestDelivery{}, err
	}
	t, err := spec.SendTest(ctx, s, hookID)
	if err != nil {
		return TestDelivery{}, err
	}
	t.Sent = true
	if !t.Identified() && t.Unidentified == "" {
		t.Unidentified = fmt.Sprintf("%s's API names no test delivery", rec.Vendor)
	}
	return t, nil
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

// SplitTarget splits rec's target "a/b" into its two non-empty parts; any
// other form (one part, three, "." or "..") is an ErrBadSetting saying the
// target must be what, e.g. "owner/repo".
func SplitTarget(rec integrations.Record, what string) (string, string, error) {
	a, b, ok := strings.Cut(strings.Trim(rec.Target, "/"), "/")
	if !ok || a == "" || b == "" || strings.Contains(b, "/") || a == ".." || b == ".." || a == "." || b == "." {
		return "", "", fmt.Errorf("vendorapi: %s: %w: target must be %s", rec.Vendor, ErrBadSetting, what)
	}
	return a, b, nil
}

// SameReceiver reports whether two hook URLs point at the same receiver:
// scheme and host compared case-insensitively, the path exactly, and a
// `token` query parameter (Jira's token scheme) ignored. It is how a
// vendor's Register recognises hookgate's existing hook.
func SameReceiver(a, b string) bool {
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

// EventsOr returns hook.Events, or the vendor's defaults def when there
// are none.
func (hook Hook) EventsOr(def ...string) []string {
	if len(hook.Events) > 0 {
		return hook.Events
	}
	return def
}
