package verifiers_test

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
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

// TestRegisterPanics: a Rule registered twice, without the header its kind
// needs, a method-hex Rule accepting no method, a hex-MAC Rule without
// exactly one, and a Rule without a kind are programming errors that panic
// at start, naming the vendor and scheme, and leave the registry as it was.
func TestRegisterPanics(t *testing.T) {
	const v integrations.Vendor = "register-panics-test" // registered by no one
	before := len(verifiers.RegisteredRules())
	ghRule, _ := verifiers.RuleOf(integrations.GitHub, integrations.SchemeHMAC)
	for _, tc := range []struct {
		name   string
		v      integrations.Vendor
		s      integrations.Scheme
		r      verifiers.Rule
		reason string
	}{
		{"duplicate", integrations.GitHub, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindMethodHex, Header: "X-Other", Accept: verifiers.AlgSHA512}, "registered twice"},
		{"duplicate of a test vendor", tokenTestVendor, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.KindHeaderToken, Header: tokenTestHeader}, "registered twice"},
		{"header token without header", v, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.KindHeaderToken}, "no header"},
		{"bearer without header", v, integrations.SchemeBearer, verifiers.Rule{Kind: verifiers.KindBearer}, "no header"},
		{"basic without header", v, integrations.SchemeBasic, verifiers.Rule{Kind: verifiers.KindBasic}, "no header"},
		{"base64 MAC without header", v, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindBase64MAC}, "no header"},
		{"method-hex without header", v, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindMethodHex, Accept: verifiers.AlgSHA256}, "no header"},
		{"hex MAC without header", v, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindHexMAC, Accept: verifiers.AlgSHA256}, "no header"},
		{"method-hex without Accept", v, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindMethodHex, Header: "X-Sig"}, "accepts no method"},
		{"hex MAC without Accept", v, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindHexMAC, Header: "X-Sig"}, "exactly one method"},
		{"hex MAC with two methods", v, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindHexMAC, Header: "X-Sig", Accept: verifiers.AlgSHA256 | verifiers.AlgSHA512}, "exactly one method"},
		{"KindNone", v, integrations.SchemeToken, verifiers.Rule{Header: "X-Token"}, "no kind"},
		{"unknown kind", v, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.Kind(200), Header: "X-Token"}, "no kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				verifiers.Register(tc.v, tc.s, tc.r)
				return
			}()
			if want := fmt.Sprintf(" %s/%s ", tc.v, tc.s); !strings.HasPrefix(msg, "verifiers: ") || !strings.Contains(msg, want) || !strings.Contains(msg, tc.reason) {
				t.Errorf("Register panicked with %q, want %q naming%s", msg, tc.reason, want)
			}
		})
	}
	if after := len(verifiers.RegisteredRules()); after != before {
		t.Errorf("the registry went from %d to %d rules", before, after)
	}
	if r, _ := verifiers.RuleOf(integrations.GitHub, integrations.SchemeHMAC); r != ghRule {
		t.Errorf("a refused duplicate replaced GitHub's Rule: %+v, was %+v", r, ghRule)
	}
}

// TestCredentialHeaders: the headers stripped before the next handler are
// derived from the registered rules: Authorization and the token headers
// of the nine shipped vendors, a test-registered token vendor's header, each
// once and sorted, and never a body MAC's header (which is no secret).
func TestCredentialHeaders(t *testing.T) {
	got := verifiers.CredentialHeaders()
	want := []string{"Authorization", "X-Api-Token", "X-Bamboo-Token", "X-Gitlab-Token", tokenTestHeader}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("CredentialHeaders() = %q, want %q", got, want)
	}
	var tokens, macs []string
	for _, rr := range verifiers.RegisteredRules() {
		switch {
		case rr.Rule.Header == "":
		case rr.Rule.Kind.BodyMAC():
			macs = append(macs, rr.Rule.Header)
		default:
			tokens = append(tokens, rr.Rule.Header)
		}
	}
	for _, h := range tokens {
		if !slices.Contains(got, h) {
			t.Errorf("token header %s is not listed", h)
		}
	}
	for _, h := range append(macs, "X-Hub-Signature", "X-Hub-Signature-256", "X-Servicenow-Signature", tokenTestSignature,
		verifiers.HdrWebhookID, verifiers.HdrWebhookTimestamp, verifiers.HdrWebhookSignature) {
		if slices.Contains(got, h) {
			t.Errorf("body MAC header %s is listed as a credential", h)
		}
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("CredentialHeaders() = %q: want sorted, each once", got)
	}
	got[0] = "changed"
	if again := verifiers.CredentialHeaders(); again[0] == "changed" {
		t.Error("CredentialHeaders hands out its own slice")
	}
}

func TestCarriesCredential(t *testing.T) {
	for _, tc := range []struct {
		name   string
		vendor integrations.Vendor
		header map[string]string
		query  string
		want   bool
	}{
		{"github signature", integrations.GitHub, map[string]string{"X-Hub-Signature-256": "sha256=00"}, "", true},
		{"github legacy signature", integrations.GitHub, map[string]string{"X-Hub-Signature": "sha1=00"}, "", true},
		{"github nothing", integrations.GitHub, map[string]string{"X-GitHub-Event": "push"}, "", false},
		{"gitlab token", integrations.GitLab, map[string]string{"X-Gitlab-Token": "t"}, "", true},
		{"gitlab signing", integrations.GitLab, map[string]string{"Webhook-Signature": "v1,AA=="}, "", true},
		{"jira query token", integrations.Jira, nil, "a=1&token=x", true},
		{"jira empty query token", integrations.Jira, nil, "token=", false},
		{"jira other query", integrations.Jira, nil, "tokens=x", false},
		{"jenkins bearer", integrations.Jenkins, map[string]string{"Authorization": "Bearer x"}, "", true},
	} {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got := verifiers.CarriesCredential(tc.vendor, h, tc.query); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSignsBodyOnly(t *testing.T) {
	for _, tc := range []struct {
		vendor integrations.Vendor
		scheme integrations.Scheme
		want   bool
	}{
		{integrations.GitHub, integrations.SchemeHMAC, true},
		{integrations.GitHub, integrations.SchemeHMACSHA1, true},
		{integrations.Bitbucket, integrations.SchemeHMAC, true},
		{integrations.Jira, integrations.SchemeHMAC, true},
		{integrations.Jira, integrations.SchemeToken, false},
		{integrations.GitLab, integrations.SchemeToken, false},
		{integrations.GitLab, integrations.SchemeSigning, false},
		{integrations.Jenkins, integrations.SchemeBearer, false},
	} {
		if got := verifiers.SignsBodyOnly(tc.vendor, tc.scheme); got != tc.want {
			t.Errorf("%s/%s: %v, want %v", tc.vendor, tc.scheme, got, tc.want)
		}
	}
}
