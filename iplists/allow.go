package iplists

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// MaxAllowEntries bounds the entries of one allow_ips field.
const MaxAllowEntries = 1000

// Allow is one parsed allow_ips field: the addresses and CIDRs it names,
// merged into one Set, and the published lists it names. It is immutable
// and shared by every copy of its record. A nil *Allow admits every
// address (allow_ips not set).
type Allow struct {
	entries []string
	static  *Set
	lists   []string
}

// ParseAllow reads an allow_ips field: each entry an IP address, a CIDR
// (IPv4 or IPv6) or the name of a registered list (github, atlassian,
// bitbucket). No entries means no restriction: nil. An entry that is none
// of these is an error naming it, never a restriction dropped.
func ParseAllow(entries []string) (*Allow, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	if len(entries) > MaxAllowEntries {
		return nil, fmt.Errorf("allow_ips: %d entries, more than %d", len(entries), MaxAllowEntries)
	}
	a := &Allow{entries: make([]string, 0, len(entries))}
	var prefixes []netip.Prefix
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			return nil, fmt.Errorf("allow_ips: an entry is empty")
		case Known(e):
			if !slices.Contains(a.lists, e) {
				a.lists = append(a.lists, e)
			}
		default:
			p, err := ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("allow_ips: %s is neither an IP address, a CIDR nor a published list (%s)", quote(e), strings.Join(Names(), ", "))
			}
			prefixes = append(prefixes, p)
		}
		a.entries = append(a.entries, e)
	}
	a.static = NewSet(prefixes)
	return a, nil
}

// Entries are the field's entries as written (trimmed), for the record's
// data form and view.
func (a *Allow) Entries() []string {
	if a == nil {
		return nil
	}
	return slices.Clone(a.entries)
}

// Lists are the published lists the field names, each once.
func (a *Allow) Lists() []string {
	if a == nil {
		return nil
	}
	return slices.Clone(a.lists)
}

// MarshalJSON writes the entries as a JSON list, so a record's view shows
// allow_ips as it was written.
func (a *Allow) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("null"), nil
	}
	return json.Marshal(a.entries)
}

// Source gives the current set of a published list; ok is false while the
// list has not loaded. Lists is one.
type Source interface {
	Get(name string) (set *Set, ok bool)
}

// Outcome is what an allow_ips field says of one address.
type Outcome uint8

// The outcomes of Allow.Check.
const (
	// Admitted: the address is one the field names, or no field is set.
	Admitted Outcome = iota
	// Refused: the address is in nothing the field names, and every list
	// it names has loaded.
	Refused
	// Pending: the address is in nothing loaded, and a list the field
	// names has not loaded yet, so whether it would admit the address is
	// not known. The caller refuses it, as unavailable.
	Pending
)

// Check decides addr: admitted by an address or CIDR of the field or by a
// loaded list it names; else pending when a named list has not loaded
// (pending names the first such list), else refused. An invalid address
// is refused by every field.
func (a *Allow) Check(addr netip.Addr, src Source) (o Outcome, pending string) {
	if a == nil {
		return Admitted, ""
	}
	if !addr.IsValid() {
		return Refused, ""
	}
	if a.static.Contains(addr) {
		return Admitted, ""
	}
	for _, name := range a.lists {
		var set *Set
		ok := false
		if src != nil {
			set, ok = src.Get(name)
		}
		switch {
		case !ok:
			if pending == "" {
				pending = name
			}
		case set.Contains(addr):
			return Admitted, ""
		}
	}
	if pending != "" {
		return Pending, pending
	}
	return Refused, ""
}
