package integrations_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// testVendor is registered by this test file only: a vendor nobody ships.
const testVendor integrations.Vendor = "registry-test"

func init() {
	integrations.Register(integrations.Spec{
		Vendor:     testVendor,
		Schemes:    []integrations.Scheme{integrations.SchemeToken, integrations.SchemeHMAC},
		Tickets:    true,
		DoneStates: []string{"shut"},
		NewSecret:  func(s integrations.Scheme, _ [integrations.SecretBytes]byte) string { return "fixed-" + string(s) },
	})
}

// TestRegistryDerivesEverything: what a vendor registers is all the record
// layer knows of it: listed, its schemes and default, its kind and receiver
// path, its done states and its secret form.
func TestRegistryDerivesEverything(t *testing.T) {
	if !slices.Contains(integrations.Vendors(), testVendor) || !slices.IsSorted(integrations.Vendors()) {
		t.Fatalf("Vendors() = %v: want it sorted and holding %s", integrations.Vendors(), testVendor)
	}
	if !testVendor.Known() || testVendor.IsCI() || testVendor.DefaultScheme() != integrations.SchemeToken ||
		!testVendor.Supports(integrations.SchemeHMAC) || testVendor.Supports(integrations.SchemeBasic) {
		t.Fatalf("spec not derived: known %v ci %v default %q", testVendor.Known(), testVendor.IsCI(), testVendor.DefaultScheme())
	}
	if got := testVendor.ReceiverPath("x"); got != "/webhooks/registry-test/x" {
		t.Fatalf("receiver path %q", got)
	}
	rec := integrations.Record{ID: "x", Vendor: testVendor}
	if got := rec.EffectiveDoneStates(); len(got) != 1 || got[0] != "shut" {
		t.Fatalf("done states %v", got)
	}
	if s, err := integrations.NewSecret(testVendor, integrations.SchemeHMAC); err != nil || s != "fixed-hmac" {
		t.Fatalf("secret form: %q %v", s, err)
	}
	if err := rec.Validate(); err != nil {
		t.Fatalf("a registered vendor's record: %v", err)
	}
	unknown := integrations.Record{ID: "x", Vendor: "never-registered"}
	if err := unknown.Validate(); err == nil || unknown.Vendor.Known() || unknown.Vendor.IsCI() || unknown.Vendor.DefaultScheme() != "" {
		t.Fatalf("an unregistered vendor is known: %v", err)
	}
}

// TestRegisterRefusesMistakes: a vendor registered twice, or without a name
// or schemes, panics at start.
func TestRegisterRefusesMistakes(t *testing.T) {
	for name, spec := range map[string]integrations.Spec{
		"twice":      {Vendor: testVendor, Schemes: []integrations.Scheme{integrations.SchemeToken}},
		"no name":    {Schemes: []integrations.Scheme{integrations.SchemeToken}},
		"no schemes": {Vendor: "registry-test-empty"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "integrations:") {
					t.Errorf("%s: Register did not panic (%v)", name, r)
				}
			}()
			integrations.Register(spec)
		}()
	}
}
