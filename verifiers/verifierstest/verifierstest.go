// Package verifierstest is what the tests of verifiers and of the vendor
// packages (vendors/<name>/verify_test.go) share: fixed secrets and a body,
// signing through verifiers.Sign, and a table of cases each run through
// verifiers.Verify and a streamed verifiers.Check, which must agree. Every
// verdict it produces is checked to carry a reason exactly when it fails and
// never to echo a secret or a received credential.
//
// It registers nothing: a test gets its vendors by importing their packages
// (or vendors/all), or registers a test-only one itself.
package verifierstest

import (
	"crypto/hmac"
	"hash"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// Secrets and the body the tests sign with. Secret and Previous are valid
// Standard Webhooks signing secrets too, so every scheme can use them.
const (
	// Secret is the integration's current secret.
	Secret = "whsec_c2VjcmV0LWN1cnJlbnQtMDEyMzQ1Njc4OWFiY2RlZg=="
	// Previous is the secret a rotation replaced.
	Previous = "whsec_cHJldmlvdXMtc2VjcmV0LTAxMjM0NTY3ODlhYmNk"
	// Other is a secret that is neither.
	Other = "whsec_b3RoZXItc2VjcmV0LXRoYXQtaXMtbm90LXJpZ2h0"
	// Body is a small push-like delivery body.
	Body = `{"ref":"refs/heads/main","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"}`
)

// Now is the fixed time deliveries are signed and verified at.
var Now = time.Unix(1700000000, 0)

// Pair is one vendor's scheme.
type Pair struct {
	Vendor integrations.Vendor
	Scheme integrations.Scheme
}

// String is "vendor/scheme".
func (p Pair) String() string { return string(p.Vendor) + "/" + string(p.Scheme) }

// Hdr builds a header from name, value pairs, canonicalizing the names as
// net/http does; a name given twice gets both values.
func Hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// Secrets is a current secret and no previous one.
func Secrets(current string) verifiers.Secrets {
	return verifiers.Secrets{Current: []byte(current)}
}

// MAC is the HMAC of body under key with the hash newHash makes.
func MAC(newHash func() hash.Hash, key, body []byte) []byte {
	m := hmac.New(newHash, key)
	m.Write(body)
	return m.Sum(nil)
}

// Signed is the delivery p's vendor would send with body signed by secret
// at now (verified at Now); the test fails when Sign refuses.
func Signed(t testing.TB, p Pair, secret string, body []byte, now time.Time) verifiers.Delivery {
	t.Helper()
	h, q, err := verifiers.Sign(p.Vendor, p.Scheme, []byte(secret), body, now, "msg_test")
	if err != nil {
		t.Fatalf("%s: Sign: %v", p, err)
	}
	return verifiers.Delivery{Header: h, RawQuery: q, Now: Now}
}

// Verify runs verifiers.Verify and checks the verdict's reason with
// CheckReason.
func Verify(t testing.TB, p Pair, d verifiers.Delivery, body []byte, sec verifiers.Secrets) verifiers.Verdict {
	t.Helper()
	vd := verifiers.Verify(p.Vendor, p.Scheme, d, body, sec)
	CheckReason(t, vd, d, sec)
	return vd
}

// CheckReason fails the test unless vd has a reason exactly when it is not
// valid, and the reason holds neither a secret nor a received header value.
func CheckReason(t testing.TB, vd verifiers.Verdict, d verifiers.Delivery, sec verifiers.Secrets) {
	t.Helper()
	if vd.OK() && vd.Reason != "" {
		t.Errorf("valid verdict with reason %q", vd.Reason)
	}
	if !vd.OK() && vd.Reason == "" {
		t.Errorf("%s verdict without reason", vd.Outcome)
	}
	for _, s := range [][]byte{sec.Current, sec.Previous} {
		if len(s) > 3 && strings.Contains(vd.Reason, string(s)) {
			t.Errorf("reason %q contains a secret", vd.Reason)
		}
	}
	for _, vals := range d.Header {
		for _, v := range vals {
			if len(v) > 3 && strings.Contains(vd.Reason, v) {
				t.Errorf("reason %q echoes a received header value", vd.Reason)
			}
		}
	}
}

// Case is one delivery and the verdict it must get.
type Case struct {
	// Name names the subtest. Required.
	Name string
	// P is the vendor and scheme verified. Required.
	P Pair
	// Header and Query are what the delivery carries. Default: none.
	Header http.Header
	Query  string
	// Body is the raw body. Default: Body.
	Body string
	// Now is the time of verification. Default: Now.
	Now time.Time
	// Sec are the integration's secrets. Default: Secrets(Secret).
	Sec verifiers.Secrets
	// Want is the outcome required.
	Want verifiers.Outcome
	// Reason is the reason required. Default: any (not checked).
	Reason string
	// Previous is whether the previous secret must be the one that
	// verified.
	Previous bool
}

// Run runs each case as a subtest through Verify, then through one Check
// fed the body in 7-byte writes, and requires the two verdicts to agree.
func Run(t *testing.T, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			now := tc.Now
			if now.IsZero() {
				now = Now
			}
			sec := tc.Sec
			if sec.Current == nil {
				sec = Secrets(Secret)
			}
			body := tc.Body
			if body == "" {
				body = Body
			}
			d := verifiers.Delivery{Header: tc.Header, RawQuery: tc.Query, Now: now}
			vd := Verify(t, tc.P, d, []byte(body), sec)
			if vd.Outcome != tc.Want || (tc.Reason != "" && vd.Reason != tc.Reason) || vd.Previous != tc.Previous {
				t.Errorf("got %+v, want %s %q previous=%v", vd, tc.Want, tc.Reason, tc.Previous)
			}
			// The streaming path agrees with the one-shot path.
			var c verifiers.Check
			c.Reset(tc.P.Vendor, tc.P.Scheme, d, sec)
			for i := 0; i < len(body); i += 7 {
				c.Write([]byte(body[i:min(i+7, len(body))]))
			}
			if got := c.Verdict(); got != vd {
				t.Errorf("streamed verdict %+v differs from Verify %+v", got, vd)
			}
		})
	}
}
