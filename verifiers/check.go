package verifiers

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"net/http"
	"sync"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Check verifies one delivery while its body streams through Write, so the
// body is hashed while it is read. A Check is reusable: Reset prepares it
// for the next delivery, whether it is zero or used, so a handler can keep
// Checks in a sync.Pool. It is not safe for concurrent use.
//
// A Check keeps the HMAC state of the last secrets it was reset with; a
// pooled Check reset with the same secret rewinds that state instead of
// keying a new one. That state is derived from the secret (as any HMAC key
// schedule is), so a pooled Check holds secret material for as long as it
// lives.
type Check struct {
	kind    Kind
	decided bool    // the verdict was settled in Reset; Write is a no-op
	verdict Verdict // the settled verdict when decided

	nmac  int        // HMAC states in use: 1, or 2 when a previous secret is set
	slots [2]macSlot // 0: current secret, 1: previous secret
	want  [maxDigestLen]byte
	wantN int

	sigs  [MaxSignatures][32]byte // Standard Webhooks v1 signatures received
	nsigs int

	sum [maxDigestLen]byte
	buf []byte // scratch for Basic credentials and the signed-content prefix
}

// macSlot is one keyed HMAC state, remembered with the secret it was keyed
// with so a later Reset with the same secret can reuse it.
type macSlot struct {
	alg    Alg
	secret []byte // copy of the secret the state was keyed with
	h      hash.Hash
}

// Reset prepares c to verify one delivery of vendor v under scheme s (the
// effective scheme: the caller resolves an empty scheme to the vendor's
// default). It reads the credential headers or query now; a delivery whose
// verdict does not depend on the body (tokens, missing or malformed
// credentials) is settled here and Write ignores its body.
func (c *Check) Reset(v integrations.Vendor, s integrations.Scheme, d Delivery, sec Secrets) {
	c.kind, c.decided, c.verdict = KindNone, false, Verdict{}
	c.nmac, c.wantN, c.nsigs = 0, 0, 0
	r, ok := lookup(v, s)
	if !ok {
		c.settle(Invalid, ReasonSchemeNotSupported)
		return
	}
	if len(sec.Current) == 0 {
		c.settle(Invalid, ReasonNoSecret)
		return
	}
	if len(sec.Previous) == 0 {
		sec.Previous = nil
	}
	c.kind = r.Kind
	switch r.Kind {
	case KindMethodHex:
		c.resetMethodHex(r, d, sec)
	case KindBase64MAC:
		c.resetBase64MAC(r, d, sec)
	case KindHexMAC:
		c.resetHexMAC(r, d, sec)
	case KindStandardWebhooks:
		c.resetStdWebhooks(d, sec)
	case KindHeaderToken:
		val, missing, reason := headerValue(d.Header, r.Header)
		c.settleToken(val, missing, reason, ReasonTokenMissing, sec)
	case KindQueryToken:
		val, missing, reason := queryToken(d.RawQuery)
		c.settleToken(val, missing, reason, ReasonTokenMissing, sec)
	case KindBearer, KindBasic:
		c.resetAuthorization(r, d, sec)
	}
}

// Write feeds body bytes. It never fails.
func (c *Check) Write(p []byte) (int, error) {
	if !c.decided {
		for i := 0; i < c.nmac; i++ {
			c.slots[i].h.Write(p)
		}
	}
	return len(p), nil
}

// Verdict answers for the delivery once its whole body was written. It may
// be called more than once.
func (c *Check) Verdict() Verdict {
	if c.decided {
		return c.verdict
	}
	switch c.kind {
	case KindMethodHex, KindBase64MAC, KindHexMAC:
		var match [2]int
		for i := 0; i < c.nmac; i++ {
			sum := c.slots[i].h.Sum(c.sum[:0])
			match[i] = subtle.ConstantTimeCompare(sum, c.want[:c.wantN])
		}
		return verdictOf(match, ReasonSignatureMismatch)
	case KindStandardWebhooks:
		var match [2]int
		for i := 0; i < c.nmac; i++ {
			sum := c.slots[i].h.Sum(c.sum[:0])
			for k := 0; k < c.nsigs; k++ {
				match[i] |= subtle.ConstantTimeCompare(sum, c.sigs[k][:])
			}
		}
		return verdictOf(match, ReasonSignatureMismatch)
	}
	return Verdict{Outcome: Invalid, Reason: ReasonNotPrepared}
}

// verdictPool backs Verify, so that one-shot calls reuse HMAC state too.
var verdictPool = sync.Pool{New: func() any { return new(Check) }}

// Settled reports the verdict when Reset already decided it from the
// headers alone (tokens, missing or malformed credentials); ok is false
// while the body must still be written to judge the delivery. A settled
// invalid verdict lets the caller refuse before reading the body.
func (c *Check) Settled() (v Verdict, ok bool) {
	return c.verdict, c.decided
}

// Verify is Reset, Write(body) and Verdict in one call.
func Verify(v integrations.Vendor, s integrations.Scheme, d Delivery, body []byte, sec Secrets) Verdict {
	c := verdictPool.Get().(*Check)
	c.Reset(v, s, d, sec)
	c.Write(body)
	vd := c.Verdict()
	verdictPool.Put(c)
	return vd
}

// settle fixes the verdict before any body byte is seen.
func (c *Check) settle(o Outcome, reason string) {
	c.decided = true
	c.verdict = Verdict{Outcome: o, Reason: reason}
}

// verdictOf turns constant-time match results for the current (0) and
// previous (1) secret into a Verdict.
func verdictOf(match [2]int, mismatch string) Verdict {
	switch {
	case match[0] == 1:
		return Verdict{Outcome: Valid}
	case match[1] == 1:
		return Verdict{Outcome: Valid, Previous: true}
	}
	return Verdict{Outcome: Invalid, Reason: mismatch}
}

// settleToken compares a received token with both secrets, each compare
// always made, in constant time for a given length.
func (c *Check) settleToken(val string, missing bool, reason, missingReason string, sec Secrets) {
	switch {
	case reason != "":
		c.settle(Invalid, reason)
		return
	case missing:
		c.settle(Missing, missingReason)
		return
	}
	c.buf = append(c.buf[:0], val...)
	c.settleSecret(c.buf, sec)
}

// settleSecret compares received secret bytes with both secrets.
func (c *Check) settleSecret(got []byte, sec Secrets) {
	var match [2]int
	match[0] = subtle.ConstantTimeCompare(got, sec.Current)
	if sec.Previous != nil {
		match[1] = subtle.ConstantTimeCompare(got, sec.Previous)
	}
	c.decided = true
	c.verdict = verdictOf(match, ReasonTokenMismatch)
}

func (c *Check) resetAuthorization(r Rule, d Delivery, sec Secrets) {
	val, ok := c.requireHeader(d.Header, hdrAuthorization, ReasonAuthorizationMissing)
	if !ok {
		return
	}
	scheme, cred, ok := parseAuthorization(val)
	if !ok {
		c.settle(Invalid, ReasonMalformedAuthorization)
		return
	}
	if r.Kind == KindBearer {
		if !equalFoldASCII(scheme, "Bearer") {
			c.settle(Invalid, ReasonWrongAuthorizationScheme)
			return
		}
		c.settleToken(cred, false, "", "", sec)
		return
	}
	if !equalFoldASCII(scheme, "Basic") {
		c.settle(Invalid, ReasonWrongAuthorizationScheme)
		return
	}
	password, buf, ok := decodeBasicPassword(c.buf, cred)
	c.buf = buf
	if !ok {
		c.settle(Invalid, ReasonMalformedAuthorization)
		return
	}
	c.settleSecret(password, sec)
}

func (c *Check) resetMethodHex(r Rule, d Delivery, sec Secrets) {
	val, ok := c.requireHeader(d.Header, r.Header, ReasonSignatureMissing)
	if !ok {
		return
	}
	a, digest, ok := parseMethodHex(val)
	switch {
	case !ok:
		c.settle(Invalid, ReasonMalformedSignature)
		return
	case a == AlgNone || r.Accept&a == 0:
		c.settle(Invalid, ReasonAlgorithmRefused)
		return
	case !decodeHexDigest(&c.want, digest, a.size()):
		c.settle(Invalid, ReasonMalformedSignature)
		return
	}
	c.wantN = a.size()
	c.keySlots(a, sec)
}

func (c *Check) resetHexMAC(r Rule, d Delivery, sec Secrets) {
	val, ok := c.requireHeader(d.Header, r.Header, ReasonSignatureMissing)
	if !ok {
		return
	}
	if !decodeHexDigest(&c.want, val, r.Accept.size()) {
		c.settle(Invalid, ReasonMalformedSignature)
		return
	}
	c.wantN = r.Accept.size()
	c.keySlots(r.Accept, sec)
}

func (c *Check) resetBase64MAC(r Rule, d Delivery, sec Secrets) {
	val, ok := c.requireHeader(d.Header, r.Header, ReasonSignatureMissing)
	if !ok {
		return
	}
	if !decodeBase64SHA256(&c.want, val) {
		c.settle(Invalid, ReasonMalformedSignature)
		return
	}
	c.wantN = AlgSHA256.size()
	c.keySlots(AlgSHA256, sec)
}

func (c *Check) resetStdWebhooks(d Delivery, sec Secrets) {
	sig, ok := c.requireHeader(d.Header, hdrWebhookSignature, ReasonSignatureMissing)
	if !ok {
		return
	}
	id, idMissing, reason := headerValue(d.Header, hdrWebhookID)
	if reason != "" {
		c.settle(Invalid, reason)
		return
	}
	ts, tsMissing, reason := headerValue(d.Header, hdrWebhookTimestamp)
	switch {
	case reason != "":
		c.settle(Invalid, reason)
		return
	case idMissing || tsMissing:
		c.settle(Invalid, ReasonIncompleteSigningHeaders)
		return
	}
	unix, ok := parseTimestamp(ts)
	if !ok {
		c.settle(Invalid, ReasonMalformedTimestamp)
		return
	}
	now := d.Now
	if now.IsZero() {
		now = time.Now()
	}
	if !withinWindow(now.Unix(), unix, d.Tolerance) {
		c.settle(Invalid, ReasonTimestampOutsideWindow)
		return
	}
	n, reason := parseSignatureList(sig, &c.sigs)
	if reason != "" {
		c.settle(Invalid, reason)
		return
	}
	c.nsigs = n
	if !c.keySlots(algStdWebhooks, sec) {
		c.settle(Invalid, ReasonBadSigningSecret)
		return
	}
	c.buf = append(c.buf[:0], id...)
	c.buf = append(c.buf, '.')
	c.buf = append(c.buf, ts...)
	c.buf = append(c.buf, '.')
	c.Write(c.buf)
}

// withinWindow reports whether ts is at most tolerance (zero:
// SigningWindow) from now, both in unix seconds. ts has at most 15 digits,
// so nothing overflows.
func withinWindow(now, ts int64, tolerance time.Duration) bool {
	if tolerance <= 0 {
		tolerance = SigningWindow
	}
	w := int64(tolerance / time.Second)
	d := now - ts
	return d <= w && d >= -w
}

// keySlots readies one HMAC state per secret. It reports false when the
// current secret cannot key a (Standard Webhooks) MAC; a previous secret
// that cannot is ignored.
func (c *Check) keySlots(a Alg, sec Secrets) bool {
	if !c.slots[0].rekey(a, sec.Current) {
		return false
	}
	c.nmac = 1
	if sec.Previous != nil && c.slots[1].rekey(a, sec.Previous) {
		c.nmac = 2
	}
	return true
}

// rekey readies s for Alg a and secret: a rewind when s was last keyed with
// the same Alg and secret, else a new HMAC.
func (s *macSlot) rekey(a Alg, secret []byte) bool {
	if s.h != nil && s.alg == a && len(s.secret) == len(secret) && subtle.ConstantTimeCompare(s.secret, secret) == 1 {
		s.h.Reset()
		return true
	}
	s.h, s.alg, s.secret = nil, AlgNone, s.secret[:0]
	k := secret
	if a == algStdWebhooks {
		var ok bool
		if k, ok = signingKey(secret); !ok {
			return false
		}
	}
	s.h = hmac.New(a.newHash(), k)
	s.alg = a
	s.secret = append(s.secret, secret...)
	return true
}

// signingKey is the Standard Webhooks HMAC key of a secret: the base64
// decoding of what follows its whsec_ prefix, or of the whole secret when it
// has none.
func signingKey(secret []byte) ([]byte, bool) {
	b := secret
	if len(b) >= len(signingSecretPrefix) && string(b[:len(signingSecretPrefix)]) == signingSecretPrefix {
		b = b[len(signingSecretPrefix):]
	}
	key := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(key, b)
	if err != nil {
		n, err = base64.RawStdEncoding.Decode(key, b)
	}
	if err != nil || n == 0 {
		return nil, false
	}
	return key[:n], true
}

// equalFoldASCII compares an Authorization scheme word without regard to
// ASCII case.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// requireHeader reads a credential header and settles the verdict when it
// is absent (Missing, with missingReason) or unusable (Invalid); ok means
// verification goes on with the value.
func (c *Check) requireHeader(h http.Header, name, missingReason string) (val string, ok bool) {
	val, missing, reason := headerValue(h, name)
	switch {
	case reason != "":
		c.settle(Invalid, reason)
		return "", false
	case missing:
		c.settle(Missing, missingReason)
		return "", false
	}
	return val, true
}
