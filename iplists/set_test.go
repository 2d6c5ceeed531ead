package iplists_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/hookgate/caddy-hookgate/iplists"
)

func prefixes(t testing.TB, ss ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		p, err := iplists.ParsePrefix(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = p
	}
	return out
}

func TestSetContains(t *testing.T) {
	s := iplists.NewSet(prefixes(t, "192.0.2.0/24", "198.51.100.7", "2001:db8::/32", "2001:db8:1::/48", "10.0.0.0/8"))
	for addr, want := range map[string]bool{
		"192.0.2.0":              true,
		"192.0.2.255":            true,
		"192.0.3.0":              false,
		"192.0.1.255":            false,
		"198.51.100.7":           true,
		"198.51.100.8":           false,
		"10.255.255.255":         true,
		"11.0.0.0":               false,
		"2001:db8::1":            true,
		"2001:db8:ffff:ffff::1":  true,
		"2001:db9::":             false,
		"2001:db7:ffff::":        false,
		"::ffff:192.0.2.9":       true, // IPv4-mapped: looked up as IPv4
		"::ffff:203.0.113.9":     false,
		"2001:db8::1%eth0":       true, // a zone is ignored
		"::1":                    false,
		"0.0.0.0":                false,
		"255.255.255.255":        false,
		"ffff:ffff:ffff:ffff::1": false,
	} {
		if got := s.Contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", addr, got, want)
		}
	}
	if s.Contains(netip.Addr{}) {
		t.Error("the invalid address is in a set")
	}
	var none *iplists.Set
	if none.Contains(netip.MustParseAddr("192.0.2.1")) || none.Spans() != 0 {
		t.Error("a nil set holds something")
	}
}

// Prefixes that overlap or touch become one span; the last address of a
// family merges without wrapping.
func TestSetMerges(t *testing.T) {
	for _, c := range []struct {
		in    []string
		spans int
	}{
		{[]string{"192.0.2.0/25", "192.0.2.128/25"}, 1},
		{[]string{"192.0.2.0/24", "192.0.2.64/26", "192.0.2.1"}, 1},
		{[]string{"192.0.2.0/25", "192.0.2.129/32"}, 2},
		{[]string{"0.0.0.0/0", "192.0.2.0/24", "255.255.255.255"}, 1},
		{[]string{"255.255.255.254/31", "255.255.255.255", "255.255.255.0/24"}, 1},
		{[]string{"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, 2}, // ::/0 also admits all of IPv4
		{[]string{"2001:db8::/33", "2001:db8:8000::/33", "192.0.2.0/24"}, 2},
	} {
		if got := iplists.NewSet(prefixes(t, c.in...)).Spans(); got != c.spans {
			t.Errorf("%v: %d spans, want %d", c.in, got, c.spans)
		}
	}
	if !iplists.NewSet(prefixes(t, "::/0")).Contains(netip.MustParseAddr("203.0.113.1")) {
		t.Error("::/0 (which holds every IPv4-mapped address) does not admit an IPv4 address")
	}
	if !iplists.NewSet(prefixes(t, "::ffff:192.0.2.0/120")).Contains(netip.MustParseAddr("192.0.2.77")) {
		t.Error("an IPv4-mapped prefix does not admit its IPv4 addresses")
	}
}

// Against the plain reading of a list of prefixes, over random prefixes
// and addresses near their edges.
func TestSetAgreesWithPrefixes(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 7))
	randAddr := func(v6 bool) netip.Addr {
		if v6 {
			var b [16]byte
			for i := range b {
				b[i] = byte(rng.IntN(4)) // few distinct values, so prefixes overlap
			}
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(256))})
	}
	for round := range 200 {
		var ps []netip.Prefix
		for range rng.IntN(12) {
			v6 := rng.IntN(2) == 0
			bits := rng.IntN(33)
			if v6 {
				bits = rng.IntN(129)
			}
			ps = append(ps, netip.PrefixFrom(randAddr(v6), bits).Masked())
		}
		s := iplists.NewSet(ps)
		for range 200 {
			a := randAddr(rng.IntN(2) == 0)
			want := false
			for _, p := range ps {
				want = want || p.Contains(a) || p.Contains(netip.AddrFrom16(a.As16()))
			}
			if got := s.Contains(a); got != want {
				t.Fatalf("round %d: prefixes %v: Contains(%s) = %v, want %v", round, ps, a, got, want)
			}
		}
	}
}

func BenchmarkSetContains(b *testing.B) {
	var ps []netip.Prefix
	for i := range 2000 {
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(i >> 8), byte(i), 0, 0}), 24))
	}
	s := iplists.NewSet(ps)
	a := netip.MustParseAddr("7.7.0.1")
	b.ReportAllocs()
	for b.Loop() {
		s.Contains(a)
	}
}
