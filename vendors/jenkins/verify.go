package jenkins

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// token: the secret in X-Api-Token.
	verifiers.Register(Vendor, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.KindHeaderToken, Header: "X-Api-Token"})
	// basic: Basic auth, the password is the secret.
	verifiers.Register(Vendor, integrations.SchemeBasic, verifiers.Rule{Kind: verifiers.KindBasic, Header: "Authorization"})
}
