package github

import (
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/hookgate/caddy-hookgate/iplists"
)

// testdata/meta.json has the documented shape of GET /meta, with
// documentation addresses: only `hooks` is GitHub's webhook addresses.
func readMeta(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/meta.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHooksFromMeta(t *testing.T) {
	got, err := hooksFromMeta(readMeta(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/22"), netip.MustParsePrefix("203.0.113.7/32"),
		netip.MustParsePrefix("2001:db8:4000::/36"), netip.MustParsePrefix("2001:db8:ffff::/48"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("hooks %v, want %v", got, want)
	}
	if f, ok := iplists.FeedOf(IPList); !ok || f.URL != "https://api.github.com/meta" {
		t.Fatalf("registered feed %+v", f)
	}
}

func TestHooksFromMetaRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":          "<html>",
		"no hooks":          `{"web":["192.0.2.0/24"]}`,
		"hooks null":        `{"hooks":null}`,
		"hooks not a list":  `{"hooks":"192.0.2.0/24"}`,
		"entry not string":  `{"hooks":[1]}`,
		"entry unreadable":  `{"hooks":["192.0.2.0/24","192.0.2.0/40"]}`,
		"entry with a zone": `{"hooks":["fe80::1%eth0"]}`,
	} {
		if got, err := hooksFromMeta([]byte(body)); err == nil {
			t.Errorf("%s: %v accepted", name, got)
		}
	}
}

// Whatever the answer holds, hooksFromMeta gives valid prefixes or an
// error, and never panics.
func FuzzHooksFromMeta(f *testing.F) {
	f.Add(readMeta(f))
	f.Add([]byte(`{"hooks":["::ffff:192.0.2.0/120","0.0.0.0/0"]}`))
	f.Add([]byte(`{"hooks":[],"hooks":["192.0.2.1"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := hooksFromMeta(body)
		if err != nil {
			return
		}
		for _, p := range got {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("prefix %v", p)
			}
		}
	})
}
