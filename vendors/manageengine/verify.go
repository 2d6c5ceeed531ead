package manageengine

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// bearer: Authorization: Bearer <secret> from the custom trigger.
	verifiers.Register(Vendor, integrations.SchemeBearer, verifiers.Rule{Kind: verifiers.KindBearer, Header: "Authorization"})
	// token: the secret in the `token` query parameter.
	verifiers.Register(Vendor, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.KindQueryToken})
}
