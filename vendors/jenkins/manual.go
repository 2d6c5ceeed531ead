package jenkins

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// manualSteps are how an operator sets the webhook up by hand: the notification plugin endpoint (scheme basic), or a pipeline step
// with the X-Api-Token header.
func manualSteps(m *vendorapi.Manual) {
	m.NoAPIHeader("Jenkins")
	if m.Scheme == integrations.SchemeBasic {
		m.Line("1. In the job: Job Notifications → Add Endpoint: Format JSON, Protocol HTTP, Event \"Job Finalized\".")
		m.Line("2. URL: %s", m.WithUserInfo())
		m.Line("   (the password URL-encoded; the plugin turns the user info into the header `Authorization: Basic …`, user hookgate, password the secret).")
		m.Line("3. Save. The plugin sends its own JSON; there is no body to configure. It looks like:")
		m.Line("")
		m.Block(jenkinsBody)
		return
	}
	m.Line("The notification plugin cannot add headers. Choose one:")
	m.Line("")
	m.Line("A. A pipeline step posting the notification plugin's JSON with the header `X-Api-Token` (scheme token, this integration's):")
	m.Line("   1. Store %s as a Jenkins \"Secret text\" credential, e.g. id hookgate-token.", m.Secret)
	m.Line("   2. In the Jenkinsfile's post { always { … } } block, with the HTTP Request plugin:")
	m.Line("      withCredentials([string(credentialsId: 'hookgate-token', variable: 'HOOKGATE_TOKEN')]) {")
	m.Line("        httpRequest url: '%s', httpMode: 'POST', contentType: 'APPLICATION_JSON',", m.URL)
	m.Line("          customHeaders: [[name: 'X-Api-Token', value: HOOKGATE_TOKEN, maskValue: true]],")
	m.Line("          requestBody: <the JSON below, with this build's values>")
	m.Line("      }")
	m.Line("")
	m.Line("B. The notification plugin: first set the integration's scheme to basic (header `Authorization: Basic`), then")
	m.Line("   Job Notifications → Add Endpoint: Format JSON, Protocol HTTP, Event \"Job Finalized\",")
	m.Line("   URL %s (the password URL-encoded).", m.WithUserInfo())
	m.Line("")
	m.Line("Body (what the notification plugin sends; phase FINALIZED counts, other phases are ignored):")
	m.Line("")
	m.Block(jenkinsBody)
}

// The body an operator pastes into the vendor, verbatim from
// events/TEMPLATES.md (a test keeps them equal): what events.Normalize
// expects from this vendor.

// jenkinsBody is the notification plugin's own JSON, as the plugin sends it.
const jenkinsBody = `{
  "name": "payments-api-ci",
  "display_name": "payments-api-ci",
  "url": "job/payments-api-ci/",
  "build": {
    "full_url": "https://jenkins.example.com/job/payments-api-ci/318/",
    "number": 318,
    "queue_id": 9921,
    "timestamp": 1741099001000,
    "duration": 184233,
    "phase": "FINALIZED",
    "status": "SUCCESS",
    "url": "job/payments-api-ci/318/",
    "scm": {
      "url": "https://github.com/acme/payments-api.git",
      "branch": "origin/main",
      "commit": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
      "changes": [],
      "culprits": []
    },
    "log": "",
    "artifacts": {}
  }
}
`
