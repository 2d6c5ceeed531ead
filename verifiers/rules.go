package verifiers

import (
	"fmt"
	"net/textproto"
	"slices"

	"crypto/sha1" //nolint:gosec // GitHub's legacy header, only when pinned as hmac-sha1
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Kind is how a scheme carries its credential: the shared mechanics a
// vendor's Rule picks from.
type Kind uint8

// The kinds of credential hookgate verifies.
const (
	KindNone             Kind = iota
	KindMethodHex             // "<method>=<hex>" header, HMAC of the raw body
	KindBase64MAC             // base64 HMAC-SHA256 of the raw body in a header
	KindStandardWebhooks      // Standard Webhooks headers (webhook-id, -timestamp, -signature)
	KindHeaderToken           // the secret itself in a header
	KindQueryToken            // the secret itself in the `token` query parameter
	KindBearer                // Authorization: Bearer <secret>
	KindBasic                 // Authorization: Basic, the password is the secret
	KindHexMAC                // bare hex HMAC of the raw body in a header, one method (Gitea, Gogs)
)

// BodyMAC reports whether k authenticates the body (as opposed to a token
// whose holder can forge any body).
func (k Kind) BodyMAC() bool {
	return k == KindMethodHex || k == KindBase64MAC || k == KindStandardWebhooks || k == KindHexMAC
}

// Alg is a MAC algorithm; as a bit it also builds the set a Rule accepts.
type Alg uint8

// The MAC algorithms of KindMethodHex rules.
const (
	AlgNone        Alg = 0
	AlgSHA1        Alg = 1 << 0
	AlgSHA256      Alg = 1 << 1
	AlgSHA512      Alg = 1 << 2
	algStdWebhooks Alg = 1 << 3 // HMAC-SHA256 keyed with the decoded whsec_ secret
)

// newHash is the hash constructor of a.
func (a Alg) newHash() func() hash.Hash {
	switch a {
	case AlgSHA1:
		return sha1.New
	case AlgSHA512:
		return sha512.New
	default:
		return sha256.New
	}
}

// size is the digest length of a.
func (a Alg) size() int {
	switch a {
	case AlgSHA1:
		return sha1.Size
	case AlgSHA512:
		return sha512.Size
	default:
		return sha256.Size
	}
}

// method is a's name in a "<method>=<hex>" header.
func (a Alg) method() string {
	switch a {
	case AlgSHA1:
		return "sha1"
	case AlgSHA512:
		return "sha512"
	default:
		return "sha256"
	}
}

// Rule is how one vendor's scheme is verified.
type Rule struct {
	// Kind is how the credential travels. Required.
	Kind Kind
	// Header carries the credential; empty for KindQueryToken and
	// KindStandardWebhooks. Canonicalized at Register.
	Header string
	// Accept is the set of methods a KindMethodHex rule accepts (the
	// lowest bit is what Sign uses), or the one method of a KindHexMAC
	// rule. Default: none (required for both kinds).
	Accept Alg
}

type ruleKey struct {
	vendor integrations.Vendor
	scheme integrations.Scheme
}

// Header names the mechanics themselves read, canonical as net/http stores
// them, and the bounds of what they parse.
const (
	hdrAuthorization    = "Authorization"
	hdrWebhookID        = "Webhook-Id"
	hdrWebhookTimestamp = "Webhook-Timestamp"
	hdrWebhookSignature = "Webhook-Signature"
	queryTokenParam     = "token"
	standardWebhooksV1  = "v1,"
	signingSecretPrefix = "whsec_"
	basicAuthUser       = "hookgate"
	maxTimestampDigits  = 15
	base64SHA256Len     = 44 // base64.StdEncoding.EncodedLen(sha256.Size)
	maxHexDigestLen     = 2 * sha512.Size
	maxDigestLen        = sha512.Size
	base64SHA256Decoded = 33 // base64.StdEncoding.DecodedLen(base64SHA256Len)
)

// rules holds every registered vendor's rules. It is filled by Register
// from the vendor packages' init functions and only read after that.
var rules = map[ruleKey]Rule{}

// Register adds the rule for vendor v's scheme s. Call it from a vendor
// package's init only. It panics on a rule registered twice, a header
// missing where the kind needs one, or a method-hex rule accepting no
// method: programming errors found at start.
func Register(v integrations.Vendor, s integrations.Scheme, r Rule) {
	k := ruleKey{v, s}
	if _, dup := rules[k]; dup {
		panic(fmt.Sprintf("verifiers: rule for %s/%s registered twice", v, s))
	}
	switch r.Kind {
	case KindQueryToken, KindStandardWebhooks:
		r.Header = ""
	case KindMethodHex, KindBase64MAC, KindHexMAC, KindHeaderToken, KindBearer, KindBasic:
		if r.Header == "" {
			panic(fmt.Sprintf("verifiers: rule for %s/%s has no header", v, s))
		}
		r.Header = textproto.CanonicalMIMEHeaderKey(r.Header)
	default:
		panic(fmt.Sprintf("verifiers: rule for %s/%s has no kind", v, s))
	}
	if r.Kind == KindMethodHex && r.Accept&(AlgSHA1|AlgSHA256|AlgSHA512) == 0 {
		panic(fmt.Sprintf("verifiers: method-hex rule for %s/%s accepts no method", v, s))
	}
	if r.Kind == KindHexMAC && r.Accept != AlgSHA1 && r.Accept != AlgSHA256 && r.Accept != AlgSHA512 {
		panic(fmt.Sprintf("verifiers: hex-MAC rule for %s/%s needs exactly one method", v, s))
	}
	rules[k] = r
}

// RuleOf is the rule registered for v's scheme s; false when v lacks s.
func RuleOf(v integrations.Vendor, s integrations.Scheme) (Rule, bool) {
	return lookup(v, s)
}

// CredentialHeaders lists, sorted, the headers that carry a bearer-like
// credential in some registered rule (tokens, Bearer, Basic): whoever
// holds one can forge deliveries, so they never reach the next handler.
// Body MAC headers are no secret and are not listed.
func CredentialHeaders() []string {
	var hs []string
	for _, r := range rules {
		if r.Header != "" && !r.Kind.BodyMAC() && !slices.Contains(hs, r.Header) {
			hs = append(hs, r.Header)
		}
	}
	slices.Sort(hs)
	return hs
}

// lookup finds the rule for v and s, refusing a scheme the vendor lacks.
func lookup(v integrations.Vendor, s integrations.Scheme) (Rule, bool) {
	if !v.Supports(s) {
		return Rule{}, false
	}
	r, ok := rules[ruleKey{v, s}]
	return r, ok
}
