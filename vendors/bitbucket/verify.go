package bitbucket

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// hmac: sha256=<hex> (Cloud) or sha512 in X-Hub-Signature.
	verifiers.Register(Vendor, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindMethodHex, Header: "X-Hub-Signature", Accept: verifiers.AlgSHA256 | verifiers.AlgSHA512})
	// basic: Basic auth set on the webhook (Bitbucket Data Center), the password is the secret.
	verifiers.Register(Vendor, integrations.SchemeBasic, verifiers.Rule{Kind: verifiers.KindBasic, Header: "Authorization"})
}
