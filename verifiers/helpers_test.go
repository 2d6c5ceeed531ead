package verifiers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// allSchemes lists every scheme constant; integrations keeps the per-vendor
// table private, so tests derive it through Vendor.Supports.
var allSchemes = []integrations.Scheme{
	integrations.SchemeHMAC,
	integrations.SchemeHMACSHA1,
	integrations.SchemeToken,
	integrations.SchemeSigning,
	integrations.SchemeBearer,
	integrations.SchemeBasic,
}

type pair struct {
	v integrations.Vendor
	s integrations.Scheme
}

func (p pair) String() string { return string(p.v) + "/" + string(p.s) }

// supportedPairs is every vendor × scheme hookgate verifies.
func supportedPairs() []pair {
	var out []pair
	for _, v := range integrations.Vendors() {
		for _, s := range schemesOf(v) {
			out = append(out, pair{v, s})
		}
	}
	return out
}

func schemesOf(v integrations.Vendor) []integrations.Scheme {
	var out []integrations.Scheme
	for _, s := range allSchemes {
		if v.Supports(s) {
			out = append(out, s)
		}
	}
	return out
}

var testNow = time.Unix(1700000000, 0)

const (
	testSecret  = "whsec_c2VjcmV0LWN1cnJlbnQtMDEyMzQ1Njc4OWFiY2RlZg=="
	testPrev    = "whsec_cHJldmlvdXMtc2VjcmV0LTAxMjM0NTY3ODlhYmNk"
	testOther   = "whsec_b3RoZXItc2VjcmV0LXRoYXQtaXMtbm90LXJpZ2h0"
	testBodyStr = `{"ref":"refs/heads/main","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"}`
)

// signedDelivery signs body as vendor v would under scheme s.
func signedDelivery(t testing.TB, p pair, secret string, body []byte, now time.Time) Delivery {
	t.Helper()
	h, q, err := Sign(p.v, p.s, []byte(secret), body, now, "msg_test")
	if err != nil {
		t.Fatalf("%s: Sign: %v", p, err)
	}
	return Delivery{Header: h, RawQuery: q, Now: testNow}
}

// verify runs Verify and checks that the reason never echoes a secret or a
// received credential.
func verify(t testing.TB, p pair, d Delivery, body []byte, sec Secrets) Verdict {
	t.Helper()
	vd := Verify(p.v, p.s, d, body, sec)
	checkReason(t, vd, d, sec)
	return vd
}

func checkReason(t testing.TB, vd Verdict, d Delivery, sec Secrets) {
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

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func secrets(cur string) Secrets { return Secrets{Current: []byte(cur)} }
