package vendorapi_test

import (
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// The steps of each vendor without a hook API are tested in its package
// under vendors/ (fakeapi.ManualOnly); these hold for every vendor.

func TestManualStepsForAPIVendorsNeverCarryTheSecret(t *testing.T) {
	n := 0
	for _, v := range integrations.Vendors() {
		if !vendorapi.HasAPI(v) {
			continue
		}
		n++
		for _, s := range append([]integrations.Scheme{""}, v.Schemes()...) {
			rec := integrations.Record{ID: "int-2", Vendor: v, Scheme: s, Secret: fakeapi.Secret, APIToken: fakeapi.APIToken, Target: "acme/pay"}
			steps := vendorapi.ManualSteps(rec, fakeapi.Receiver)
			if !strings.Contains(steps, fakeapi.Receiver) || !strings.Contains(steps, "caddy hookgate reveal int-2") {
				t.Errorf("%s/%s: steps %q", v, s, steps)
			}
			fakeapi.MustNotLeak(t, "manual steps", steps)
		}
	}
	if n == 0 {
		t.Fatal("no vendor registered a hook API")
	}
}

// TestEveryVendorHasManualSteps: under every scheme, and without a
// receiver URL or an id, each registered vendor says how to set its
// webhook up by hand, with placeholders and never the secret.
func TestEveryVendorHasManualSteps(t *testing.T) {
	for _, v := range integrations.Vendors() {
		for _, s := range append([]integrations.Scheme{""}, v.Schemes()...) {
			rec := integrations.Record{Vendor: v, Scheme: s, Secret: fakeapi.Secret, APIToken: fakeapi.APIToken}
			steps := vendorapi.ManualSteps(rec, "")
			if !strings.Contains(steps, "<public_url>") || !strings.Contains(steps, "caddy hookgate reveal <id>") {
				t.Errorf("%s/%s: steps %q", v, s, steps)
			}
			fakeapi.MustNotLeak(t, "manual steps", steps)
		}
	}
	if steps := vendorapi.ManualSteps(integrations.Record{Vendor: "svn"}, ""); steps != "" {
		t.Errorf("an unknown vendor has steps %q", steps)
	}
}
