package servicenow

import (
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

func TestManualStepsForVendorsWithoutHookAPI(t *testing.T) {
	for _, tc := range []fakeapi.ManualCase{
		{Want: []string{"Authorization = Bearer <the secret", "sn_ws.RESTMessageV2('hookgate', 'post')", "Business Rules"}},
		{Scheme: integrations.SchemeBasic, Want: []string{"Basic auth profile with user hookgate", "Authorization: Basic"}},
		{Scheme: integrations.SchemeHMAC, Want: []string{"X-ServiceNow-Signature", "hookgate.key", "base64"}},
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
	fakeapi.WantTemplateInDoc(t, Vendor, serviceNowScript)
}
