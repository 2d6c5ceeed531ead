package verifiers

import (
	"crypto/sha1" //nolint:gosec // GitHub's legacy header, only when pinned as hmac-sha1
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// kind is how a scheme carries its credential.
type kind uint8

const (
	kindNone        kind = iota
	kindMethodHex        // "<method>=<hex>" header, HMAC of the raw body
	kindBase64MAC        // base64 HMAC-SHA256 of the raw body
	kindStdWebhooks      // Standard Webhooks headers
	kindHeaderToken      // the secret itself in a header
	kindQueryToken       // the secret itself in the `token` query parameter
	kindBearer           // Authorization: Bearer <secret>
	kindBasic            // Authorization: Basic, the password is the secret
)

// bodyMAC reports whether k authenticates the body (as opposed to a token).
func (k kind) bodyMAC() bool {
	return k == kindMethodHex || k == kindBase64MAC || k == kindStdWebhooks
}

// alg is a MAC algorithm; as a bit it also builds the set a rule accepts.
type alg uint8

const (
	algNone        alg = 0
	algSHA1        alg = 1 << 0
	algSHA256      alg = 1 << 1
	algSHA512      alg = 1 << 2
	algStdWebhooks alg = 1 << 3 // HMAC-SHA256 keyed with the decoded whsec_ secret
)

// newHash is the hash constructor of a.
func (a alg) newHash() func() hash.Hash {
	switch a {
	case algSHA1:
		return sha1.New
	case algSHA512:
		return sha512.New
	default:
		return sha256.New
	}
}

// size is the digest length of a.
func (a alg) size() int {
	switch a {
	case algSHA1:
		return sha1.Size
	case algSHA512:
		return sha512.Size
	default:
		return sha256.Size
	}
}

// method is a's name in a "<method>=<hex>" header.
func (a alg) method() string {
	switch a {
	case algSHA1:
		return "sha1"
	case algSHA512:
		return "sha512"
	default:
		return "sha256"
	}
}

// rule is how one vendor's scheme is verified.
type rule struct {
	kind   kind
	header string // canonical header carrying the credential; "" for query and Standard Webhooks
	accept alg    // kindMethodHex: the methods accepted; the lowest bit is what Sign uses
}

type ruleKey struct {
	vendor integrations.Vendor
	scheme integrations.Scheme
}

// Header names, canonical as net/http stores them.
const (
	hdrHubSignature256   = "X-Hub-Signature-256"
	hdrHubSignature      = "X-Hub-Signature"
	hdrServiceNowSig     = "X-Servicenow-Signature"
	hdrAuthorization     = "Authorization"
	hdrGitLabToken       = "X-Gitlab-Token"
	hdrJenkinsToken      = "X-Api-Token"
	hdrBambooToken       = "X-Bamboo-Token"
	hdrWebhookID         = "Webhook-Id"
	hdrWebhookTimestamp  = "Webhook-Timestamp"
	hdrWebhookSignature  = "Webhook-Signature"
	queryTokenParam      = "token"
	standardWebhooksV1   = "v1,"
	signingSecretPrefix  = "whsec_"
	basicAuthUser        = "hookgate"
	maxTimestampDigits   = 15
	base64SHA256Len      = 44 // base64.StdEncoding.EncodedLen(sha256.Size)
	maxHexDigestLen      = 2 * sha512.Size
	maxDigestLen         = sha512.Size
	base64SHA256Decoded  = 33 // base64.StdEncoding.DecodedLen(base64SHA256Len)
	bitbucketAcceptedAlg = algSHA256 | algSHA512
)

// rules is the one table of how each vendor's schemes are checked. It has a
// row for exactly the schemes integrations.Vendor.Supports lists (a test
// holds the two together). Adding a vendor adds rows here.
var rules = map[ruleKey]rule{
	{integrations.GitHub, integrations.SchemeHMAC}:         {kind: kindMethodHex, header: hdrHubSignature256, accept: algSHA256},
	{integrations.GitHub, integrations.SchemeHMACSHA1}:     {kind: kindMethodHex, header: hdrHubSignature, accept: algSHA1},
	{integrations.GitLab, integrations.SchemeToken}:        {kind: kindHeaderToken, header: hdrGitLabToken},
	{integrations.GitLab, integrations.SchemeSigning}:      {kind: kindStdWebhooks},
	{integrations.Jira, integrations.SchemeToken}:          {kind: kindQueryToken},
	{integrations.Jira, integrations.SchemeHMAC}:           {kind: kindMethodHex, header: hdrHubSignature, accept: algSHA256},
	{integrations.ServiceNow, integrations.SchemeBearer}:   {kind: kindBearer, header: hdrAuthorization},
	{integrations.ServiceNow, integrations.SchemeBasic}:    {kind: kindBasic, header: hdrAuthorization},
	{integrations.ServiceNow, integrations.SchemeHMAC}:     {kind: kindBase64MAC, header: hdrServiceNowSig},
	{integrations.ManageEngine, integrations.SchemeBearer}: {kind: kindBearer, header: hdrAuthorization},
	{integrations.ManageEngine, integrations.SchemeToken}:  {kind: kindQueryToken},
	{integrations.Jenkins, integrations.SchemeToken}:       {kind: kindHeaderToken, header: hdrJenkinsToken},
	{integrations.Jenkins, integrations.SchemeBasic}:       {kind: kindBasic, header: hdrAuthorization},
	{integrations.AzureDevOps, integrations.SchemeBearer}:  {kind: kindBearer, header: hdrAuthorization},
	{integrations.AzureDevOps, integrations.SchemeBasic}:   {kind: kindBasic, header: hdrAuthorization},
	{integrations.Bamboo, integrations.SchemeToken}:        {kind: kindHeaderToken, header: hdrBambooToken},
	{integrations.Bitbucket, integrations.SchemeHMAC}:      {kind: kindMethodHex, header: hdrHubSignature, accept: bitbucketAcceptedAlg},
}

// lookup finds the rule for v and s, refusing a scheme the vendor lacks.
func lookup(v integrations.Vendor, s integrations.Scheme) (rule, bool) {
	if !v.Supports(s) {
		return rule{}, false
	}
	r, ok := rules[ruleKey{v, s}]
	return r, ok
}
