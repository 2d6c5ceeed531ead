package jira

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// manualSteps are the system settings equivalent of register.
func manualSteps(m *vendorapi.Manual) {
	m.APIHeader("Jira")
	m.Line("1. Jira settings → System → WebHooks → Create a WebHook; Name hookgate.")
	switch m.Scheme {
	case integrations.SchemeHMAC:
		m.Line("2. URL: %s", m.URL)
		m.Line("3. Secret: %s (Jira then signs `X-Hub-Signature`).", m.Secret)
	case integrations.SchemeBasic:
		m.Line("2. URL: %s", m.URL)
		m.Line("3. Authentication: Basic (Jira Data Center), username hookgate, password %s; Secret: leave empty.", m.Secret)
		m.Line("   Jira then sends `Authorization: Basic …`; hookgate checks the password only.")
	default:
		m.Line("2. URL: %s", m.WithToken())
		m.Line("3. Secret: leave empty (the token query parameter, URL-encoded, is the credential).")
	}
	m.Line("4. Events: Issue updated; Comment created and updated. Exclude body: off. Create.")
}
