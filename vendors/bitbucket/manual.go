package bitbucket

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// manualSteps are the repository settings equivalent of register.
func manualSteps(m *vendorapi.Manual) {
	m.APIHeader("Bitbucket")
	if m.Scheme == integrations.SchemeBasic {
		m.Line("1. Bitbucket Data Center: repository %s → Repository settings → Webhooks → Create webhook; Name hookgate.", m.Target())
		m.Line("2. URL: %s", m.URL)
		m.Line("3. Authentication: Basic, username hookgate, password %s; Secret: leave empty.", m.Secret)
		m.Line("   Bitbucket then sends `Authorization: Basic …`; hookgate checks the password only.")
		m.Line("4. Events: Repository push (refs changed); Pull request opened, source branch updated, modified. Active. Save.")
		return
	}
	m.Line("1. Repository %s → Repository settings → Webhooks → Add webhook; Title hookgate.", m.Target())
	m.Line("2. URL: %s", m.URL)
	m.Line("3. Secret: %s (Bitbucket then signs `X-Hub-Signature`).", m.Secret)
	m.Line("4. Triggers: Repository push; Pull request created and updated. Active. Save.")
}
