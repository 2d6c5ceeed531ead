package integrations

// Vendor names a webhook sender. The names are the ones used in receiver
// paths and integration records.
type Vendor string

// The nine vendors hookgate verifies.
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
	SchemeHMAC     Scheme = "hmac"      // HMAC-SHA256 of the raw body (GitHub, Jira, ServiceNow, Bitbucket sha256/sha512)
	SchemeHMACSHA1 Scheme = "hmac-sha1" // GitHub's legacy X-Hub-Signature; only when pinned
	SchemeToken    Scheme = "token"     // a shared token in a header or query parameter
	SchemeSigning  Scheme = "signing"   // Standard Webhooks (GitLab signing tokens)
	SchemeBearer   Scheme = "bearer"    // Authorization: Bearer <secret>
	SchemeBasic    Scheme = "basic"     // Authorization: Basic, the password is the secret
)

// vendorSchemes lists each vendor's schemes, the default first. Adding a
// vendor means adding one row here and one verifier.
var vendorSchemes = map[Vendor][]Scheme{
	GitHub:       {SchemeHMAC, SchemeHMACSHA1},
	GitLab:       {SchemeToken, SchemeSigning},
	Jira:         {SchemeToken, SchemeHMAC},
	ServiceNow:   {SchemeBearer, SchemeBasic, SchemeHMAC},
	ManageEngine: {SchemeBearer, SchemeToken},
	Jenkins:      {SchemeToken, SchemeBasic},
	AzureDevOps:  {SchemeBearer, SchemeBasic},
	Bamboo:       {SchemeToken},
	Bitbucket:    {SchemeHMAC},
}

// Vendors lists every known vendor in a stable order.
func Vendors() []Vendor {
	return []Vendor{GitHub, GitLab, Jira, ServiceNow, ManageEngine, Jenkins, AzureDevOps, Bamboo, Bitbucket}
}

// Known reports whether v is one of the nine vendors.
func (v Vendor) Known() bool {
	_, ok := vendorSchemes[v]
	return ok
}

// IsCI reports whether v sends CI events (as opposed to ticket events).
func (v Vendor) IsCI() bool {
	switch v {
	case Jira, ServiceNow, ManageEngine:
		return false
	}
	return v.Known()
}

// DefaultScheme is the scheme used when a record pins none.
func (v Vendor) DefaultScheme() Scheme {
	if s := vendorSchemes[v]; len(s) > 0 {
		return s[0]
	}
	return ""
}

// Supports reports whether s is one of v's schemes.
func (v Vendor) Supports(s Scheme) bool {
	for _, have := range vendorSchemes[v] {
		if have == s {
			return true
		}
	}
	return false
}

// ReceiverPath is the path on which v's deliveries for integration id arrive.
func (v Vendor) ReceiverPath(id string) string {
	if v.IsCI() {
		return "/webhooks/ci/" + string(v) + "/" + id
	}
	return "/webhooks/" + string(v) + "/" + id
}
