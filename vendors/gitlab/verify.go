package gitlab

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// token: the secret token in X-Gitlab-Token.
	verifiers.Register(Vendor, integrations.SchemeToken, verifiers.Rule{Kind: verifiers.KindHeaderToken, Header: "X-Gitlab-Token"})
	// signing: signing tokens (GitLab 19.0), Standard Webhooks headers.
	verifiers.Register(Vendor, integrations.SchemeSigning, verifiers.Rule{Kind: verifiers.KindStandardWebhooks})
}
