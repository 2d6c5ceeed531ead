package integrations_test

import (
	_ "github.com/hookgate/caddy-hookgate/vendors/all"

	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/iplists"
)

// allow_ips in Vault: a list or one string, parsed once into the record;
// Data writes it back as written, and PUT may set it.
func TestFromDataAllowIPs(t *testing.T) {
	for name, v := range map[string]any{
		"list":   []any{"192.0.2.0/24", "2001:db8::/32", "github"},
		"string": "192.0.2.0/24, 2001:db8::/32 github",
	} {
		r, err := integrations.FromData("gh", map[string]any{"vendor": "github", "allow_ips": v}, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := r.AllowIPs.Entries(); !slices.Equal(got, []string{"192.0.2.0/24", "2001:db8::/32", "github"}) {
			t.Fatalf("%s: entries %v", name, got)
		}
		if o, _ := r.AllowIPs.Check(netip.MustParseAddr("2001:db8::1"), nil); o != iplists.Admitted {
			t.Errorf("%s: a listed address is %v", name, o)
		}
		back, err := integrations.FromData("gh", r.Data(time.Now()), 1)
		if err != nil || !slices.Equal(back.AllowIPs.Entries(), r.AllowIPs.Entries()) {
			t.Fatalf("%s: round trip: %v %v", name, back.AllowIPs.Entries(), err)
		}
		view, _ := json.Marshal(r)
		if !strings.Contains(string(view), `"allow_ips":["192.0.2.0/24","2001:db8::/32","github"]`) {
			t.Errorf("%s: JSON %s", name, view)
		}
	}
	for name, v := range map[string]any{"absent": nil, "empty string": "", "empty list": []any{}} {
		data := map[string]any{"vendor": "github"}
		if v != nil {
			data["allow_ips"] = v
		}
		r, err := integrations.FromData("gh", data, 1)
		if err != nil || r.AllowIPs != nil {
			t.Errorf("%s: %v %v, want no restriction", name, r.AllowIPs, err)
		}
		if _, ok := r.Data(time.Now())["allow_ips"]; ok {
			t.Errorf("%s: Data writes allow_ips", name)
		}
	}
	if _, err := integrations.MergeSettings(map[string]any{"vendor": "github"}, map[string]any{"allow_ips": []any{"github"}}); err != nil {
		t.Errorf("PUT cannot set allow_ips: %v", err)
	}
}

// A bad entry makes the record invalid, naming the field: never an
// integration that silently admits everyone.
func TestFromDataAllowIPsRefuses(t *testing.T) {
	for name, v := range map[string]any{
		"unknown list":  []any{"github", "gitlab"},
		"bad CIDR":      "192.0.2.0/33",
		"not a string":  []any{map[string]any{"cidr": "192.0.2.0/24"}},
		"wildcard":      "*",
		"a zone":        "fe80::1%eth0",
		"a bare number": float64(7),
	} {
		_, err := integrations.FromData("gh", map[string]any{"vendor": "github", "allow_ips": v}, 1)
		if !errors.Is(err, integrations.ErrInvalidRecord) || !strings.Contains(err.Error(), "allow_ips") || !strings.Contains(err.Error(), "integration gh") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
