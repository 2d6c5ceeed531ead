package bamboo

import (
	"os"
	"strings"
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
	doc, err := os.ReadFile("../../events/TEMPLATES.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "\n"+bambooBody+"```") {
		t.Errorf("%s template differs from events/TEMPLATES.md", Vendor)
	}
}
