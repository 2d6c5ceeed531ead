package vendorapi

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Spec is what a vendor package (vendors/<name>) registers with
// RegisterVendor: how hookgate's hook is registered through the vendor's
// API, or the steps to set it up by hand, and the sample delivery `caddy
// hookgate send-test` posts. Every field is optional; a vendor registering
// nothing here is still a vendor, with no API, no manual steps and no
// sample.
type Spec struct {
	// DefaultURL is the api_url used when a record has none, e.g.
	// "https://api.github.com". Default "": the record's api_url is
	// required.
	DefaultURL string
	// Target describes the record's target in error messages ("owner/repo",
	// "project"); when set, a record without a target is refused before any
	// request. Default "": the vendor takes no target (Jira hooks are
	// site-wide).
	Target string
	// Register creates hookgate's hook on the vendor, or updates the one
	// pointing at hook.URL. It is called with the record's settings checked
	// (api_url, api_token, Target) and the hook's receiver URL and secret
	// checked; s scrubs both secrets and the token from its errors. Default
	// nil: the vendor has no hook API, HasAPI is false and Register answers
	// ManualSteps.
	Register func(ctx context.Context, s *Session, hook Hook) (Result, error)
	// APISchemes are the schemes Register can set up through the vendor's
	// API; for a record whose effective scheme is another (Jira and
	// Bitbucket Data Center's Basic auth, which their hook APIs cannot
	// set), Register answers ManualSteps, as for a vendor without an API.
	// Default nil: Register handles every scheme.
	APISchemes []integrations.Scheme
	// SendTest asks the vendor for a test delivery to hook hookID (never
	// blank) and says how to tell that delivery from every other one
	// (TestDelivery: the hook its signed body names, or the delivery ids
	// the vendor's API reports, or why the API cannot tell). Default nil:
	// the vendor has no such API and SendTest answers a TestDelivery that
	// was not sent. Setting it without Register is a programming error.
	SendTest func(ctx context.Context, s *Session, hookID string) (TestDelivery, error)
	// Authorize sets the API credentials, from rec.APIToken and rec.APIUser,
	// on every request, and any header the vendor's API wants on each (an
	// API version, an Accept value: Accept is "application/json" unless
	// Authorize sets another). Default nil: HTTP Basic with api_user and
	// api_token when api_user is set, else "Authorization: Bearer
	// <api_token>" (Bitbucket, Jira).
	Authorize func(req *http.Request, rec integrations.Record)
	// Refuse, when set, sees each answer's status and headers before the
	// 2xx check; a non-empty reason fails the call as an *APIError with
	// that status and the reason as its excerpt. Azure DevOps answers a
	// rejected token with 203 and a sign-in page. Default nil: only the
	// status decides (2xx succeeds).
	Refuse func(status int, h http.Header) (reason string)
	// ManualSteps writes the exact steps to set the webhook up by hand into
	// m (see Manual). Default nil: ManualSteps answers "".
	ManualSteps func(m *Manual)
	// Paste, when set, says what the operator enters in the vendor for a
	// secret when that is not the secret as hookgate keeps it (ServiceNow's
	// generateMac takes its key base64-encoded), for rec's scheme; a nil
	// answer means the secret itself. Regenerate and reveal answer it
	// beside the secret. Default nil: the secret itself, for every scheme.
	Paste func(rec integrations.Record, secret string) *Paste
	// Sample is the delivery `caddy hookgate send-test` signs and posts.
	// Default nil: send-test refuses the vendor, saying it has no sample.
	Sample *Sample
}

// Paste is what to enter in the vendor instead of the secret itself, and
// where.
type Paste struct {
	// Value is what the vendor must be given: it carries the secret, so it
	// is shown only where the secret is.
	Value string `json:"value"`
	// Into names the vendor's field or setting that takes Value, and why
	// it is not the secret as is.
	Into string `json:"into"`
}

// PasteOf is what to enter in rec's vendor for secret, or nil when that is
// the secret itself (Spec.Paste).
func PasteOf(rec integrations.Record, secret string) *Paste {
	p := specs[rec.Vendor].Paste
	if p == nil || secret == "" {
		return nil
	}
	return p(rec, secret)
}

// Sample is a vendor's send-test delivery: a small payload in the vendor's
// documented shape, marked as a test (repository, ticket and plan names say
// hookgate-send-test, CI branches are hookgate-send-test, tickets are never
// in a done state), and the headers the vendor sends besides its
// credential. DeliveryPlaceholder, in Body and in header values, stands for
// a fresh delivery id.
type Sample struct {
	// Body is the JSON payload. Required.
	Body string
	// Headers are the vendor's own headers (event name, delivery id),
	// without Content-Type (always application/json) and without the
	// credential (the signer adds it). Default: none.
	Headers map[string]string
}

// DeliveryPlaceholder is replaced, in a Sample's body and header values, by
// a fresh decimal delivery id each time the sample is sent.
const DeliveryPlaceholder = "{delivery}"

// The time placeholders of a Sample's body: the time it is sent, so its
// vendor event time is fresh and max_age lets it through.
const (
	// NowMillisPlaceholder is the send time in Unix milliseconds.
	NowMillisPlaceholder = "{now_ms}"
	// NowRFC3339Placeholder is the send time in RFC 3339, UTC, with
	// milliseconds.
	NowRFC3339Placeholder = "{now_rfc3339}"
	// NowServiceNowPlaceholder is the send time as ServiceNow writes
	// sys_updated_on: "2006-01-02 15:04:05", UTC.
	NowServiceNowPlaceholder = "{now_servicenow}"
)

// Fill replaces the placeholders in v, a Sample's body or header value:
// the delivery id and the send time.
func Fill(v, delivery string, now time.Time) string {
	now = now.UTC()
	return strings.NewReplacer(
		DeliveryPlaceholder, delivery,
		NowMillisPlaceholder, strconv.FormatInt(now.UnixMilli(), 10),
		NowRFC3339Placeholder, now.Format("2006-01-02T15:04:05.000Z"),
		NowServiceNowPlaceholder, now.Format("2006-01-02 15:04:05"),
	).Replace(v)
}

// specs holds every vendor's Spec. It is filled by RegisterVendor from the
// vendor packages' init functions and only read after that, so reads take
// no lock.
var specs = map[integrations.Vendor]Spec{}

// RegisterVendor adds what v offers this package. Call it once per vendor,
// from the vendor package's init only. It panics on an empty vendor name, a
// vendor registered twice, a SendTest without Register, or a Sample without
// a body: all are programming errors found at start.
func RegisterVendor(v integrations.Vendor, s Spec) {
	if v == "" {
		panic("vendorapi: vendor spec without a vendor name")
	}
	if _, dup := specs[v]; dup {
		panic(fmt.Sprintf("vendorapi: vendor %q registered twice", v))
	}
	if s.SendTest != nil && s.Register == nil {
		panic(fmt.Sprintf("vendorapi: vendor %q has SendTest without Register", v))
	}
	if s.Sample != nil {
		if s.Sample.Body == "" {
			panic(fmt.Sprintf("vendorapi: vendor %q has a send-test sample without a body", v))
		}
		s.Sample = &Sample{Body: s.Sample.Body, Headers: maps.Clone(s.Sample.Headers)}
	}
	specs[v] = s
}

// HasAPI reports whether Register can create v's hook through an API.
func HasAPI(v integrations.Vendor) bool {
	return specs[v].Register != nil
}

// SampleOf returns v's send-test sample, and false when v registered none.
// The sample is a copy the caller may change.
func SampleOf(v integrations.Vendor) (Sample, bool) {
	s := specs[v].Sample
	if s == nil {
		return Sample{}, false
	}
	return Sample{Body: s.Body, Headers: maps.Clone(s.Headers)}, true
}

// authorizeBasicOrBearer is Spec.Authorize's default: Basic with a user,
// else a bearer token.
func authorizeBasicOrBearer(r *http.Request, rec integrations.Record) {
	if rec.APIUser != "" {
		r.SetBasicAuth(rec.APIUser, rec.APIToken)
		return
	}
	r.Header.Set("Authorization", "Bearer "+rec.APIToken)
}

// registers reports whether the vendor's Register can set up a hook
// verified with scheme s.
func (s Spec) registers(scheme integrations.Scheme) bool {
	return s.APISchemes == nil || slices.Contains(s.APISchemes, scheme)
}
