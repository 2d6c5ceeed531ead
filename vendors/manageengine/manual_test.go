package manageengine

import (
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

func TestManualStepsForVendorsWithoutHookAPI(t *testing.T) {
	for _, tc := range []fakeapi.ManualCase{
		{Want: []string{"Authorization: Bearer <the secret", `"display_id": "<request display id>"`, "Custom Triggers"}},
		{Scheme: integrations.SchemeToken, Want: []string{"?token=<the secret from `caddy hookgate reveal int-1`>"}},
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
	fakeapi.WantTemplateInDoc(t, Vendor, manageEngineBody)
}
