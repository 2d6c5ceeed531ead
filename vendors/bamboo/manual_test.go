package bamboo

import (
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

func TestManualStepsForVendorsWithoutHookAPI(t *testing.T) {
	for _, tc := range []fakeapi.ManualCase{
		{Want: []string{"X-Bamboo-Token: <the secret", "Content-Type: application/json", `"planKey": "${bamboo.planKey}"`, "Build completed"}},
	} {
		t.Run(string(Vendor)+"/"+string(tc.Scheme), func(t *testing.T) {
			fakeapi.ManualOnly(t, Vendor, tc)
		})
	}
}

func TestHasAPI(t *testing.T) {
	if vendorapi.HasAPI(Vendor) {
		t.Errorf("HasAPI(%s) = true", Vendor)
	}
}

// The pasted body must stay what events.Normalize is tested against.
func TestTemplatesMatchEventsTemplatesMD(t *testing.T) {
	fakeapi.WantTemplateInDoc(t, Vendor, bambooBody)
}
