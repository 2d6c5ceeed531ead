package gitlab

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// manualSteps are the project settings equivalent of register.
func manualSteps(m *vendorapi.Manual) {
	m.APIHeader("GitLab")
	m.Line("1. Project %s → Settings → Webhooks → Add new webhook.", m.Target())
	m.Line("2. URL: %s", m.URL)
	if m.Scheme == integrations.SchemeSigning {
		m.Line("3. Signing token: %s; leave Secret token empty (GitLab then sends `webhook-signature`).", m.Secret)
	} else {
		m.Line("3. Secret token: %s (GitLab sends it as `X-Gitlab-Token`).", m.Secret)
	}
	m.Line("4. Triggers: Push events, Tag push events, Merge request events, Pipeline events. SSL verification on. Add webhook.")
}
