package integrations

import (
	"fmt"
	"slices"
)

// Vendor names a webhook sender. The names are the ones used in receiver
// paths and integration records.
type Vendor string

// The names of the nine vendors shipped under vendors/. They are spellings
// only: what a vendor is (its schemes, its kind, its secret form) is what
// its package registers with Register, and a vendor nobody registered is
// unknown whatever its name.
const (
	GitHub       Vendor = "github"
	GitLab       Vendor = "gitlab"
	Jira         Vendor = "jira"
	ServiceNow   Vendor = "servicenow"
	ManageEngine Vendor = "manageengine"
	Jenkins      Vendor = "jenkins"
	AzureDevOps  Vendor = "azuredevops"
	Bamboo       Vendor = "bamboo"
	Bitbucket    Vendor = "bitbucket"
)

// Scheme names one verification scheme of a vendor.
type Scheme string

// The verification schemes, as a record's `scheme` field spells them.
const (
	SchemeHMAC     Scheme = "hmac"      // HMAC of the raw body in the vendor's header
	SchemeHMACSHA1 Scheme = "hmac-sha1" // GitHub's legacy X-Hub-Signature; only when pinned
	SchemeToken    Scheme = "token"     // a shared token in a header or query parameter
	SchemeSigning  Scheme = "signing"   // Standard Webhooks (GitLab signing tokens)
	SchemeBearer   Scheme = "bearer"    // Authorization: Bearer <secret>
	SchemeBasic    Scheme = "basic"     // Authorization: Basic, the password is the secret
)

// Spec is what a vendor package (vendors/<name>) registers about its vendor
// for the record's sake. The verification rules, normalization and API
// client of the vendor register with their own packages.
type Spec struct {
	// Vendor is the vendor's name. Required, unique.
	Vendor Vendor
	// Schemes are the vendor's verification schemes, its default first.
	// Required.
	Schemes []Scheme
	// Tickets marks a ticket vendor: its deliveries arrive on
	// /webhooks/<vendor>/<id> and become ticket.* events. Default: false,
	// a CI vendor on /webhooks/ci/<vendor>/<id> with ci.* events.
	Tickets bool
	// DoneStates are the ticket states that mean done when a record names
	// none. Default: none (the vendor's events say so themselves).
	DoneStates []string
	// BindsTarget marks a vendor whose bodies name the repository or
	// project they are about (events.Facts.Targets): a record's Target
	// then refuses deliveries about any other. Default: false.
	BindsTarget bool
	// NewSecret formats a generated secret for scheme from 32 random bytes.
	// Default: NewSecret's forms (whsec_ for signing, hex otherwise).
	NewSecret func(s Scheme, random [SecretBytes]byte) string
}

// registry holds every registered vendor. It is filled by Register from
// the vendor packages' init functions and only read after that, so reads
// (one per request) take no lock.
var registry = map[Vendor]Spec{}

// Register adds a vendor. Call it from a vendor package's init only. It
// panics on a spec without a name or schemes, or on a name taken twice: both
// are programming errors found at start.
func Register(s Spec) {
	if s.Vendor == "" || len(s.Schemes) == 0 {
		panic("integrations: vendor spec without a name or schemes")
	}
	if _, dup := registry[s.Vendor]; dup {
		panic(fmt.Sprintf("integrations: vendor %q registered twice", s.Vendor))
	}
	s.Schemes = slices.Clone(s.Schemes)
	s.DoneStates = slices.Clone(s.DoneStates)
	registry[s.Vendor] = s
}

// spec is v's registration.
func (v Vendor) spec() (Spec, bool) {
	s, ok := registry[v]
	return s, ok
}

// Vendors lists every registered vendor, sorted by name.
func Vendors() []Vendor {
	vs := make([]Vendor, 0, len(registry))
	for v := range registry {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// Known reports whether v is a registered vendor.
func (v Vendor) Known() bool {
	_, ok := v.spec()
	return ok
}

// IsCI reports whether v is a registered CI vendor (as opposed to a ticket
// vendor).
func (v Vendor) IsCI() bool {
	s, ok := v.spec()
	return ok && !s.Tickets
}

// Schemes lists v's schemes, the default first; none for an unknown vendor.
func (v Vendor) Schemes() []Scheme {
	s, _ := v.spec()
	return slices.Clone(s.Schemes)
}

// DefaultScheme is the scheme used when a record pins none.
func (v Vendor) DefaultScheme() Scheme {
	if s, ok := v.spec(); ok {
		return s.Schemes[0]
	}
	return ""
}

// Supports reports whether s is one of v's schemes.
func (v Vendor) Supports(s Scheme) bool {
	return slices.Contains(registry[v].Schemes, s) // no copy of the Spec: once per request
}

// ReceiverPath is the path on which v's deliveries for integration id arrive.
func (v Vendor) ReceiverPath(id string) string {
	if v.IsCI() {
		return "/webhooks/ci/" + string(v) + "/" + id
	}
	return "/webhooks/" + string(v) + "/" + id
}
