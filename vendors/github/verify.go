package github

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// hmac: HMAC-SHA256 of the body, sha256=<hex> in X-Hub-Signature-256.
	verifiers.Register(Vendor, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindMethodHex, Header: "X-Hub-Signature-256", Accept: verifiers.AlgSHA256})
	// hmac-sha1: the legacy sha1=<hex> in X-Hub-Signature, only when a record pins it.
	verifiers.Register(Vendor, integrations.SchemeHMACSHA1, verifiers.Rule{Kind: verifiers.KindMethodHex, Header: "X-Hub-Signature", Accept: verifiers.AlgSHA1})
}
