package vendorapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

func TestManualStepsForVendorsWithoutHookAPI(t *testing.T) {
	for _, tc := range []struct {
		vendor integrations.Vendor
		scheme integrations.Scheme
		// want must all appear: the header name from VENDORS.md and a piece
		// of the body template from events/TEMPLATES.md.
		want []string
	}{
		{integrations.Jenkins, "", []string{"X-Api-Token", `"phase": "FINALIZED"`, "Job Notifications"}},
		{integrations.Jenkins, integrations.SchemeBasic, []string{"Authorization: Basic", "https://hookgate:<the secret from `caddy hookgate reveal int-1`>@hooks.example.com/", `"scm": {`}},
		{integrations.Bamboo, "", []string{"X-Bamboo-Token: <the secret", "Content-Type: application/json", `"planKey": "${bamboo.planKey}"`, "Build completed"}},
		{integrations.ServiceNow, "", []string{"Authorization = Bearer <the secret", "sn_ws.RESTMessageV2('hookgate', 'post')", "Business Rules"}},
		{integrations.ServiceNow, integrations.SchemeBasic, []string{"Basic auth profile with user hookgate", "Authorization: Basic"}},
		{integrations.ServiceNow, integrations.SchemeHMAC, []string{"X-ServiceNow-Signature", "hookgate.key", "base64"}},
		{integrations.ManageEngine, "", []string{"Authorization: Bearer <the secret", `"display_id": "<request display id>"`, "Custom Triggers"}},
		{integrations.ManageEngine, integrations.SchemeToken, []string{"?token=<the secret from `caddy hookgate reveal int-1`>"}},
	} {
		t.Run(string(tc.vendor)+"/"+string(tc.scheme), func(t *testing.T) {
			rec := integrations.Record{ID: "int-1", Vendor: tc.vendor, Scheme: tc.scheme, Secret: testSecret, APIToken: testAPIToken}
			receiver := "https://hooks.example.com" + tc.vendor.ReceiverPath("int-1")
			steps := ManualSteps(rec, receiver)
			want := append([]string{receiver[len("https://hooks.example.com"):], "<the secret from `caddy hookgate reveal int-1`>"}, tc.want...)
			if tc.scheme != integrations.SchemeBasic || tc.vendor != integrations.Jenkins {
				want = append(want, receiver)
			}
			for _, w := range want {
				if !strings.Contains(steps, w) {
					t.Errorf("steps lack %q:\n%s", w, steps)
				}
			}
			mustNotLeak(t, "manual steps", steps)

			// Register answers the same steps and calls nothing.
			res, err := Register(context.Background(), nil, rec, Hook{URL: receiver, Secret: testSecret})
			if err != nil || res.Registered || res.ManualSteps != steps || res.HookID != "" {
				t.Errorf("Register = %+v, %v", res, err)
			}
			if sent, err := SendTest(context.Background(), nil, rec, "x"); sent || err != nil {
				t.Errorf("SendTest = %v, %v", sent, err)
			}
		})
	}
}

func TestManualStepsForAPIVendorsNeverCarryTheSecret(t *testing.T) {
	for _, v := range []integrations.Vendor{integrations.GitHub, integrations.GitLab, integrations.Bitbucket, integrations.Jira, integrations.AzureDevOps} {
		for _, s := range append([]integrations.Scheme{""}, schemesOf(v)...) {
			rec := integrations.Record{ID: "int-2", Vendor: v, Scheme: s, Secret: testSecret, APIToken: testAPIToken, Target: "acme/pay"}
			steps := ManualSteps(rec, testReceiver)
			if !strings.Contains(steps, testReceiver) || !strings.Contains(steps, "caddy hookgate reveal int-2") {
				t.Errorf("%s/%s: steps %q", v, s, steps)
			}
			mustNotLeak(t, "manual steps", steps)
		}
	}
}

func schemesOf(v integrations.Vendor) []integrations.Scheme {
	var out []integrations.Scheme
	for _, s := range []integrations.Scheme{integrations.SchemeHMAC, integrations.SchemeHMACSHA1, integrations.SchemeToken, integrations.SchemeSigning, integrations.SchemeBearer, integrations.SchemeBasic} {
		if v.Supports(s) {
			out = append(out, s)
		}
	}
	return out
}

// The pasted bodies must stay what events.Normalize is tested against.
func TestTemplatesMatchEventsTemplatesMD(t *testing.T) {
	doc, err := os.ReadFile("../events/TEMPLATES.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"jenkins": jenkinsBody, "bamboo": bambooBody, "servicenow": serviceNowScript, "manageengine": manageEngineBody} {
		if !strings.Contains(string(doc), "\n"+body+"```") {
			t.Errorf("%s template differs from events/TEMPLATES.md", name)
		}
	}
}

func TestManualVendorRegisterMakesNoRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	rec := integrations.Record{ID: "b1", Vendor: integrations.Bamboo, APIURL: srv.URL, APIToken: testAPIToken, Secret: testSecret}
	res, err := Register(context.Background(), srv.Client(), rec, Hook{URL: "https://hooks.example.com/webhooks/ci/bamboo/b1", Secret: testSecret})
	if err != nil || res.Registered || res.ManualSteps == "" {
		t.Fatalf("Register = %+v, %v", res, err)
	}
}
