package github

import "github.com/hookgate/caddy-hookgate/vendorapi"

// manualSteps are the repository settings equivalent of register.
func manualSteps(m *vendorapi.Manual) {
	m.APIHeader("GitHub")
	m.Line("1. Repository %s → Settings → Webhooks → Add webhook.", m.Target())
	m.Line("2. Payload URL: %s; Content type: application/json; SSL verification: enabled.", m.URL)
	m.Line("3. Secret: %s (GitHub then signs `X-Hub-Signature-256`).", m.Secret)
	m.Line("4. Events: \"Let me select individual events\": Pushes and Pull requests. Active. Add webhook.")
}
