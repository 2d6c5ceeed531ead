package integrations

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/iplists"
)

// Record is one integration's configuration, as stored in Vault KV v2 at
// <mount>/data/<prefix>/<id> or written in a Caddyfile `integration` block.
type Record struct {
	// ID is the integration id; it is the last element of the Vault path.
	ID string `json:"id"`
	// Vendor is a registered vendor's name. Required.
	Vendor Vendor `json:"vendor"`
	// Secret is the current webhook secret or token. Empty means unsigned:
	// deliveries are refused unless CI_WEBHOOK_ALLOW_UNSIGNED is true.
	Secret string `json:"-"`
	// PreviousSecret is the secret before the last rotation; it is accepted
	// until PreviousValidUntil. Default: none.
	PreviousSecret string `json:"-"`
	// PreviousValidUntil ends the rotation overlap. Zero: no overlap.
	PreviousValidUntil time.Time `json:"previous_valid_until,omitzero"`
	// Scheme pins one verification scheme; empty selects the vendor's default.
	// A pinned scheme accepts nothing else.
	Scheme Scheme `json:"scheme,omitempty"`
	// Active false rejects every delivery and stops polling. Default: true.
	Active bool `json:"active"`
	// AutoCloseOnResolve makes a done ticket close its finding; false asks for
	// a retest instead. Default: false.
	AutoCloseOnResolve bool `json:"auto_close_on_resolve"`
	// Branches are globs a CI event's branch must match to scan or run
	// pipelines. Default: all branches.
	Branches []string `json:"branches,omitempty"`
	// Scans lists the scans (sast, sca) requested on matching CI events.
	// Default: none.
	Scans []string `json:"scans,omitempty"`
	// Pipeline requests a pipeline run on matching CI events. Default: false.
	Pipeline bool `json:"pipeline"`
	// APIURL, APIUser and APIToken give access to the vendor's API for the
	// poller and for registration. APIToken is never shown.
	APIURL   string `json:"api_url,omitempty"`
	APIUser  string `json:"api_user,omitempty"`
	APIToken string `json:"-"`
	// Target is what registration puts the hook on (owner/repo, project).
	// For a vendor that binds targets (Spec.BindsTarget), a delivery whose
	// body names another repository or project is refused. Default: none.
	Target string `json:"target,omitempty"`
	// MaxAge overrides the app's max_age for this integration: a delivery
	// whose vendor event time is older is refused. MaxAgeOff disables the
	// check. Default: zero, the app's max_age.
	MaxAge time.Duration `json:"-"`
	// Tolerance is how far a Standard Webhooks `webhook-timestamp` (GitLab
	// `signing`) may be from hookgate's clock, either way, for the
	// integration's deliveries: longer for a sender whose retries keep the
	// first attempt's timestamp. Other schemes carry no timestamp and
	// ignore it. Default: zero, DefaultTolerance (5m).
	Tolerance time.Duration `json:"-"`
	// AllowIPs restricts the addresses deliveries may come from (Caddy's
	// client IP, so trusted_proxies applies): IP addresses, CIDRs and
	// published lists (iplists: github, atlassian, bitbucket). A delivery
	// from any other address is refused. Default: nil, any address.
	AllowIPs *iplists.Allow `json:"allow_ips,omitempty"`
	// DoneStates are ServiceNow states or ManageEngine status names that
	// mean done. Default: 6, 7 (ServiceNow); Resolved, Closed (ManageEngine).
	DoneStates []string `json:"done_states,omitempty"`
	// Version is the store's version of the record (Vault KV v2 metadata
	// version); zero for static records.
	Version int `json:"secret_version"`
}

// MaxAgeOff is Record.MaxAge for an integration that checks no event
// time (written `off`).
const MaxAgeOff time.Duration = -1

// EffectiveMaxAge is the max_age that applies to the record's deliveries
// given the app's: zero when none does.
func (r *Record) EffectiveMaxAge(global time.Duration) time.Duration {
	switch {
	case r.MaxAge == MaxAgeOff:
		return 0
	case r.MaxAge > 0:
		return r.MaxAge
	}
	return max(global, 0)
}

// DefaultTolerance is the Standard Webhooks timestamp tolerance of a
// record that sets none: the specification's 5 minutes.
const DefaultTolerance = 5 * time.Minute

// MaxTolerance is the longest tolerance a record may set. A delivery is
// remembered by its webhook-id for dedupe_window, so a tolerance longer
// than that would let a copy in after its mark expired; the handler caps
// it at dedupe_window as well.
const MaxTolerance = 72 * time.Hour

// EffectiveTolerance is the Standard Webhooks timestamp tolerance for the
// record's deliveries given the app's dedupe window: the record's, or
// DefaultTolerance, never longer than dedupeWindow when that is set.
func (r *Record) EffectiveTolerance(dedupeWindow time.Duration) time.Duration {
	t := r.Tolerance
	if t <= 0 {
		t = DefaultTolerance
	}
	if dedupeWindow > 0 && t > dedupeWindow {
		t = dedupeWindow
	}
	return t
}

// ParseTolerance reads a tolerance setting: a positive duration such as
// `15m`, at most MaxTolerance.
func ParseTolerance(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second || d > MaxTolerance {
		return 0, fmt.Errorf("tolerance %q: want a duration between 1s and %s", s, MaxTolerance)
	}
	return d, nil
}

// ParseMaxAge reads a max_age setting: `off`, or a duration such as `72h`
// or `3d` (whole days).
func ParseMaxAge(s string) (time.Duration, error) {
	if s == "off" {
		return MaxAgeOff, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100000 {
			return 0, fmt.Errorf("max_age %q: want off or a positive duration", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("max_age %q: want off or a positive duration", s)
	}
	return d, nil
}

// BindsTarget reports whether a delivery must name the record's Target:
// set, and the vendor's bodies name the repository or project.
func (r *Record) BindsTarget() bool {
	if r.Target == "" {
		return false
	}
	spec, _ := r.Vendor.spec()
	return spec.BindsTarget
}

// EffectiveScheme is the pinned scheme, or the vendor's default.
func (r *Record) EffectiveScheme() Scheme {
	if r.Scheme != "" {
		return r.Scheme
	}
	return r.Vendor.DefaultScheme()
}

// HasSecret reports whether deliveries must carry a valid signature or token.
func (r *Record) HasSecret() bool { return r.Secret != "" }

// PreviousActive reports whether the previous secret is still accepted at now.
func (r *Record) PreviousActive(now time.Time) bool {
	return r.PreviousSecret != "" && now.Before(r.PreviousValidUntil)
}

// EffectiveDoneStates is DoneStates or the vendor's default list.
func (r *Record) EffectiveDoneStates() []string {
	if len(r.DoneStates) > 0 {
		return r.DoneStates
	}
	spec, _ := r.Vendor.spec()
	return spec.DoneStates
}

// ErrInvalidRecord marks a record that cannot be used.
var ErrInvalidRecord = errors.New("invalid integration record")

// Validate checks the record's values. Errors never include secret values.
func (r *Record) Validate() error {
	if !ValidID(r.ID) {
		return fmt.Errorf("%w: malformed integration id", ErrInvalidRecord)
	}
	if !r.Vendor.Known() {
		return fmt.Errorf("%w: integration %s: unknown vendor %q", ErrInvalidRecord, r.ID, r.Vendor)
	}
	if r.Scheme != "" && !r.Vendor.Supports(r.Scheme) {
		return fmt.Errorf("%w: integration %s: vendor %s has no scheme %q", ErrInvalidRecord, r.ID, r.Vendor, r.Scheme)
	}
	if r.PreviousSecret != "" && r.PreviousValidUntil.IsZero() {
		return fmt.Errorf("%w: integration %s: previous_secret without previous_valid_until", ErrInvalidRecord, r.ID)
	}
	for _, s := range r.Scans {
		if s != "sast" && s != "sca" {
			return fmt.Errorf("%w: integration %s: unknown scan %q", ErrInvalidRecord, r.ID, s)
		}
	}
	return nil
}
