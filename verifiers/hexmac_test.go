package verifiers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// hexMACVendor signs the way Gitea does: a bare hex HMAC-SHA256 of the body
// in X-Gitea-Signature. Registered by this file only.
const hexMACVendor integrations.Vendor = "hexmac-test"

func init() {
	integrations.Register(integrations.Spec{Vendor: hexMACVendor, Schemes: []integrations.Scheme{integrations.SchemeHMAC}})
	verifiers.Register(hexMACVendor, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindHexMAC, Header: "x-gitea-signature", Accept: verifiers.AlgSHA256})
}

// TestHexMAC: a bare hex MAC verifies over the exact body with the current
// or previous secret, and refuses a changed body, a prefixed method, a
// wrong length, a missing header and a wrong secret.
func TestHexMAC(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	now := time.Now()
	h, _, err := verifiers.Sign(hexMACVendor, integrations.SchemeHMAC, []byte("cur"), body, now, "")
	if err != nil {
		t.Fatal(err)
	}
	sig := h.Get("X-Gitea-Signature")
	if len(sig) != 64 || strings.Contains(sig, "=") {
		t.Fatalf("Sign wrote %q: want 64 bare hex digits", sig)
	}
	verify := func(sig string, body []byte, sec verifiers.Secrets) verifiers.Verdict {
		hd := http.Header{}
		if sig != "" {
			hd.Set("X-Gitea-Signature", sig)
		}
		return verifiers.Verify(hexMACVendor, integrations.SchemeHMAC, verifiers.Delivery{Header: hd, Now: now}, body, sec)
	}
	if vd := verify(sig, body, verifiers.Secrets{Current: []byte("cur")}); !vd.OK() {
		t.Fatalf("current secret: %s", vd.Reason)
	}
	if vd := verify(strings.ToUpper(sig), body, verifiers.Secrets{Current: []byte("new"), Previous: []byte("cur")}); !vd.OK() {
		t.Fatalf("previous secret, upper-case hex: %s", vd.Reason)
	}
	for name, tc := range map[string]struct {
		sig    string
		body   []byte
		secret string
		reason string
	}{
		"changed body":  {sig, []byte(`{"ref":"refs/heads/evil"}`), "cur", verifiers.ReasonSignatureMismatch},
		"wrong secret":  {sig, body, "other", verifiers.ReasonSignatureMismatch},
		"method prefix": {"sha256=" + sig, body, "cur", verifiers.ReasonMalformedSignature},
		"short":         {sig[:62], body, "cur", verifiers.ReasonMalformedSignature},
		"not hex":       {"zz" + sig[2:], body, "cur", verifiers.ReasonMalformedSignature},
		"missing":       {"", body, "cur", verifiers.ReasonSignatureMissing},
	} {
		if vd := verify(tc.sig, tc.body, verifiers.Secrets{Current: []byte(tc.secret)}); vd.OK() || vd.Reason != tc.reason {
			t.Errorf("%s: %v %q, want refused %q", name, vd.Outcome, vd.Reason, tc.reason)
		}
	}
	r, _ := verifiers.RuleOf(hexMACVendor, integrations.SchemeHMAC)
	if !r.Kind.BodyMAC() || r.Header != "X-Gitea-Signature" {
		t.Fatalf("rule %+v: a hex MAC is a body MAC, header canonical", r)
	}
	for _, hdr := range verifiers.CredentialHeaders() {
		if hdr == "X-Gitea-Signature" {
			t.Fatal("a body MAC header is listed as a credential to strip")
		}
	}
}
