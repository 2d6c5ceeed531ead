package jira

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// manualSteps are the system settings equivalent of register.
func manualSteps(m *vendorapi.Manual) {
	m.APIHeader("Jira")
	m.Line("1. Jira settings → System → WebHooks → Create a WebHook; Name hookgate.")
	if m.Scheme == integrations.SchemeHMAC {
		m.Line("2. URL: %s", m.URL)
		m.Line("3. Secret: %s (Jira then signs `X-Hub-Signature`).", m.Secret)
	} else {
		m.Line("2. URL: %s", m.WithToken())
		m.Line("3. Secret: leave empty (the token query parameter, URL-encoded, is the credential).")
	}
	m.Line("4. Events: Issue updated; Comment created and updated. Exclude body: off. Create.")
}
