package verifiers

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// strictStdEncoding decodes padded standard base64 and refuses non-zero
// trailing bits, so each digest has exactly one accepted spelling.
var strictStdEncoding = base64.StdEncoding.Strict()

// Parsers of attacker-controlled header and query bytes. Each is bounded,
// allocation-free on well-formed input, and fuzzed (fuzz_test.go).

// headerValue returns the single value of the credential header key,
// trimmed. An absent or empty header reports missing; a header sent twice
// or over MaxCredentialBytes reports a reason (Invalid).
func headerValue(h http.Header, key string) (value string, missing bool, reason string) {
	vals := h[key]
	switch {
	case len(vals) == 0:
		return "", true, ""
	case len(vals) > 1:
		return "", false, ReasonDuplicateCredential
	}
	v := vals[0]
	if len(v) > MaxCredentialBytes {
		return "", false, ReasonCredentialTooLong
	}
	v = trimOWS(v)
	if v == "" {
		return "", true, ""
	}
	return v, false, ""
}

// trimOWS drops leading and trailing spaces and tabs.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseMethodHex splits "<method>=<hex>". It returns the method as an Alg
// (AlgNone for a method it does not know, which no Rule accepts) and the
// hex part; ok is false when there is no '='.
func parseMethodHex(v string) (a Alg, hexDigest string, ok bool) {
	method, digest, found := strings.Cut(v, "=")
	if !found {
		return AlgNone, "", false
	}
	switch {
	case strings.EqualFold(method, "sha256"):
		a = AlgSHA256
	case strings.EqualFold(method, "sha512"):
		a = AlgSHA512
	case strings.EqualFold(method, "sha1"):
		a = AlgSHA1
	}
	return a, digest, true
}

// decodeHexDigest decodes a hex digest of exactly size bytes (either case)
// into dst. It reports false for a wrong length or a non-hex character.
func decodeHexDigest(dst *[maxDigestLen]byte, digest string, size int) bool {
	if size > maxDigestLen || len(digest) != 2*size {
		return false
	}
	var src [maxHexDigestLen]byte
	n := copy(src[:], digest)
	m, err := hex.Decode(dst[:], src[:n])
	return err == nil && m == size
}

// decodeBase64SHA256 decodes a padded standard-base64 HMAC-SHA256 into dst.
// It reports false unless the input is exactly one well-formed 32-byte
// digest.
func decodeBase64SHA256(dst *[maxDigestLen]byte, s string) bool {
	if len(s) != base64SHA256Len {
		return false
	}
	var src [base64SHA256Len]byte
	copy(src[:], s)
	var out [base64SHA256Decoded]byte
	n, err := strictStdEncoding.Decode(out[:], src[:])
	if err != nil || n != 32 {
		return false
	}
	copy(dst[:], out[:n])
	return true
}

// parseTimestamp parses unix seconds: 1 to 15 ASCII digits, no sign, no
// space.
func parseTimestamp(s string) (int64, bool) {
	if len(s) == 0 || len(s) > maxTimestampDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseSignatureList reads a webhook-signature value: space-separated
// "<version>,<base64>" entries. Well-formed v1 entries are decoded into dst;
// other versions and v1 entries that are not a 32-byte base64 digest are
// ignored. More than MaxSignatures entries is refused (reason set) before
// anything is decoded.
func parseSignatureList(v string, dst *[MaxSignatures][32]byte) (n int, reason string) {
	if len(v) > MaxCredentialBytes {
		return 0, ReasonCredentialTooLong
	}
	entries := 0
	for rest := v; rest != ""; {
		var e string
		e, rest, _ = strings.Cut(rest, " ")
		if e != "" {
			entries++
		}
	}
	if entries > MaxSignatures {
		return 0, ReasonTooManySignatures
	}
	var d [maxDigestLen]byte
	for rest := v; rest != ""; {
		var e string
		e, rest, _ = strings.Cut(rest, " ")
		b64, ok := strings.CutPrefix(e, standardWebhooksV1)
		if !ok || !decodeBase64SHA256(&d, b64) {
			continue
		}
		copy(dst[n][:], d[:32])
		n++
	}
	if n == 0 {
		return 0, ReasonNoSupportedSignature
	}
	return n, ""
}

// parseAuthorization splits an Authorization value into its scheme word and
// credential (trimmed). ok is false when there is no credential.
func parseAuthorization(v string) (scheme, credential string, ok bool) {
	scheme, credential, found := strings.Cut(v, " ")
	if !found {
		return "", "", false
	}
	credential = trimOWS(credential)
	if scheme == "" || credential == "" {
		return "", "", false
	}
	return scheme, credential, true
}

// decodeBasicPassword decodes a Basic credential (base64 of "user:pass")
// into buf and returns the password bytes, which alias buf. The user is not
// checked: the password is the secret.
func decodeBasicPassword(buf []byte, credential string) (password, grown []byte, ok bool) {
	need := len(credential) + base64.StdEncoding.DecodedLen(len(credential))
	if cap(buf) < need {
		buf = make([]byte, need)
	}
	buf = buf[:need]
	src := buf[:len(credential)]
	copy(src, credential)
	dst := buf[len(credential):]
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		return nil, buf, false
	}
	dst = dst[:n]
	for i, c := range dst {
		if c == ':' {
			return dst[i+1:], buf, true
		}
	}
	return nil, buf, false
}

// queryToken finds the `token` parameter in a raw query. Keys are compared
// after percent-decoding, so "%74oken" is the token too. A query with two
// token parameters is refused (ReasonDuplicateCredential) rather than
// guessing which one a proxy in front of us looked at. An absent or empty
// token reports missing.
func queryToken(raw string) (token string, missing bool, reason string) {
	if len(raw) > MaxCredentialBytes {
		return "", false, ReasonCredentialTooLong
	}
	found := false
	var val string
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if k != queryTokenParam {
			if !strings.ContainsAny(k, "%+") {
				continue
			}
			uk, err := url.QueryUnescape(k)
			if err != nil || uk != queryTokenParam {
				continue
			}
		}
		if found {
			return "", false, ReasonDuplicateCredential
		}
		found, val = true, v
	}
	if !found {
		return "", true, ""
	}
	if strings.ContainsAny(val, "%+") {
		uv, err := url.QueryUnescape(val)
		if err != nil {
			return "", false, ReasonMalformedQuery
		}
		val = uv
	}
	if val == "" {
		return "", true, ""
	}
	return val, false, ""
}
