package caddymodule

import (
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

func TestReceiverFromPath(t *testing.T) {
	id128 := "a" + strings.Repeat("b", 127)
	id129 := id128 + "c"
	valid := []struct {
		path   string
		vendor integrations.Vendor
		id     string
	}{
		{"/webhooks/jira/j1", integrations.Jira, "j1"},
		{"/webhooks/servicenow/sn-prod", integrations.ServiceNow, "sn-prod"},
		{"/webhooks/manageengine/me_1", integrations.ManageEngine, "me_1"},
		{"/webhooks/ci/github/demo-gh", integrations.GitHub, "demo-gh"},
		{"/webhooks/ci/gitlab/gl.1", integrations.GitLab, "gl.1"},
		{"/webhooks/ci/jenkins/J", integrations.Jenkins, "J"},
		{"/webhooks/ci/azuredevops/0ado", integrations.AzureDevOps, "0ado"},
		{"/webhooks/ci/bamboo/bamboo", integrations.Bamboo, "bamboo"},
		{"/webhooks/ci/bitbucket/a-b_c.d", integrations.Bitbucket, "a-b_c.d"},
		{"/webhooks/ci/github/" + id128, integrations.GitHub, id128},
		{"/webhooks/jira/" + id128, integrations.Jira, id128},
		{"/webhooks/ci/github/a..", integrations.GitHub, "a.."}, // dots inside are allowed by the id pattern
	}
	for _, tc := range valid {
		t.Run("ok "+tc.path, func(t *testing.T) {
			v, id, ok := receiverFromPath(tc.path)
			if !ok || v != tc.vendor || id != tc.id {
				t.Errorf("receiverFromPath(%q) = %q, %q, %v; want %q, %q, true", tc.path, v, id, ok, tc.vendor, tc.id)
			}
		})
	}
	// Every vendor has a receiver path that parses back to it.
	for _, v := range integrations.Vendors() {
		p := v.ReceiverPath("x1")
		if got, id, ok := receiverFromPath(p); !ok || got != v || id != "x1" {
			t.Errorf("receiverFromPath(%q) = %q, %q, %v", p, got, id, ok)
		}
	}

	refused := []string{
		// ticket vendors under ci/, CI vendors outside it
		"/webhooks/ci/jira/x",
		"/webhooks/ci/servicenow/x",
		"/webhooks/ci/manageengine/x",
		"/webhooks/github/x",
		"/webhooks/gitlab/x",
		"/webhooks/jenkins/x",
		"/webhooks/azuredevops/x",
		"/webhooks/bamboo/x",
		"/webhooks/bitbucket/x",
		// unknown vendors and kinds, wrong case
		"/webhooks/ci/gogs/x", // an unregistered vendor (gitea is registered by tenth_vendor_test.go)
		"/webhooks/ci/ci/x",
		"/webhooks/zendesk/x",
		"/webhooks/ci/GitHub/x",
		"/webhooks/Jira/x",
		"/WEBHOOKS/jira/x",
		"/webhooks/CI/github/x",
		// malformed ids
		"/webhooks/ci/github/" + id129,
		"/webhooks/jira/" + id129,
		"/webhooks/ci/github/-x",
		"/webhooks/ci/github/.x",
		"/webhooks/ci/github/_x",
		"/webhooks/ci/github/..",
		"/webhooks/ci/github/.",
		"/webhooks/ci/github/a/b",
		"/webhooks/jira/a/b",
		"/webhooks/ci/github/a/../b",
		"/webhooks/ci/github/",
		"/webhooks/jira/",
		"/webhooks/ci/github/x/",
		"/webhooks/jira/x/",
		"/webhooks/ci/github/déjà",
		"/webhooks/ci/github/ａ", // fullwidth a
		"/webhooks/ci/github/a\x00b",
		"/webhooks/ci/github/a\x00",
		"/webhooks/ci/github/a%2Fb", // a literal escape: '%' is not an id character
		"/webhooks/ci/github/a%2fb",
		"/webhooks/ci/github/a b",
		"/webhooks/ci/github/a\tb",
		"/webhooks/ci/github/a\nb",
		"/webhooks/ci/github/a?b",
		"/webhooks/ci/github/a:b",
		"/webhooks/ci/github/a+b",
		// incomplete or foreign paths
		"/webhooks/ci/github",
		"/webhooks/ci/",
		"/webhooks/ci",
		"/webhooks/jira",
		"/webhooks/",
		"/webhooks",
		"/",
		"",
		"/hooks/jira/x",
		"webhooks/jira/x",
		"//webhooks/jira/x",
		"/webhooks//jira/x",
		"/webhooks/ci//github/x",
		"/api/webhooks/jira/x",
	}
	for _, p := range refused {
		t.Run("refused "+p, func(t *testing.T) {
			if v, id, ok := receiverFromPath(p); ok || v != "" || id != "" {
				t.Errorf("receiverFromPath(%q) = %q, %q, %v; want refusal", p, v, id, ok)
			}
		})
	}
}

func FuzzReceiverFromPath(f *testing.F) {
	for _, s := range []string{"/webhooks/jira/x", "/webhooks/ci/github/demo-gh", "/webhooks/ci/jira/x", "/webhooks/ci/github/a/b", "/webhooks//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		v, id, ok := receiverFromPath(p)
		if !ok {
			if v != "" || id != "" {
				t.Fatalf("refusal with values %q %q", v, id)
			}
			return
		}
		if !v.Known() || !integrations.ValidID(id) {
			t.Fatalf("accepted %q as %q %q", p, v, id)
		}
		if v.ReceiverPath(id) != p {
			t.Fatalf("accepted %q, but the receiver path of %q %q is %q", p, v, id, v.ReceiverPath(id))
		}
	})
}
