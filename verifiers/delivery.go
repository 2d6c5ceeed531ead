package verifiers

import (
	"errors"
	"net/http"
	"time"
)

// Secrets are the keys one delivery may verify against.
type Secrets struct {
	// Current is the integration's current secret or token. Required: an
	// empty Current never verifies anything.
	Current []byte
	// Previous is nil unless a rotation overlap is active now. A delivery
	// made with it is Valid with Verdict.Previous set. An empty slice counts
	// as nil.
	Previous []byte
}

// Delivery is what a verifier sees of one request besides the body.
type Delivery struct {
	// Header holds the request headers with canonical keys, as net/http
	// gives them. A credential header sent more than once is Invalid.
	Header http.Header
	// RawQuery is r.URL.RawQuery, read by the query `token` schemes (Jira,
	// ManageEngine).
	RawQuery string
	// Now is the time against which the Standard Webhooks timestamp is
	// checked. Zero means time.Now().
	Now time.Time
	// Tolerance is how far a Standard Webhooks webhook-timestamp may be
	// from Now, either way. Zero means SigningWindow (5 minutes).
	Tolerance time.Duration
}

// Limits on attacker-controlled input. Anything beyond them is Invalid and is
// not processed further.
const (
	// MaxCredentialBytes bounds one credential header value and the raw
	// query string.
	MaxCredentialBytes = 8 << 10
	// MaxSignatures bounds the entries of a Standard Webhooks
	// webhook-signature list.
	MaxSignatures = 16
	// SigningWindow is how far a Standard Webhooks timestamp may be from
	// Delivery.Now in either direction when Delivery.Tolerance is zero.
	SigningWindow = 5 * time.Minute
)

// Reasons a Verdict gives. They are fixed phrases: never a secret, never a
// received value.
const (
	// ReasonSchemeNotSupported: unknown vendor or scheme, or a scheme the
	// vendor does not have.
	ReasonSchemeNotSupported = "scheme not supported"
	// ReasonNoSecret: Secrets.Current was empty.
	ReasonNoSecret = "no secret configured"
	// ReasonNotPrepared: Verdict was asked of a Check that was never Reset.
	ReasonNotPrepared = "check not prepared"
	// ReasonSignatureMissing: the scheme's signature header was not sent.
	ReasonSignatureMissing = "signature missing"
	// ReasonTokenMissing: the scheme's token header or query parameter was
	// not sent.
	ReasonTokenMissing = "token missing"
	// ReasonAuthorizationMissing: no Authorization header.
	ReasonAuthorizationMissing = "authorization missing"
	// ReasonSignatureMismatch: a well-formed signature made with another
	// key or over other bytes.
	ReasonSignatureMismatch = "signature mismatch"
	// ReasonTokenMismatch: a token, bearer credential or password that is
	// not the secret.
	ReasonTokenMismatch = "token mismatch"
	// ReasonAlgorithmRefused: a signature method the pinned scheme does not
	// accept (e.g. sha1 for Bitbucket).
	ReasonAlgorithmRefused = "algorithm refused"
	// ReasonMalformedSignature: bad hex or base64, or a digest of the wrong
	// length.
	ReasonMalformedSignature = "malformed signature"
	// ReasonMalformedAuthorization: an Authorization header that cannot be
	// parsed.
	ReasonMalformedAuthorization = "malformed authorization"
	// ReasonWrongAuthorizationScheme: Authorization names another scheme
	// than the pinned one (Basic where Bearer is expected, or the reverse).
	ReasonWrongAuthorizationScheme = "wrong authorization scheme"
	// ReasonDuplicateCredential: the credential header was sent more than
	// once, or the query had more than one `token` parameter.
	ReasonDuplicateCredential = "duplicate credential"
	// ReasonCredentialTooLong: a credential header or the query is over
	// MaxCredentialBytes.
	ReasonCredentialTooLong = "credential too long"
	// ReasonMalformedQuery: the `token` parameter has a bad percent escape.
	ReasonMalformedQuery = "malformed query"
	// ReasonIncompleteSigningHeaders: webhook-signature was sent without a
	// webhook-id or webhook-timestamp.
	ReasonIncompleteSigningHeaders = "incomplete signing headers"
	// ReasonMalformedTimestamp: webhook-timestamp is not unix seconds.
	ReasonMalformedTimestamp = "malformed timestamp"
	// ReasonTimestampOutsideWindow: webhook-timestamp is further from
	// Delivery.Now than the tolerance (SigningWindow by default).
	ReasonTimestampOutsideWindow = "timestamp outside window"
	// ReasonTooManySignatures: webhook-signature lists more than
	// MaxSignatures entries.
	ReasonTooManySignatures = "too many signatures"
	// ReasonNoSupportedSignature: webhook-signature has no well-formed v1
	// entry.
	ReasonNoSupportedSignature = "no supported signature version"
	// ReasonBadSigningSecret: the current Standard Webhooks secret is not
	// base64 (after an optional whsec_ prefix).
	ReasonBadSigningSecret = "bad signing secret"
)

// Errors returned by Sign.
var (
	// ErrSchemeNotSupported: unknown vendor or scheme, or a scheme the
	// vendor does not have.
	ErrSchemeNotSupported = errors.New("verifiers: scheme not supported")
	// ErrNoSecret: Sign was called with an empty secret.
	ErrNoSecret = errors.New("verifiers: empty secret")
	// ErrBadSigningSecret: a Standard Webhooks secret that is not base64
	// after its optional whsec_ prefix.
	ErrBadSigningSecret = errors.New("verifiers: bad signing secret")
)
