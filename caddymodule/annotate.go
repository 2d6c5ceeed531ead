package caddymodule

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookgate/caddy-hookgate/verifiers"
)

// Annotation headers and their placeholders (under http.hookgate.).
const (
	headerPrefix     = "X-Hookgate-"
	headerVerified   = "X-Hookgate-Verified"
	headerVendor     = "X-Hookgate-Vendor"
	headerIntegr     = "X-Hookgate-Integration"
	headerEvent      = "X-Hookgate-Event"
	headerDelivery   = "X-Hookgate-Delivery"
	headerEventID    = "X-Hookgate-Event-Id"
	placeholderScope = "http.hookgate."
)

// credentialHeaders are the headers that carry bearer-like credentials in
// some registered vendor's rules: whoever holds one can forge deliveries,
// so they are removed before the next handler. Body MAC headers
// (X-Hub-Signature*, webhook-signature) stay: they are no secret. Derived
// once, on first use, after every vendor registered in init.
var credentialHeaders = sync.OnceValue(verifiers.CredentialHeaders)

// dropInboundAnnotations deletes every X-Hookgate-* header a caller sent,
// so only this handler's annotations reach the next one.
func dropInboundAnnotations(h http.Header) {
	for k := range h {
		if len(k) >= len(headerPrefix) && strings.EqualFold(k[:len(headerPrefix)], headerPrefix) {
			delete(h, k)
		}
	}
}

// annotation is what a verified delivery tells the next handler.
type annotation struct {
	verified, vendor, integration, event, delivery, eventID string
}

func (a annotation) apply(r *http.Request, repl *caddy.Replacer) {
	values := [...]string{a.verified, a.vendor, a.integration, a.event, a.delivery, a.eventID}
	headers := [...]string{headerVerified, headerVendor, headerIntegr, headerEvent, headerDelivery, headerEventID}
	// One backing array for the header values, and one placeholder
	// provider instead of six boxed values in the replacer's map: few
	// allocations per request.
	backing := make([]string, 0, nonEmpty(values[:]))
	for i, v := range values {
		if v != "" {
			backing = append(backing, v)
			r.Header[headers[i]] = backing[len(backing)-1 : len(backing) : len(backing)]
		}
	}
	repl.Map(a.placeholder)
}

// placeholder resolves the {http.hookgate.*} placeholders of a verified
// delivery.
func (a annotation) placeholder(key string) (any, bool) {
	name, ok := strings.CutPrefix(key, placeholderScope)
	if !ok {
		return nil, false
	}
	switch name {
	case "verified":
		return a.verified, true
	case "vendor":
		return a.vendor, true
	case "integration":
		return a.integration, true
	case "event":
		return a.event, true
	case "delivery":
		return a.delivery, true
	case "event_id":
		return a.eventID, true
	}
	return nil, false
}

// nonEmpty counts the non-empty strings of vs.
func nonEmpty(vs []string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

// stripCredentials removes bearer-like credentials from the request: the
// headers above and the `token` query parameter (Jira, ManageEngine).
func stripCredentials(r *http.Request) {
	for _, k := range credentialHeaders() {
		delete(r.Header, k)
	}
	if r.URL.RawQuery == "" {
		return
	}
	// Parse every query: the verifier decodes parameter names, so an
	// escaped name such as %74oken carries the token too.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		// An unparsable query cannot be trusted to be token-free.
		r.URL.RawQuery = ""
	} else if _, ok := q["token"]; ok {
		q.Del("token")
		r.URL.RawQuery = q.Encode()
	} else {
		return // nothing to remove: leave the query as it came
	}
	r.RequestURI = r.URL.RequestURI()
}
