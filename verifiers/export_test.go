package verifiers

import "github.com/hookgate/caddy-hookgate/integrations"

// What the external tests (package verifiers_test) need of the package's
// unexported mechanics: the parsers the fuzz targets drive, the header
// names and bounds they read, and the rule registry itself.

// Parsers and helpers of attacker-controlled input.
var (
	ParseMethodHex     = parseMethodHex
	DecodeHexDigest    = decodeHexDigest
	ParseSignatureList = parseSignatureList
	ParseTimestamp     = parseTimestamp
	WithinWindow       = withinWindow
	TrimOWS            = trimOWS
	QueryToken         = queryToken
	SigningKey         = signingKey
)

// Header names the mechanics read and the bounds of what they parse.
const (
	HdrAuthorization    = hdrAuthorization
	HdrWebhookID        = hdrWebhookID
	HdrWebhookTimestamp = hdrWebhookTimestamp
	HdrWebhookSignature = hdrWebhookSignature
	MaxDigestLen        = maxDigestLen
	MaxTimestampDigits  = maxTimestampDigits
)

// Size is the digest length of a.
func (a Alg) Size() int { return a.size() }

// RegisteredRule is one row of the rule registry.
type RegisteredRule struct {
	Vendor integrations.Vendor
	Scheme integrations.Scheme
	Rule   Rule
}

// RegisteredRules lists every registered rule, read from the registry
// itself: RuleOf answers only for a scheme the vendor supports, so it cannot
// show a rule registered without one.
func RegisteredRules() []RegisteredRule {
	out := make([]RegisteredRule, 0, len(rules))
	for k, r := range rules {
		out = append(out, RegisteredRule{k.vendor, k.scheme, r})
	}
	return out
}
