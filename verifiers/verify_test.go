package verifiers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // building GitHub's legacy header and a refused Bitbucket one
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// The official vectors from VENDORS.md, checked against Verify. They are
// independent of Sign.
func TestGitHubOfficialVector(t *testing.T) {
	d := Delivery{Header: hdr("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")}
	vd := Verify(integrations.GitHub, integrations.SchemeHMAC, d, []byte("Hello, World!"), secrets("It's a Secret to Everybody"))
	if !vd.OK() || vd.Previous {
		t.Fatalf("official GitHub vector: got %+v", vd)
	}
	vd = Verify(integrations.GitHub, integrations.SchemeHMAC, d, []byte("Hello, World?"), secrets("It's a Secret to Everybody"))
	if vd.Outcome != Invalid || vd.Reason != ReasonSignatureMismatch {
		t.Fatalf("tampered official vector: got %+v", vd)
	}
}

func TestStandardWebhooksOfficialVector(t *testing.T) {
	const ts = 1614265330
	h := hdr(
		"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		"webhook-timestamp", "1614265330",
		"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	)
	body := []byte(`{"test": 2432232314}`)
	for _, secret := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		vd := Verify(integrations.GitLab, integrations.SchemeSigning, Delivery{Header: h, Now: time.Unix(ts, 0)}, body, secrets(secret))
		if !vd.OK() {
			t.Fatalf("official Standard Webhooks vector with secret form %d: got %+v", len(secret), vd)
		}
	}
	vd := Verify(integrations.GitLab, integrations.SchemeSigning, Delivery{Header: h, Now: time.Unix(ts+6*60, 0)}, body, secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	if vd.Outcome != Invalid || vd.Reason != ReasonTimestampOutsideWindow {
		t.Fatalf("official vector 6 minutes later: got %+v", vd)
	}
}

func TestSignGitHubOfficialVector(t *testing.T) {
	h, q, err := Sign(integrations.GitHub, integrations.SchemeHMAC, []byte("It's a Secret to Everybody"), []byte("Hello, World!"), testNow, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("X-Hub-Signature-256"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; got != want || q != "" {
		t.Fatalf("Sign: got %q, query %q; want %q", got, q, want)
	}
}

func TestSignStandardWebhooksOfficialVector(t *testing.T) {
	h, _, err := Sign(integrations.GitLab, integrations.SchemeSigning, []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
		[]byte(`{"test": 2432232314}`), time.Unix(1614265330, 0), "msg_p5jXN8AQM9LWM0D4loKWxJek")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Webhook-Signature"); got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("Sign: got %q", got)
	}
	if h.Get("Webhook-Timestamp") != "1614265330" || h.Get("Webhook-Id") != "msg_p5jXN8AQM9LWM0D4loKWxJek" {
		t.Fatalf("Sign headers: %v", h)
	}
}

// TestRulesMatchVendorSchemes holds the verifier table and integrations'
// scheme table together: a scheme a vendor supports has a Rule, and no Rule
// exists for one it does not.
func TestRulesMatchVendorSchemes(t *testing.T) {
	n := 0
	for _, v := range integrations.Vendors() {
		for _, s := range allSchemes {
			_, has := rules[ruleKey{v, s}]
			if has != v.Supports(s) {
				t.Errorf("%s/%s: Rule %v, Supports %v", v, s, has, v.Supports(s))
			}
			if has {
				n++
			}
		}
	}
	if n != len(rules) {
		t.Errorf("rules has %d rows, %d match a vendor scheme", len(rules), n)
	}
	for _, k := range []string{hdrHubSignature256, hdrHubSignature, hdrServiceNowSig, hdrAuthorization, hdrGitLabToken,
		hdrJenkinsToken, hdrBambooToken, hdrWebhookID, hdrWebhookTimestamp, hdrWebhookSignature} {
		if textproto.CanonicalMIMEHeaderKey(k) != k {
			t.Errorf("header constant %q is not canonical", k)
		}
	}
}

// TestVendorSchemeMatrix runs the cases every vendor × scheme must pass.
func TestVendorSchemeMatrix(t *testing.T) {
	body := []byte(testBodyStr)
	for _, p := range supportedPairs() {
		t.Run(p.String(), func(t *testing.T) {
			r, _ := lookup(p.v, p.s)
			signed := signedDelivery(t, p, testSecret, body, testNow)

			if vd := verify(t, p, signed, body, secrets(testSecret)); !vd.OK() || vd.Previous {
				t.Errorf("valid: got %+v", vd)
			}
			if vd := verify(t, p, Delivery{Header: http.Header{}, Now: testNow}, body, secrets(testSecret)); vd.Outcome != Missing {
				t.Errorf("missing: got %+v", vd)
			}
			if vd := verify(t, p, signedDelivery(t, p, testOther, body, testNow), body, secrets(testSecret)); vd.Outcome != Invalid {
				t.Errorf("wrong secret: got %+v", vd)
			}
			tampered := bytes.Clone(body)
			tampered[len(tampered)/2] ^= 0x20
			vd := verify(t, p, signed, tampered, secrets(testSecret))
			if r.Kind.BodyMAC() && (vd.Outcome != Invalid || vd.Reason != ReasonSignatureMismatch) {
				t.Errorf("tampered body under a body MAC: got %+v", vd)
			}
			if !r.Kind.BodyMAC() && !vd.OK() {
				t.Errorf("token schemes do not cover the body: got %+v", vd)
			}

			byPrev := signedDelivery(t, p, testPrev, body, testNow)
			if vd := verify(t, p, byPrev, body, Secrets{Current: []byte(testSecret), Previous: []byte(testPrev)}); !vd.OK() || !vd.Previous {
				t.Errorf("previous secret during overlap: got %+v", vd)
			}
			if vd := verify(t, p, signed, body, Secrets{Current: []byte(testSecret), Previous: []byte(testPrev)}); !vd.OK() || vd.Previous {
				t.Errorf("current secret during overlap: got %+v", vd)
			}
			if vd := verify(t, p, byPrev, body, Secrets{Current: []byte(testSecret), Previous: []byte{}}); vd.Outcome != Invalid {
				t.Errorf("previous secret after overlap: got %+v", vd)
			}
			if vd := verify(t, p, signed, body, Secrets{}); vd.Outcome != Invalid || vd.Reason != ReasonNoSecret {
				t.Errorf("no current secret: got %+v", vd)
			}

			// A pinned scheme accepts nothing else: each sibling scheme's
			// credential, made with the right secret, is refused.
			for _, other := range schemesOf(p.v) {
				if other == p.s {
					continue
				}
				od := signedDelivery(t, pair{p.v, other}, testSecret, body, testNow)
				if vd := verify(t, p, od, body, secrets(testSecret)); vd.OK() {
					t.Errorf("pinned %s accepted the %s credential", p.s, other)
				}
			}
		})
	}
}

func TestSchemeNotSupported(t *testing.T) {
	body := []byte(testBodyStr)
	gh := signedDelivery(t, pair{integrations.GitHub, integrations.SchemeHMAC}, testSecret, body, testNow)
	for _, p := range []pair{
		{"nosuch", integrations.SchemeHMAC},
		{integrations.GitHub, ""},
		{integrations.GitHub, "HMAC"},
		{integrations.GitHub, integrations.SchemeToken},
		{integrations.Bamboo, integrations.SchemeBearer},
		{integrations.Bitbucket, integrations.SchemeHMACSHA1},
	} {
		vd := verify(t, p, gh, body, secrets(testSecret))
		if vd.Outcome != Invalid || vd.Reason != ReasonSchemeNotSupported {
			t.Errorf("%s: got %+v", p, vd)
		}
		if _, _, err := Sign(p.v, p.s, []byte(testSecret), body, testNow, ""); err != ErrSchemeNotSupported {
			t.Errorf("Sign %s: err %v", p, err)
		}
	}
}

func mac(newHash func() hash.Hash, key, body []byte) []byte {
	m := hmac.New(newHash, key)
	m.Write(body)
	return m.Sum(nil)
}

type verifyCase struct {
	name     string
	p        pair
	header   http.Header
	query    string
	body     string
	now      time.Time
	sec      Secrets
	want     Outcome
	reason   string // checked when set
	previous bool
}

func runCases(t *testing.T, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			sec := tc.sec
			if sec.Current == nil {
				sec = secrets(testSecret)
			}
			body := tc.body
			if body == "" {
				body = testBodyStr
			}
			d := Delivery{Header: tc.header, RawQuery: tc.query, Now: now}
			vd := verify(t, tc.p, d, []byte(body), sec)
			if vd.Outcome != tc.want || (tc.reason != "" && vd.Reason != tc.reason) || vd.Previous != tc.previous {
				t.Errorf("got %+v, want %s %q previous=%v", vd, tc.want, tc.reason, tc.previous)
			}
			// The streaming path agrees with the one-shot path.
			var c Check
			c.Reset(tc.p.v, tc.p.s, d, sec)
			for i := 0; i < len(body); i += 7 {
				c.Write([]byte(body[i:min(i+7, len(body))]))
			}
			if got := c.Verdict(); got != vd {
				t.Errorf("streamed verdict %+v differs from Verify %+v", got, vd)
			}
		})
	}
}

func TestMethodHexSchemes(t *testing.T) {
	body := []byte(testBodyStr)
	key := []byte(testSecret)
	sha256Hex := hex.EncodeToString(mac(sha256.New, key, body))
	sha1Hex := hex.EncodeToString(mac(sha1.New, key, body))
	sha512Hex := hex.EncodeToString(mac(sha512.New, key, body))
	gh := pair{integrations.GitHub, integrations.SchemeHMAC}
	gh1 := pair{integrations.GitHub, integrations.SchemeHMACSHA1}
	jira := pair{integrations.Jira, integrations.SchemeHMAC}
	bb := pair{integrations.Bitbucket, integrations.SchemeHMAC}
	long := "sha256=" + sha256Hex + strings.Repeat(" ", MaxCredentialBytes)

	cases := []verifyCase{
		{name: "github valid", p: gh, header: hdr("X-Hub-Signature-256", "sha256="+sha256Hex), want: Valid},
		{name: "github uppercase hex", p: gh, header: hdr("X-Hub-Signature-256", "sha256="+strings.ToUpper(sha256Hex)), want: Valid},
		{name: "github uppercase method", p: gh, header: hdr("X-Hub-Signature-256", "SHA256="+sha256Hex), want: Valid},
		{name: "github bad hex", p: gh, header: hdr("X-Hub-Signature-256", "sha256=zz"+sha256Hex[2:]), want: Invalid, reason: ReasonMalformedSignature},
		{name: "github truncated digest", p: gh, header: hdr("X-Hub-Signature-256", "sha256="+sha256Hex[:62]), want: Invalid, reason: ReasonMalformedSignature},
		{name: "github odd length digest", p: gh, header: hdr("X-Hub-Signature-256", "sha256="+sha256Hex[:63]), want: Invalid, reason: ReasonMalformedSignature},
		{name: "github overlong digest", p: gh, header: hdr("X-Hub-Signature-256", "sha256="+sha256Hex+"00"), want: Invalid, reason: ReasonMalformedSignature},
		{name: "github no prefix", p: gh, header: hdr("X-Hub-Signature-256", sha256Hex), want: Invalid, reason: ReasonMalformedSignature},
		{name: "github empty digest", p: gh, header: hdr("X-Hub-Signature-256", "sha256="), want: Invalid, reason: ReasonMalformedSignature},
		{name: "github sha1 prefix in the sha256 header", p: gh, header: hdr("X-Hub-Signature-256", "sha1="+sha1Hex), want: Invalid, reason: ReasonAlgorithmRefused},
		{name: "github sha512 refused", p: gh, header: hdr("X-Hub-Signature-256", "sha512="+sha512Hex), want: Invalid, reason: ReasonAlgorithmRefused},
		{name: "github unknown method", p: gh, header: hdr("X-Hub-Signature-256", "md5="+sha256Hex), want: Invalid, reason: ReasonAlgorithmRefused},
		{name: "github wrong digest", p: gh, header: hdr("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), want: Invalid, reason: ReasonSignatureMismatch},
		{name: "github sha1 header ignored unless pinned", p: gh, header: hdr("X-Hub-Signature", "sha1="+sha1Hex), want: Missing, reason: ReasonSignatureMissing},
		{name: "github valid sha1 does not rescue a bad sha256", p: gh, header: hdr("X-Hub-Signature", "sha1="+sha1Hex, "X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), want: Invalid},
		{name: "github empty header is missing", p: gh, header: hdr("X-Hub-Signature-256", ""), want: Missing},
		{name: "github duplicate header", p: gh, header: hdr("X-Hub-Signature-256", "sha256="+sha256Hex, "X-Hub-Signature-256", "sha256="+sha256Hex), want: Invalid, reason: ReasonDuplicateCredential},
		{name: "github header too long", p: gh, header: http.Header{"X-Hub-Signature-256": {long}}, want: Invalid, reason: ReasonCredentialTooLong},
		{name: "github pinned sha1 valid", p: gh1, header: hdr("X-Hub-Signature", "sha1="+sha1Hex), want: Valid},
		{name: "github pinned sha1 uppercase", p: gh1, header: hdr("X-Hub-Signature", "sha1="+strings.ToUpper(sha1Hex)), want: Valid},
		{name: "github pinned sha1 ignores sha256 header", p: gh1, header: hdr("X-Hub-Signature-256", "sha256="+sha256Hex), want: Missing},
		{name: "github pinned sha1 refuses sha256 method", p: gh1, header: hdr("X-Hub-Signature", "sha256="+sha256Hex), want: Invalid, reason: ReasonAlgorithmRefused},
		{name: "github pinned sha1 truncated", p: gh1, header: hdr("X-Hub-Signature", "sha1="+sha1Hex[:38]), want: Invalid, reason: ReasonMalformedSignature},
		{name: "jira valid", p: jira, header: hdr("X-Hub-Signature", "sha256="+sha256Hex), want: Valid},
		{name: "jira sha1 refused", p: jira, header: hdr("X-Hub-Signature", "sha1="+sha1Hex), want: Invalid, reason: ReasonAlgorithmRefused},
		{name: "jira sha256 header name ignored", p: jira, header: hdr("X-Hub-Signature-256", "sha256="+sha256Hex), want: Missing},
		{name: "jira token query ignored", p: jira, query: "token=" + testSecret, want: Missing},
		{name: "bitbucket sha256", p: bb, header: hdr("X-Hub-Signature", "sha256="+sha256Hex), want: Valid},
		{name: "bitbucket sha512", p: bb, header: hdr("X-Hub-Signature", "sha512="+sha512Hex), want: Valid},
		{name: "bitbucket sha512 uppercase", p: bb, header: hdr("X-Hub-Signature", "sha512="+strings.ToUpper(sha512Hex)), want: Valid},
		{name: "bitbucket sha512 truncated to sha256 length", p: bb, header: hdr("X-Hub-Signature", "sha512="+sha512Hex[:64]), want: Invalid, reason: ReasonMalformedSignature},
		{name: "bitbucket sha256 digest under sha512 method", p: bb, header: hdr("X-Hub-Signature", "sha512="+sha256Hex), want: Invalid, reason: ReasonMalformedSignature},
		{name: "bitbucket sha1 refused", p: bb, header: hdr("X-Hub-Signature", "sha1="+sha1Hex), want: Invalid, reason: ReasonAlgorithmRefused},
		{name: "bitbucket md5 refused", p: bb, header: hdr("X-Hub-Signature", "md5="+sha256Hex[:32]), want: Invalid, reason: ReasonAlgorithmRefused},
		{name: "bitbucket bad hex", p: bb, header: hdr("X-Hub-Signature", "sha256="+sha256Hex[:63]+"g"), want: Invalid, reason: ReasonMalformedSignature},
		{name: "bitbucket previous sha512", p: bb, header: hdr("X-Hub-Signature", "sha512="+hex.EncodeToString(mac(sha512.New, []byte(testPrev), body))),
			sec: Secrets{Current: key, Previous: []byte(testPrev)}, want: Valid, previous: true},
	}
	runCases(t, cases)
}

func TestServiceNowHMAC(t *testing.T) {
	sn := pair{integrations.ServiceNow, integrations.SchemeHMAC}
	sum := mac(sha256.New, []byte(testSecret), []byte(testBodyStr))
	b64 := base64.StdEncoding.EncodeToString(sum)
	runCases(t, []verifyCase{
		{name: "valid", p: sn, header: hdr("X-ServiceNow-Signature", b64), want: Valid},
		{name: "unpadded refused", p: sn, header: hdr("X-ServiceNow-Signature", strings.TrimRight(b64, "=")), want: Invalid, reason: ReasonMalformedSignature},
		{name: "url alphabet refused", p: sn, header: hdr("X-ServiceNow-Signature", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))), want: Invalid},
		{name: "hex refused", p: sn, header: hdr("X-ServiceNow-Signature", hex.EncodeToString(sum)), want: Invalid, reason: ReasonMalformedSignature},
		{name: "truncated", p: sn, header: hdr("X-ServiceNow-Signature", base64.StdEncoding.EncodeToString(sum[:31])), want: Invalid, reason: ReasonMalformedSignature},
		{name: "bad base64", p: sn, header: hdr("X-ServiceNow-Signature", "!"+b64[1:]), want: Invalid, reason: ReasonMalformedSignature},
		{name: "prefixed like github", p: sn, header: hdr("X-ServiceNow-Signature", "sha256="+b64), want: Invalid, reason: ReasonMalformedSignature},
		{name: "wrong mac", p: sn, header: hdr("X-ServiceNow-Signature", base64.StdEncoding.EncodeToString(make([]byte, 32))), want: Invalid, reason: ReasonSignatureMismatch},
		{name: "bearer ignored", p: sn, header: hdr("Authorization", "Bearer "+testSecret), want: Missing},
	})
}

func stdHeaders(id, ts, sig string) http.Header {
	return hdr("Webhook-Id", id, "Webhook-Timestamp", ts, "Webhook-Signature", sig)
}

func TestStandardWebhooks(t *testing.T) {
	gl := pair{integrations.GitLab, integrations.SchemeSigning}
	body := []byte(testBodyStr)
	signAt := func(secret string, at time.Time) http.Header {
		h, _, err := Sign(gl.v, gl.s, []byte(secret), body, at, "msg_1")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	good := signAt(testSecret, testNow)
	ts := good.Get("Webhook-Timestamp")
	sig := good.Get("Webhook-Signature")
	other := signAt(testOther, testNow).Get("Webhook-Signature")
	many := strings.Repeat(other+" ", MaxSignatures) + sig
	cases := []verifyCase{
		{name: "valid", p: gl, header: good, want: Valid},
		{name: "several signatures, the last valid", p: gl, header: stdHeaders("msg_1", ts, other+" v1,bm90LWJhc2U2NA== v2,"+sig[3:]+" "+sig), want: Valid},
		{name: "several signatures, the first valid", p: gl, header: stdHeaders("msg_1", ts, sig+"  "+other), want: Valid},
		{name: "several signatures, none valid", p: gl, header: stdHeaders("msg_1", ts, other+" "+other), want: Invalid, reason: ReasonSignatureMismatch},
		{name: "other versions ignored", p: gl, header: stdHeaders("msg_1", ts, "v1a,"+sig[3:]+" v2,"+sig[3:]), want: Invalid, reason: ReasonNoSupportedSignature},
		{name: "unversioned refused", p: gl, header: stdHeaders("msg_1", ts, sig[3:]), want: Invalid, reason: ReasonNoSupportedSignature},
		{name: "16 entries accepted", p: gl, header: stdHeaders("msg_1", ts, strings.Repeat(other+" ", MaxSignatures-1)+sig), want: Valid},
		{name: "17 entries refused", p: gl, header: stdHeaders("msg_1", ts, many), want: Invalid, reason: ReasonTooManySignatures},
		{name: "timestamp +6min refused", p: gl, header: signAt(testSecret, testNow.Add(6*time.Minute)), want: Invalid, reason: ReasonTimestampOutsideWindow},
		{name: "timestamp -6min refused", p: gl, header: signAt(testSecret, testNow.Add(-6*time.Minute)), want: Invalid, reason: ReasonTimestampOutsideWindow},
		{name: "timestamp +4min accepted", p: gl, header: signAt(testSecret, testNow.Add(4*time.Minute)), want: Valid},
		{name: "timestamp -4min accepted", p: gl, header: signAt(testSecret, testNow.Add(-4*time.Minute)), want: Valid},
		{name: "timestamp exactly +5min accepted", p: gl, header: signAt(testSecret, testNow.Add(5*time.Minute)), want: Valid},
		{name: "timestamp +5min1s refused", p: gl, header: signAt(testSecret, testNow.Add(5*time.Minute+time.Second)), want: Invalid, reason: ReasonTimestampOutsideWindow},
		{name: "non-numeric timestamp", p: gl, header: stdHeaders("msg_1", "yesterday", sig), want: Invalid, reason: ReasonMalformedTimestamp},
		{name: "signed timestamp", p: gl, header: stdHeaders("msg_1", "+"+ts, sig), want: Invalid, reason: ReasonMalformedTimestamp},
		{name: "fractional timestamp", p: gl, header: stdHeaders("msg_1", ts+".0", sig), want: Invalid, reason: ReasonMalformedTimestamp},
		{name: "huge timestamp", p: gl, header: stdHeaders("msg_1", strings.Repeat("9", 40), sig), want: Invalid, reason: ReasonMalformedTimestamp},
		{name: "millisecond timestamp", p: gl, header: stdHeaders("msg_1", ts+"000", sig), want: Invalid, reason: ReasonTimestampOutsideWindow},
		{name: "id changed", p: gl, header: stdHeaders("msg_2", ts, sig), want: Invalid, reason: ReasonSignatureMismatch},
		{name: "missing id", p: gl, header: hdr("Webhook-Timestamp", ts, "Webhook-Signature", sig), want: Invalid, reason: ReasonIncompleteSigningHeaders},
		{name: "missing timestamp", p: gl, header: hdr("Webhook-Id", "msg_1", "Webhook-Signature", sig), want: Invalid, reason: ReasonIncompleteSigningHeaders},
		{name: "missing signature", p: gl, header: hdr("Webhook-Id", "msg_1", "Webhook-Timestamp", ts), want: Missing, reason: ReasonSignatureMissing},
		{name: "duplicate timestamp", p: gl, header: http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {ts, ts}, "Webhook-Signature": {sig}}, want: Invalid, reason: ReasonDuplicateCredential},
		{name: "gitlab token ignored", p: gl, header: hdr("X-Gitlab-Token", testSecret), want: Missing},
		{name: "bad signing secret", p: gl, header: good, sec: secrets("whsec_not*base64!"), want: Invalid, reason: ReasonBadSigningSecret},
		{name: "bad previous secret ignored", p: gl, header: good, sec: Secrets{Current: []byte(testSecret), Previous: []byte("whsec_%%%")}, want: Valid},
		{name: "previous", p: gl, header: signAt(testPrev, testNow), sec: Secrets{Current: []byte(testSecret), Previous: []byte(testPrev)}, want: Valid, previous: true},
	}
	runCases(t, cases)
}

func TestTokenSchemes(t *testing.T) {
	const tok = "tok-3f9a1c"
	basic := func(userpass string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass)) }
	sec := secrets(tok)
	sn := pair{integrations.ServiceNow, integrations.SchemeBearer}
	az := pair{integrations.AzureDevOps, integrations.SchemeBasic}
	jk := pair{integrations.Jenkins, integrations.SchemeToken}
	bam := pair{integrations.Bamboo, integrations.SchemeToken}
	gl := pair{integrations.GitLab, integrations.SchemeToken}
	jira := pair{integrations.Jira, integrations.SchemeToken}
	me := pair{integrations.ManageEngine, integrations.SchemeToken}
	runCases(t, []verifyCase{
		{name: "bearer", p: sn, header: hdr("Authorization", "Bearer "+tok), sec: sec, want: Valid},
		{name: "bearer lowercase word", p: sn, header: hdr("Authorization", "bearer "+tok), sec: sec, want: Valid},
		{name: "bearer uppercase word", p: sn, header: hdr("Authorization", "BEARER "+tok), sec: sec, want: Valid},
		{name: "bearer extra spaces", p: sn, header: hdr("Authorization", "Bearer   "+tok+" "), sec: sec, want: Valid},
		{name: "bearer wrong token", p: sn, header: hdr("Authorization", "Bearer "+tok+"x"), sec: sec, want: Invalid, reason: ReasonTokenMismatch},
		{name: "bearer prefix of token", p: sn, header: hdr("Authorization", "Bearer "+tok[:5]), sec: sec, want: Invalid, reason: ReasonTokenMismatch},
		{name: "bearer word only", p: sn, header: hdr("Authorization", "Bearer"), sec: sec, want: Invalid, reason: ReasonMalformedAuthorization},
		{name: "bearer without word", p: sn, header: hdr("Authorization", tok), sec: sec, want: Invalid, reason: ReasonMalformedAuthorization},
		{name: "token word refused", p: sn, header: hdr("Authorization", "Token "+tok), sec: sec, want: Invalid, reason: ReasonWrongAuthorizationScheme},
		{name: "basic under bearer", p: sn, header: hdr("Authorization", basic("hookgate:"+tok)), sec: sec, want: Invalid, reason: ReasonWrongAuthorizationScheme},
		{name: "two authorization headers", p: sn, header: hdr("Authorization", "Bearer "+tok, "Authorization", "Bearer "+tok), sec: sec, want: Invalid, reason: ReasonDuplicateCredential},
		{name: "bearer missing", p: sn, header: hdr("X-Api-Token", tok), sec: sec, want: Missing, reason: ReasonAuthorizationMissing},
		{name: "basic", p: az, header: hdr("Authorization", basic("hookgate:"+tok)), sec: sec, want: Valid},
		{name: "basic any user", p: az, header: hdr("Authorization", basic("azure:"+tok)), sec: sec, want: Valid},
		{name: "basic lowercase word", p: az, header: hdr("Authorization", "basic "+base64.StdEncoding.EncodeToString([]byte("u:"+tok))), sec: sec, want: Valid},
		{name: "basic password with colon", p: az, header: hdr("Authorization", basic("u:a:b")), sec: secrets("a:b"), want: Valid},
		{name: "basic wrong password", p: az, header: hdr("Authorization", basic("hookgate:nope")), sec: sec, want: Invalid, reason: ReasonTokenMismatch},
		{name: "basic secret as user", p: az, header: hdr("Authorization", basic(tok+":")), sec: sec, want: Invalid, reason: ReasonTokenMismatch},
		{name: "basic no colon", p: az, header: hdr("Authorization", basic(tok)), sec: sec, want: Invalid, reason: ReasonMalformedAuthorization},
		{name: "basic bad base64", p: az, header: hdr("Authorization", "Basic %%%"), sec: sec, want: Invalid, reason: ReasonMalformedAuthorization},
		{name: "bearer under basic", p: az, header: hdr("Authorization", "Bearer "+tok), sec: sec, want: Invalid, reason: ReasonWrongAuthorizationScheme},
		{name: "jenkins token", p: jk, header: hdr("X-Api-Token", tok), sec: sec, want: Valid},
		{name: "jenkins token wrong", p: jk, header: hdr("X-Api-Token", "x"), sec: sec, want: Invalid, reason: ReasonTokenMismatch},
		{name: "jenkins token in authorization ignored", p: jk, header: hdr("Authorization", "Bearer "+tok), sec: sec, want: Missing, reason: ReasonTokenMissing},
		{name: "bamboo token", p: bam, header: hdr("X-Bamboo-Token", tok), sec: sec, want: Valid},
		{name: "bamboo token empty", p: bam, header: hdr("X-Bamboo-Token", "  "), sec: sec, want: Missing},
		{name: "gitlab token", p: gl, header: hdr("X-Gitlab-Token", tok), sec: sec, want: Valid},
		{name: "gitlab token previous", p: gl, header: hdr("X-Gitlab-Token", "old"), sec: Secrets{Current: []byte(tok), Previous: []byte("old")}, want: Valid, previous: true},
		{name: "gitlab token current equals previous", p: gl, header: hdr("X-Gitlab-Token", tok), sec: Secrets{Current: []byte(tok), Previous: []byte(tok)}, want: Valid},
		{name: "gitlab token in query ignored", p: gl, query: "token=" + tok, sec: sec, want: Missing},
		{name: "query token", p: jira, query: "token=" + tok, sec: sec, want: Valid},
		{name: "query token among others", p: jira, query: "user_id=5&token=" + tok + "&issue=SEC-1", sec: sec, want: Valid},
		{name: "query token escaped key", p: jira, query: "%74oken=" + tok, sec: sec, want: Valid},
		{name: "query token escaped value", p: me, query: "token=a%2Bb%26c", sec: secrets("a+b&c"), want: Valid},
		{name: "query token plus is space", p: me, query: "token=a+b", sec: secrets("a b"), want: Valid},
		{name: "query token wrong", p: jira, query: "token=nope", sec: sec, want: Invalid, reason: ReasonTokenMismatch},
		{name: "query token duplicate refused", p: jira, query: "token=" + tok + "&token=" + tok, sec: sec, want: Invalid, reason: ReasonDuplicateCredential},
		{name: "query token duplicate by escape refused", p: jira, query: "token=nope&%74oken=" + tok, sec: sec, want: Invalid, reason: ReasonDuplicateCredential},
		{name: "query token bad escape", p: jira, query: "token=%zz", sec: sec, want: Invalid, reason: ReasonMalformedQuery},
		{name: "query token empty", p: jira, query: "token=", sec: sec, want: Missing, reason: ReasonTokenMissing},
		{name: "query token bare key", p: jira, query: "token", sec: sec, want: Missing},
		{name: "query token absent", p: jira, query: "tokens=" + tok + "&xtoken=" + tok, sec: sec, want: Missing},
		{name: "query token case matters", p: jira, query: "Token=" + tok, sec: sec, want: Missing},
		{name: "query semicolon is not a separator", p: jira, query: "a=1;token=" + tok, sec: sec, want: Missing},
		{name: "query too long", p: jira, query: "token=" + tok + "&pad=" + strings.Repeat("a", MaxCredentialBytes), sec: sec, want: Invalid, reason: ReasonCredentialTooLong},
		{name: "query token in header ignored", p: me, header: hdr("Authorization", "Bearer "+tok), sec: sec, want: Missing},
	})
}

// TestCheckReuse runs one Check through vendors and secrets in turn, so a
// cached HMAC state can never verify for another secret or algorithm.
func TestCheckReuse(t *testing.T) {
	body := []byte(testBodyStr)
	var c Check
	if vd := c.Verdict(); vd.Outcome != Invalid || vd.Reason != ReasonNotPrepared {
		t.Fatalf("zero Check: %+v", vd)
	}
	c.Write(body) // harmless on a zero Check
	secretsSeq := []string{testSecret, testSecret, testOther, testSecret, testPrev}
	for round := 0; round < 2; round++ {
		for _, p := range supportedPairs() {
			for i, s := range secretsSeq {
				d := signedDelivery(t, p, secretsSeq[(i+1)%len(secretsSeq)], body, testNow)
				want := s == secretsSeq[(i+1)%len(secretsSeq)]
				c.Reset(p.v, p.s, d, secrets(s))
				c.Write(body)
				if got := c.Verdict().OK(); got != want {
					t.Fatalf("round %d %s secret %d: OK=%v want %v", round, p, i, got, want)
				}
				if c.Verdict().OK() != want {
					t.Fatalf("Verdict is not idempotent")
				}
			}
		}
	}
}

func TestSignErrors(t *testing.T) {
	if _, _, err := Sign(integrations.GitHub, integrations.SchemeHMAC, nil, nil, testNow, ""); err != ErrNoSecret {
		t.Errorf("empty secret: %v", err)
	}
	if _, _, err := Sign(integrations.GitLab, integrations.SchemeSigning, []byte("whsec_***"), nil, testNow, ""); err != ErrBadSigningSecret {
		t.Errorf("bad signing secret: %v", err)
	}
	h1, _, _ := Sign(integrations.GitLab, integrations.SchemeSigning, []byte(testSecret), []byte("a"), testNow, "")
	h2, _, _ := Sign(integrations.GitLab, integrations.SchemeSigning, []byte(testSecret), []byte("a"), testNow, "")
	if h1.Get("Webhook-Id") == "" || h1.Get("Webhook-Id") != h2.Get("Webhook-Id") {
		t.Errorf("derived webhook ids: %q %q", h1.Get("Webhook-Id"), h2.Get("Webhook-Id"))
	}
}

// TestSignRoundTrip: whatever Sign produces, Verify accepts, for every
// vendor × scheme and a few bodies (empty, binary, large).
func TestSignRoundTrip(t *testing.T) {
	bodies := [][]byte{nil, []byte("{}"), []byte(testBodyStr), {0, 0xff, '\n', 0x80}, bytes.Repeat([]byte("x"), 1<<20)}
	secretsList := []string{testSecret, "c2hvcnQ=", "plain-token-0123456789", "with space+plus&amp=eq"}
	for _, p := range supportedPairs() {
		for _, s := range secretsList {
			if p.s == integrations.SchemeSigning {
				if _, ok := signingKey([]byte(s)); !ok {
					continue
				}
			}
			for _, b := range bodies {
				d := signedDelivery(t, p, s, b, testNow)
				if vd := verify(t, p, d, b, secrets(s)); !vd.OK() {
					t.Errorf("%s secret %q body %d bytes: %+v", p, s, len(b), vd)
				}
			}
		}
	}
}

// TestSettledBeforeBody checks what the headers alone decide, for every
// vendor and scheme: a missing or wrong credential under a token scheme,
// and a missing credential under any scheme, is settled before a byte of
// body; a body MAC with a well-formed signature never is, and a settled
// verdict is the one Verdict gives after the body.
func TestSettledBeforeBody(t *testing.T) {
	body := []byte(testBodyStr)
	for _, p := range supportedPairs() {
		t.Run(p.String(), func(t *testing.T) {
			r, _ := lookup(p.v, p.s)
			cases := []struct {
				name string
				d    Delivery
			}{
				{"valid", signedDelivery(t, p, testSecret, body, testNow)},
				{"wrong secret", signedDelivery(t, p, testOther, body, testNow)},
				{"missing", Delivery{Header: http.Header{}, Now: testNow}},
			}
			for _, tc := range cases {
				var c Check
				c.Reset(p.v, p.s, tc.d, secrets(testSecret))
				settled, ok := c.Settled()
				switch {
				case tc.name == "missing" && (!ok || settled.Outcome != Missing):
					t.Errorf("%s: settled=%v %+v, want Missing before the body", tc.name, ok, settled)
				case tc.name != "missing" && r.Kind.BodyMAC() && ok:
					t.Errorf("%s: a body MAC was settled before the body: %+v", tc.name, settled)
				case tc.name != "missing" && !r.Kind.BodyMAC() && !ok:
					t.Errorf("%s: a %s credential was not settled by the headers", tc.name, p.s)
				}
				c.Write(body)
				if after := c.Verdict(); ok && after != settled {
					t.Errorf("%s: settled %+v, but Verdict after the body says %+v", tc.name, settled, after)
				}
			}
		})
	}
}
