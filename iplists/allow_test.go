package iplists_test

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/iplists"
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
)

// source is a fixed Source: the lists it holds are loaded, others not.
type source map[string]*iplists.Set

func (s source) Get(name string) (*iplists.Set, bool) {
	set, ok := s[name]
	return set, ok
}

func TestParseAllow(t *testing.T) {
	a, err := iplists.ParseAllow([]string{" 192.0.2.0/24", "2001:db8::/32", "github", "198.51.100.7", "github", "bitbucket"})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Entries(); !slices.Equal(got, []string{"192.0.2.0/24", "2001:db8::/32", "github", "198.51.100.7", "github", "bitbucket"}) {
		t.Errorf("Entries() = %v", got)
	}
	if got := a.Lists(); !slices.Equal(got, []string{"github", "bitbucket"}) {
		t.Errorf("Lists() = %v", got)
	}
	raw, _ := json.Marshal(struct {
		A *iplists.Allow `json:"allow_ips,omitempty"`
	}{a})
	if !strings.Contains(string(raw), `"allow_ips":["192.0.2.0/24","2001:db8::/32","github",`) {
		t.Errorf("JSON %s", raw)
	}
	if a, err := iplists.ParseAllow(nil); a != nil || err != nil {
		t.Errorf("no entries: %v, %v; want nil (any address)", a, err)
	}
}

// An entry that is no address, CIDR or list is an error that names it:
// never a restriction silently dropped.
func TestParseAllowRefuses(t *testing.T) {
	for _, e := range []string{"", "  ", "githubb", "GitHub", "192.0.2.0/33", "192.0.2.300", "fe80::1%eth0", "*", "any", "192.0.2.0/24,198.51.100.0/24", strings.Repeat("9", 200)} {
		_, err := iplists.ParseAllow([]string{"192.0.2.1", e})
		if err == nil {
			t.Errorf("%q accepted", e)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "allow_ips: ") || len(msg) > 200 {
			t.Errorf("%q: error %q does not name allow_ips, or is long", e, msg)
		}
		if strings.TrimSpace(e) != "" && !strings.Contains(msg, "github") {
			t.Errorf("%q: error %q does not list the published lists", e, msg)
		}
	}
	if _, err := iplists.ParseAllow(make([]string, iplists.MaxAllowEntries+1)); err == nil {
		t.Error("more than MaxAllowEntries entries accepted")
	}
}

func TestAllowCheck(t *testing.T) {
	gh := iplists.NewSet(prefixes(t, "140.82.112.0/20", "2a0a:a440::/29"))
	bb := iplists.NewSet(prefixes(t, "104.192.136.0/21"))
	addr := netip.MustParseAddr
	parse := func(entries ...string) *iplists.Allow {
		a, err := iplists.ParseAllow(entries)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, c := range []struct {
		name    string
		allow   *iplists.Allow
		src     iplists.Source
		addr    netip.Addr
		want    iplists.Outcome
		pending string
	}{
		{"no field", nil, nil, addr("203.0.113.1"), iplists.Admitted, ""},
		{"literal CIDR", parse("192.0.2.0/24"), nil, addr("192.0.2.9"), iplists.Admitted, ""},
		{"literal IPv6", parse("2001:db8::/32"), nil, addr("2001:db8::5"), iplists.Admitted, ""},
		{"outside literal", parse("192.0.2.0/24"), nil, addr("192.0.3.9"), iplists.Refused, ""},
		{"IPv6 outside IPv4 literal", parse("192.0.2.0/24"), nil, addr("2001:db8::5"), iplists.Refused, ""},
		{"loaded list admits", parse("github"), source{"github": gh}, addr("140.82.115.3"), iplists.Admitted, ""},
		{"loaded list admits IPv6", parse("github"), source{"github": gh}, addr("2a0a:a440::1"), iplists.Admitted, ""},
		{"loaded list refuses", parse("github"), source{"github": gh}, addr("203.0.113.1"), iplists.Refused, ""},
		{"list not loaded", parse("github"), source{}, addr("140.82.115.3"), iplists.Pending, "github"},
		{"no source", parse("github"), nil, addr("140.82.115.3"), iplists.Pending, "github"},
		{"literal admits while list pending", parse("github", "192.0.2.0/24"), source{}, addr("192.0.2.1"), iplists.Admitted, ""},
		{"other list admits while one pending", parse("github", "bitbucket"), source{"bitbucket": bb}, addr("104.192.137.1"), iplists.Admitted, ""},
		{"pending names the missing list", parse("github", "bitbucket"), source{"github": gh}, addr("203.0.113.1"), iplists.Pending, "bitbucket"},
		{"invalid address", parse("github", "0.0.0.0/0"), source{"github": gh}, netip.Addr{}, iplists.Refused, ""},
	} {
		got, pending := c.allow.Check(c.addr, c.src)
		if got != c.want || pending != c.pending {
			t.Errorf("%s: Check = %v %q, want %v %q", c.name, got, pending, c.want, c.pending)
		}
	}
}

// Every list a vendor registered has a URL and a parser, under a name
// that is no address.
func TestRegisteredLists(t *testing.T) {
	if got := iplists.Names(); !slices.Equal(got, []string{"atlassian", "bitbucket", "github"}) {
		t.Fatalf("Names() = %v", got)
	}
	for _, n := range iplists.Names() {
		f, ok := iplists.FeedOf(n)
		if !ok || !strings.HasPrefix(f.URL, "https://") || f.Parse == nil {
			t.Errorf("%s: %+v", n, f)
		}
		if _, err := iplists.ParsePrefix(n); err == nil {
			t.Errorf("list name %q reads as an address", n)
		}
	}
}

func BenchmarkAllowCheck(b *testing.B) {
	a, _ := iplists.ParseAllow([]string{"192.0.2.0/24", "github"})
	src := source{"github": iplists.NewSet(prefixes(b, "192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "2a0a:a440::/29", "2606:50c0::/32"))}
	addr := netip.MustParseAddr("140.82.115.3")
	b.ReportAllocs()
	for b.Loop() {
		a.Check(addr, src)
	}
}
