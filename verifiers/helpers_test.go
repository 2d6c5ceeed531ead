package verifiers_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
	"github.com/hookgate/caddy-hookgate/verifiers"
	"github.com/hookgate/caddy-hookgate/verifiers/verifierstest"
)

// allSchemes lists every scheme constant; integrations keeps no list of
// them, so tests derive a vendor's through Vendor.Supports (and
// TestRulesMatchVendorSchemes checks no registered scheme is missing here).
var allSchemes = []integrations.Scheme{
	integrations.SchemeHMAC,
	integrations.SchemeHMACSHA1,
	integrations.SchemeToken,
	integrations.SchemeSigning,
	integrations.SchemeBearer,
	integrations.SchemeBasic,
}

// testOnlyVendors are the vendors this package's test files register
// themselves (hexmac_test.go, registry_test.go): they run through every
// cross-vendor table, but ship no payloads.
var testOnlyVendors = []integrations.Vendor{hexMACVendor, tokenTestVendor}

// shippedVendors is every registered vendor but the test-only ones: the
// nine of vendors/all, and whatever it imports next.
func shippedVendors() []integrations.Vendor {
	return slices.DeleteFunc(integrations.Vendors(), func(v integrations.Vendor) bool {
		return slices.Contains(testOnlyVendors, v)
	})
}

type pair struct {
	v integrations.Vendor
	s integrations.Scheme
}

func (p pair) String() string { return p.tp().String() }

// tp is p as verifierstest spells it.
func (p pair) tp() verifierstest.Pair { return verifierstest.Pair{Vendor: p.v, Scheme: p.s} }

// supportedPairs is every vendor × scheme hookgate verifies.
func supportedPairs() []pair {
	var out []pair
	for _, v := range integrations.Vendors() {
		for _, s := range schemesOf(v) {
			out = append(out, pair{v, s})
		}
	}
	return out
}

func schemesOf(v integrations.Vendor) []integrations.Scheme {
	var out []integrations.Scheme
	for _, s := range allSchemes {
		if v.Supports(s) {
			out = append(out, s)
		}
	}
	return out
}

var testNow = verifierstest.Now

const (
	testSecret  = verifierstest.Secret
	testPrev    = verifierstest.Previous
	testOther   = verifierstest.Other
	testBodyStr = verifierstest.Body
)

// signedDelivery signs body as vendor v would under scheme s.
func signedDelivery(t testing.TB, p pair, secret string, body []byte, now time.Time) verifiers.Delivery {
	t.Helper()
	return verifierstest.Signed(t, p.tp(), secret, body, now)
}

// verify runs Verify and checks that the reason never echoes a secret or a
// received credential.
func verify(t testing.TB, p pair, d verifiers.Delivery, body []byte, sec verifiers.Secrets) verifiers.Verdict {
	t.Helper()
	return verifierstest.Verify(t, p.tp(), d, body, sec)
}

var (
	checkReason = verifierstest.CheckReason
	hdr         = verifierstest.Hdr
	secrets     = verifierstest.Secrets
)
