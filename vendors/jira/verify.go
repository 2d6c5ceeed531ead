package jira

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// token: the secret in the receiver URL's `token` query parameter (Jira Cloud admin webhooks).
	verifiers.Register(Vendor, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.KindQueryToken})
	// hmac: Jira's webhook secret: sha256=<hex> in X-Hub-Signature.
	verifiers.Register(Vendor, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindMethodHex, Header: "X-Hub-Signature", Accept: verifiers.AlgSHA256})
	// basic: Basic auth set on the webhook (Jira Data Center), the password is the secret.
	verifiers.Register(Vendor, integrations.SchemeBasic, verifiers.Rule{Kind: verifiers.KindBasic, Header: "Authorization"})
}
