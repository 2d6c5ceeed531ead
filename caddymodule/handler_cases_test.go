// Handler tests: fixtures. The handler's fixed clock, the test secrets, one
// vendor case per vendor and scheme with its payload (the cases each vendor
// carries in vendors/<v>/testdata/case.json), and the static integrations
// built from them.

package caddymodule

import (
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/vendorcases"
)

// testNow is the handler's clock in these tests.
var testNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// testMaxBody keeps oversize tests small.
const testMaxBody = 4096

// otherSigningSecret is a Standard Webhooks secret (a GitLab signing token)
// that is no integration's.
const otherSigningSecret = "whsec_b3RoZXItc2VjcmV0LXRoYXQtaXMtbm90LXJpZ2h0"

// vendorCase is one integration and a delivery its vendor would send.
type vendorCase struct {
	id       string
	vendor   integrations.Vendor
	scheme   integrations.Scheme // "" for the vendor's default
	secret   string
	body     string            // the payload
	header   map[string]string // identity headers the vendor sends
	event    string            // expected X-Hookgate-Event
	delivery string            // expected X-Hookgate-Delivery
	bodyMAC  bool              // the credential covers the body
}

func (vc vendorCase) path() string { return vc.vendor.ReceiverPath(vc.id) }

func (vc vendorCase) effectiveScheme() integrations.Scheme {
	if vc.scheme != "" {
		return vc.scheme
	}
	return vc.vendor.DefaultScheme()
}

// vendorCases has one integration per registered vendor with its default
// scheme, then the other schemes worth covering: the cases every vendor
// carries (internal/vendorcases), with the bodies of their payloads under
// testdata/payloads. A vendor without a case file panics the test binary
// naming it. Gitea, registered by tenth_vendor_test.go alone, has its own
// test there.
var vendorCases = fromVendorCases(vendorcases.MustLoad(vendorcases.Skip(gitea)))

// fromVendorCases orders cs for vendorCases: the default-scheme cases
// first, then the others.
func fromVendorCases(cs []vendorcases.Case) []vendorCase {
	var defaults, others []vendorCase
	for _, c := range cs {
		vc := vendorCase{
			id: c.ID, vendor: c.Vendor, scheme: c.Scheme, secret: c.Secret, body: string(c.Body),
			header: c.Header, event: c.Event, delivery: c.Delivery, bodyMAC: c.BodyMAC,
		}
		if c.Default() {
			defaults = append(defaults, vc)
		} else {
			others = append(others, vc)
		}
	}
	return append(defaults, others...)
}

func caseByID(t testing.TB, id string) vendorCase {
	t.Helper()
	for _, vc := range vendorCases {
		if vc.id == id {
			return vc
		}
	}
	t.Fatalf("no vendor case %s", id)
	return vendorCase{}
}

// wrongSecret is a secret of the right shape that is not vc's.
func (vc vendorCase) wrongSecret() string {
	if vc.effectiveScheme() == integrations.SchemeSigning {
		return otherSigningSecret
	}
	return vc.secret + "-wrong"
}

// testIntegrations is the static config: one integration per vendor case,
// a second GitHub one, one without secret per vendor kind, an inactive one,
// and one in a rotation overlap.
func testIntegrations() map[string]IntegrationConfig {
	m := make(map[string]IntegrationConfig)
	for _, vc := range vendorCases {
		m[vc.id] = IntegrationConfig{Vendor: string(vc.vendor), Scheme: string(vc.scheme), Secret: vc.secret}
	}
	inactive := false
	m["gh-2"] = IntegrationConfig{Vendor: "github", Secret: "gh-secret-2"}
	m["gh-nosecret"] = IntegrationConfig{Vendor: "github"}
	m["jira-nosecret"] = IntegrationConfig{Vendor: "jira"}
	m["gh-inactive"] = IntegrationConfig{Vendor: "github", Secret: "gh-inactive-secret", Active: &inactive}
	m["gh-rotated"] = IntegrationConfig{
		Vendor: "github", Secret: "gh-new-secret",
		PreviousSecret: "gh-old-secret", PreviousValidUntil: testNow.Add(time.Hour).Format(time.RFC3339),
	}
	return m
}
