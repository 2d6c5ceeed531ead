package iplists

import (
	"net/netip"
	"slices"
	"sort"
)

// span is the addresses from lo to hi, both included, of one family.
type span struct{ lo, hi netip.Addr }

// Set is an immutable set of addresses built from prefixes: overlapping
// and adjacent prefixes are merged into spans, kept sorted per family, so
// Contains is a binary search over as few spans as the prefixes allow.
// A nil *Set holds nothing.
type Set struct {
	v4, v6 []span
}

// v4mapped is ::ffff:0:0/96, the IPv4-mapped IPv6 addresses.
var v4mapped = netip.MustParsePrefix("::ffff:0:0/96")

// NewSet is the set of every address in prefixes. An IPv4-mapped IPv6
// prefix (::ffff:192.0.2.0/120) also counts as its IPv4 prefix, since
// Contains looks addresses up unmapped. Invalid prefixes are skipped.
func NewSet(prefixes []netip.Prefix) *Set {
	s := new(Set)
	add := func(p netip.Prefix) {
		p = p.Masked()
		sp := span{p.Addr(), lastAddr(p)}
		if p.Addr().Is4() {
			s.v4 = append(s.v4, sp)
		} else {
			s.v6 = append(s.v6, sp)
		}
	}
	for _, p := range prefixes {
		if !p.IsValid() {
			continue
		}
		add(p)
		a := p.Addr()
		switch {
		case a.Is4In6() && p.Bits() >= 96:
			add(netip.PrefixFrom(a.Unmap(), p.Bits()-96))
		case a.Is6() && p.Bits() < 96 && p.Contains(v4mapped.Addr()):
			add(netip.PrefixFrom(netip.IPv4Unspecified(), 0))
		}
	}
	s.v4, s.v6 = merge(s.v4), merge(s.v6)
	return s
}

// lastAddr is the highest address in p (p masked).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// merge sorts spans and joins those that overlap or touch.
func merge(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.lo.Compare(b.lo) })
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 {
			last := &out[n-1]
			next := last.hi.Next() // invalid past the family's last address
			if !next.IsValid() || s.lo.Compare(next) <= 0 {
				if s.hi.Compare(last.hi) > 0 {
					last.hi = s.hi
				}
				continue
			}
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}

// Contains reports whether a is in the set. A zone is ignored and an
// IPv4-mapped IPv6 address is looked up as its IPv4 address; an invalid
// address is in no set.
func (s *Set) Contains(a netip.Addr) bool {
	if s == nil || !a.IsValid() {
		return false
	}
	a = a.WithZone("").Unmap()
	spans := s.v6
	if a.Is4() {
		spans = s.v4
	}
	i := sort.Search(len(spans), func(i int) bool { return spans[i].lo.Compare(a) > 0 })
	return i > 0 && a.Compare(spans[i-1].hi) <= 0
}

// Spans is how many disjoint ranges the set holds after merging.
func (s *Set) Spans() int {
	if s == nil {
		return 0
	}
	return len(s.v4) + len(s.v6)
}

// Equal reports whether s and o hold the same addresses.
func (s *Set) Equal(o *Set) bool {
	if s == nil || o == nil {
		return s.Spans() == 0 && o.Spans() == 0
	}
	return slices.Equal(s.v4, o.v4) && slices.Equal(s.v6, o.v6)
}
