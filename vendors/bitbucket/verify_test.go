package bitbucket

import (
	"crypto/sha1" //nolint:gosec // building the legacy header and a refused one
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
	"github.com/hookgate/caddy-hookgate/verifiers/verifierstest"
)

// TestMethodHexSchemes: Bitbucket's X-Hub-Signature carries sha256=<hex>
// (Cloud) or sha512=<hex>, each at its own digest length; sha1
// and unknown methods are refused.
func TestMethodHexSchemes(t *testing.T) {
	body := []byte(verifierstest.Body)
	key := []byte(verifierstest.Secret)
	sha256Hex := hex.EncodeToString(verifierstest.MAC(sha256.New, key, body))
	sha1Hex := hex.EncodeToString(verifierstest.MAC(sha1.New, key, body))
	sha512Hex := hex.EncodeToString(verifierstest.MAC(sha512.New, key, body))
	bb := verifierstest.Pair{Vendor: Vendor, Scheme: integrations.SchemeHMAC}

	cases := []verifierstest.Case{
		{Name: "bitbucket sha256", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "sha256="+sha256Hex), Want: verifiers.Valid},
		{Name: "bitbucket sha512", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "sha512="+sha512Hex), Want: verifiers.Valid},
		{Name: "bitbucket sha512 uppercase", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "sha512="+strings.ToUpper(sha512Hex)), Want: verifiers.Valid},
		{Name: "bitbucket sha512 truncated to sha256 length", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "sha512="+sha512Hex[:64]), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "bitbucket sha256 digest under sha512 method", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "sha512="+sha256Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "bitbucket sha1 refused", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "sha1="+sha1Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonAlgorithmRefused},
		{Name: "bitbucket md5 refused", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "md5="+sha256Hex[:32]), Want: verifiers.Invalid, Reason: verifiers.ReasonAlgorithmRefused},
		{Name: "bitbucket bad hex", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "sha256="+sha256Hex[:63]+"g"), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "bitbucket previous sha512", P: bb, Header: verifierstest.Hdr("X-Hub-Signature", "sha512="+hex.EncodeToString(verifierstest.MAC(sha512.New, []byte(verifierstest.Previous), body))),
			Sec: verifiers.Secrets{Current: key, Previous: []byte(verifierstest.Previous)}, Want: verifiers.Valid, Previous: true},
	}
	verifierstest.Run(t, cases)
}
