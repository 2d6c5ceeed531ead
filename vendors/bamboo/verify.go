package bamboo

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// token: the secret in X-Bamboo-Token from the webhook template.
	verifiers.Register(Vendor, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.KindHeaderToken, Header: "X-Bamboo-Token"})
}
