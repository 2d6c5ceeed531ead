package verifiers_test

import (
	"net/textproto"
	"slices"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// tokenTestVendor is registered by this file only: a vendor nobody ships,
// with a header token (its header given in lower case, as a vendor package
// might) and a body MAC, so the tables derived from the registry are seen
// to follow a vendor they were never told about.
const tokenTestVendor integrations.Vendor = "token-test"

// The headers tokenTestVendor's rules register, canonical.
const (
	tokenTestHeader    = "X-Token-Test-Key"
	tokenTestSignature = "X-Token-Test-Signature"
)

func init() {
	integrations.Register(integrations.Spec{
		Vendor:  tokenTestVendor,
		Schemes: []integrations.Scheme{integrations.SchemeToken, integrations.SchemeHMAC},
	})
	verifiers.Register(tokenTestVendor, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.KindHeaderToken, Header: "x-token-test-key"})
	verifiers.Register(tokenTestVendor, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindMethodHex, Header: "x-token-test-signature", Accept: verifiers.AlgSHA512})
}

// TestRulesMatchVendorSchemes holds the two registries together: a scheme
// a registered vendor supports has a Rule, no Rule exists for one it does
// not, and no Rule is registered for a vendor integrations does not know.
// Every header a Rule or the mechanics read is canonical, as net/http
// stores it.
func TestRulesMatchVendorSchemes(t *testing.T) {
	registered := verifiers.RegisteredRules()
	has := map[[2]string]bool{}
	for _, rr := range registered {
		has[[2]string{string(rr.Vendor), string(rr.Scheme)}] = true
		if !rr.Vendor.Known() || !rr.Vendor.Supports(rr.Scheme) {
			t.Errorf("%s/%s: a Rule for a scheme integrations does not know (Known %v)", rr.Vendor, rr.Scheme, rr.Vendor.Known())
		}
		if h := rr.Rule.Header; textproto.CanonicalMIMEHeaderKey(h) != h {
			t.Errorf("%s/%s: Rule header %q is not canonical", rr.Vendor, rr.Scheme, h)
		}
	}
	n := 0
	for _, v := range integrations.Vendors() {
		for _, s := range v.Schemes() {
			if !slices.Contains(allSchemes, s) {
				t.Errorf("%s/%s: scheme missing from allSchemes", v, s)
			}
		}
		for _, s := range allSchemes {
			has := has[[2]string{string(v), string(s)}]
			if has != v.Supports(s) {
				t.Errorf("%s/%s: Rule %v, Supports %v", v, s, has, v.Supports(s))
			}
			if _, ok := verifiers.RuleOf(v, s); ok != has {
				t.Errorf("%s/%s: RuleOf says %v, the registry %v", v, s, ok, has)
			}
			if has {
				n++
			}
		}
	}
	if n != len(registered) {
		t.Errorf("rules has %d rows, %d match a vendor scheme", len(registered), n)
	}
	for _, k := range []string{verifiers.HdrAuthorization, verifiers.HdrWebhookID, verifiers.HdrWebhookTimestamp, verifiers.HdrWebhookSignature} {
		if textproto.CanonicalMIMEHeaderKey(k) != k {
			t.Errorf("header constant %q is not canonical", k)
		}
	}
	if r, _ := verifiers.RuleOf(tokenTestVendor, integrations.SchemeToken); r.Header != tokenTestHeader {
		t.Errorf("Register kept header %q, want it canonical %q", r.Header, tokenTestHeader)
	}
	if r, _ := verifiers.RuleOf(integrations.Jira, integrations.SchemeToken); r.Kind != verifiers.KindQueryToken || r.Header != "" {
		t.Errorf("a query token Rule has a header: %+v", r)
	}
}
