package servicenow

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
	"github.com/hookgate/caddy-hookgate/verifiers/verifierstest"
)

// TestServiceNowHMAC: the base64 HMAC-SHA256 in X-ServiceNow-Signature, in
// the standard padded alphabet only.
func TestServiceNowHMAC(t *testing.T) {
	sn := verifierstest.Pair{Vendor: Vendor, Scheme: integrations.SchemeHMAC}
	sum := verifierstest.MAC(sha256.New, []byte(verifierstest.Secret), []byte(verifierstest.Body))
	b64 := base64.StdEncoding.EncodeToString(sum)
	verifierstest.Run(t, []verifierstest.Case{
		{Name: "valid", P: sn, Header: verifierstest.Hdr("X-ServiceNow-Signature", b64), Want: verifiers.Valid},
		{Name: "unpadded refused", P: sn, Header: verifierstest.Hdr("X-ServiceNow-Signature", strings.TrimRight(b64, "=")), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "url alphabet refused", P: sn, Header: verifierstest.Hdr("X-ServiceNow-Signature", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))), Want: verifiers.Invalid},
		{Name: "hex refused", P: sn, Header: verifierstest.Hdr("X-ServiceNow-Signature", hex.EncodeToString(sum)), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "truncated", P: sn, Header: verifierstest.Hdr("X-ServiceNow-Signature", base64.StdEncoding.EncodeToString(sum[:31])), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "bad base64", P: sn, Header: verifierstest.Hdr("X-ServiceNow-Signature", "!"+b64[1:]), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "prefixed like github", P: sn, Header: verifierstest.Hdr("X-ServiceNow-Signature", "sha256="+b64), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "wrong mac", P: sn, Header: verifierstest.Hdr("X-ServiceNow-Signature", base64.StdEncoding.EncodeToString(make([]byte, 32))), Want: verifiers.Invalid, Reason: verifiers.ReasonSignatureMismatch},
		{Name: "bearer ignored", P: sn, Header: verifierstest.Hdr("Authorization", "Bearer "+verifierstest.Secret), Want: verifiers.Missing},
	})
}
