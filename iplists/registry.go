package iplists

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Feed is one published address list: where it is fetched from unless the
// config names another URL, and how its answer becomes prefixes.
type Feed struct {
	// URL is the list's published address. Required.
	URL string
	// Parse reads the answer's body. It must fail on anything it cannot
	// read whole rather than return part of a list. Required.
	Parse func(body []byte) ([]netip.Prefix, error)
}

// feeds holds every registered list. It is filled by Register from the
// vendor packages' init functions and only read after that, so reads take
// no lock.
var feeds = map[string]Feed{}

// Register adds a published list under name, as allow_ips spells it.
// Call it from a vendor package's init only. It panics on a name that is
// empty, not lower-case letters and digits, taken twice or readable as an
// address, and on a feed without URL or Parse: programming errors found
// at start.
func Register(name string, f Feed) {
	if !validName(name) || f.URL == "" || f.Parse == nil {
		panic(fmt.Sprintf("iplists: list %q registered without a valid name, URL or parser", name))
	}
	if _, dup := feeds[name]; dup {
		panic(fmt.Sprintf("iplists: list %q registered twice", name))
	}
	feeds[name] = f
}

// validName is a name of lower-case letters and digits, starting with a
// letter (so that it is never an IPv6 address like "fd00::1" or "ab::").
func validName(name string) bool {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	_, err := netip.ParseAddr(name)
	return err != nil
}

// Known reports whether name is a registered list.
func Known(name string) bool {
	_, ok := feeds[name]
	return ok
}

// Names are the registered lists, sorted.
func Names() []string {
	names := make([]string, 0, len(feeds))
	for n := range feeds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// FeedOf is the feed registered under name.
func FeedOf(name string) (Feed, bool) {
	f, ok := feeds[name]
	return f, ok
}

// ParsePrefix reads one address entry: a CIDR (192.0.2.0/24,
// 2001:db8::/32; host bits are cleared) or a single IPv4 or IPv6 address
// (a /32 or /128). Zones are refused: an allow list names addresses, not
// interfaces.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%s is not a CIDR", quote(s))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%s is not an IP address", quote(s))
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// maxQuote bounds how much of an unreadable entry an error quotes: a
// feed's entry may be as long as its answer.
const maxQuote = 64

// quote is s quoted, cut to maxQuote bytes.
func quote(s string) string {
	if len(s) > maxQuote {
		return strconv.Quote(s[:maxQuote]) + "…"
	}
	return strconv.Quote(s)
}
