package iplists_test

import (
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/hookgate/caddy-hookgate/iplists"
)

// testdata/atlassian-ip-ranges.json is written in the documented shape of
// ip-ranges.atlassian.com (items with network, mask_len, cidr, mask,
// region, product and direction), with documentation addresses.
func readAtlassian(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/atlassian-ip-ranges.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAtlassianEgress(t *testing.T) {
	body := readAtlassian(t)
	for product, want := range map[string][]string{
		"":          {"192.0.2.0/28", "198.51.100.0/24", "2001:db8:1::/64", "203.0.113.64/26"},
		"bitbucket": {"192.0.2.0/28", "2001:db8:1::/64"},
		"jira":      {"192.0.2.0/28", "198.51.100.0/24", "2001:db8:1::/64"},
	} {
		got, err := iplists.AtlassianEgress(product)(body)
		if err != nil {
			t.Fatalf("%q: %v", product, err)
		}
		if !slices.Equal(got, prefixes(t, want...)) {
			t.Errorf("%q: %v, want %v", product, got, want)
		}
	}
}

func TestAtlassianEgressRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":             `<html>maintenance</html>`,
		"no items":             `{"creationDate":"2026-01-01T00:00:00.000000","syncToken":1}`,
		"items not a list":     `{"items":{"cidr":"192.0.2.0/24"}}`,
		"egress CIDR unusable": `{"items":[{"cidr":"192.0.2.0/24","direction":["egress"]},{"cidr":"nonsense","direction":["egress"]}]}`,
		"cidr not a string":    `{"items":[{"cidr":7,"direction":["egress"]}]}`,
	} {
		if got, err := iplists.AtlassianEgress("")([]byte(body)); err == nil {
			t.Errorf("%s: %v accepted", name, got)
		}
	}
	// What is not egress is not read, so it cannot fail the list.
	got, err := iplists.AtlassianEgress("")([]byte(`{"items":[{"cidr":"nonsense","direction":["ingress"]},{"cidr":"192.0.2.0/24","direction":["egress","ingress"]}]}`))
	if err != nil || !slices.Equal(got, []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}) {
		t.Errorf("ingress item read: %v %v", got, err)
	}
}

// Whatever the feed holds, the parser answers a list of valid prefixes or
// an error, and never panics.
func FuzzAtlassianEgress(f *testing.F) {
	f.Add(readAtlassian(f), "bitbucket")
	f.Add([]byte(`{"items":[{"cidr":"192.0.2.0/24","direction":["egress"],"product":["jira"]}]}`), "jira")
	f.Add([]byte(`{"items":[{"cidr":"::ffff:1.2.3.4/100","direction":["egress"]}]}`), "")
	f.Add([]byte(`{"items":null}`), "")
	f.Fuzz(func(t *testing.T, body []byte, product string) {
		got, err := iplists.AtlassianEgress(product)(body)
		if err != nil {
			return
		}
		for _, p := range got {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("prefix %v", p)
			}
		}
		iplists.NewSet(got)
	})
}
