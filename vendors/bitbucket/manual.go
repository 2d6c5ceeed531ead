package bitbucket

import "github.com/hookgate/caddy-hookgate/vendorapi"

// manualSteps are the repository settings equivalent of register.
func manualSteps(m *vendorapi.Manual) {
	m.APIHeader("Bitbucket")
	m.Line("1. Repository %s → Repository settings → Webhooks → Add webhook; Title hookgate.", m.Target())
	m.Line("2. URL: %s", m.URL)
	m.Line("3. Secret: %s (Bitbucket then signs `X-Hub-Signature`).", m.Secret)
	m.Line("4. Triggers: Repository push; Pull request created and updated. Active. Save.")
}
