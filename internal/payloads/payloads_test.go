package payloads_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
)

// TestVendorOf: a folder is a registered vendor's name, or
// <vendor>-<variant>; anything else names no vendor.
func TestVendorOf(t *testing.T) {
	for folder, want := range map[string]integrations.Vendor{
		"github":              integrations.GitHub,
		"bitbucket-server":    integrations.Bitbucket,
		"gitlab-self-managed": integrations.GitLab,
		"jira-cloud":          integrations.Jira,
		"teamcity":            "",
		"-github":             "",
		"github_x":            "",
		"":                    "",
		"bitbucket-":          "",
	} {
		v, ok := payloads.VendorOf(folder)
		if v != want || ok != (want != "") {
			t.Errorf("VendorOf(%q) = %q, %v; want %q", folder, v, ok, want)
		}
	}
	for _, v := range integrations.Vendors() {
		if got, ok := payloads.VendorOf(string(v)); !ok || got != v {
			t.Errorf("VendorOf(%q) = %q, %v", v, got, ok)
		}
	}
}

// TestEveryPayloadFolderHasAVendor: each folder of testdata/payloads names
// a registered vendor, so no payload goes unused.
func TestEveryPayloadFolderHasAVendor(t *testing.T) {
	des, err := os.ReadDir(filepath.Join("..", "..", "testdata", "payloads"))
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		if _, ok := payloads.VendorOf(de.Name()); !ok {
			t.Errorf("folder %s: no registered vendor", de.Name())
		}
	}
}

// TestLoad: Load finds testdata/payloads from a package two levels down
// and builds the delivery Delivery builds.
func TestLoad(t *testing.T) {
	body, d, err := payloads.Load("bitbucket-server/pr-opened.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := payloads.Delivery("bitbucket-server/pr-opened.json", body)
	if err != nil {
		t.Fatal(err)
	}
	if d.Vendor != integrations.Bitbucket || d.Integration != "it-bitbucket-server" || d.Identity != want.Identity ||
		d.Identity.Event != "pr:opened" || d.DeliveryKey != want.DeliveryKey || !d.ReceivedAt.Equal(payloads.Received) {
		t.Errorf("delivery %+v", d)
	}
	if _, _, err := payloads.Load("github/no-such-file.json"); err == nil {
		t.Error("a missing file loads")
	}
}
