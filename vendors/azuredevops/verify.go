package azuredevops

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// bearer: Authorization: Bearer <secret>, a service hook's HTTP header.
	verifiers.Register(Vendor, integrations.SchemeBearer, verifiers.Rule{Kind: verifiers.KindBearer, Header: "Authorization"})
	// basic: the service hook's basic authentication, the password is the secret.
	verifiers.Register(Vendor, integrations.SchemeBasic, verifiers.Rule{Kind: verifiers.KindBasic, Header: "Authorization"})
}
