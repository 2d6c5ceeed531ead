package servicenow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
	"github.com/hookgate/caddy-hookgate/verifiers"
	"github.com/hookgate/caddy-hookgate/verifiers/verifierstest"
)

// generateMac does what ServiceNow's
// GlideCertificateEncryption.generateMac(key, "HmacSHA256", data) is
// documented to do, written here from that description and not from
// hookgate's signer: key is base64-decoded (a key that is not base64
// fails, as Java's decoder throws) into the HMAC key, data's UTF-8 bytes
// are MACed, and the MAC comes back base64-encoded.
func generateMac(t *testing.T, key, data string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatalf("generateMac: the key is not base64: %v", err)
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestGenerateMacWithBase64Key: the one story of ServiceNow's hmac scheme.
// hookgate keeps the secret; the operator stores what paste answers (the
// secret base64-encoded) in the system property; the business rule signs
// with generateMac(gs.getProperty('hookgate.key'), 'HmacSHA256', payload);
// hookgate verifies it. The raw secret stored in the property, the mistake
// the old docs invited, is refused.
func TestGenerateMacWithBase64Key(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join("..", "..", "testdata", "payloads", "servicenow", "incident-resolved.json"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		secret, err := integrations.NewSecret(Vendor, integrations.SchemeHMAC)
		if err != nil {
			t.Fatal(err)
		}
		rec := integrations.Record{ID: "sn-hmac", Vendor: Vendor, Scheme: integrations.SchemeHMAC, Secret: secret}
		p := vendorapi.PasteOf(rec, secret)
		if p == nil || p.Value == secret {
			t.Fatalf("paste for hmac = %+v, want the secret base64-encoded", p)
		}
		verify := func(sig string) verifiers.Verdict {
			d := verifiers.Delivery{Header: verifierstest.Hdr("X-ServiceNow-Signature", sig)}
			return verifiers.Verify(Vendor, integrations.SchemeHMAC, d, payload, verifiers.Secrets{Current: []byte(secret)})
		}
		if vd := verify(generateMac(t, p.Value, string(payload))); !vd.OK() {
			t.Fatalf("generateMac with the pasted base64 key: %+v", vd)
		}
		// The raw secret (hex: also valid base64) as the property's value
		// decodes into another key.
		if vd := verify(generateMac(t, secret, string(payload))); vd.OK() || vd.Reason != verifiers.ReasonSignatureMismatch {
			t.Fatalf("generateMac with the raw secret as key: %+v, want signature mismatch", vd)
		}
	}
}

// TestPasteOnlyForHMAC: bearer and basic take the secret as it is.
func TestPasteOnlyForHMAC(t *testing.T) {
	for _, s := range []integrations.Scheme{"", integrations.SchemeBearer, integrations.SchemeBasic} {
		if p := vendorapi.PasteOf(integrations.Record{Vendor: Vendor, Scheme: s}, "x"); p != nil {
			t.Errorf("scheme %q: paste %+v", s, p)
		}
	}
}
