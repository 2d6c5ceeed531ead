package azuredevops

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// manualSteps are the project settings equivalent of register.
func manualSteps(m *vendorapi.Manual) {
	m.APIHeader("Azure DevOps")
	m.Line("For each of \"Code pushed\" and \"Pull request created\":")
	m.Line("1. Project %s → Project settings → Service hooks → Create subscription → Web Hooks.", m.Target())
	m.Line("2. URL: %s; Resource details to send: All; Messages to send: None.", m.URL)
	if m.Scheme == integrations.SchemeBasic {
		m.Line("3. Basic authentication username: hookgate; password: %s.", m.Secret)
	} else {
		m.Line("3. HTTP headers: Authorization:Bearer %s", m.Secret)
	}
	m.Line("4. Test, then Finish.")
}
