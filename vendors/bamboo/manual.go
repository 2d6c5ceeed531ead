package bamboo

import "github.com/hookgate/caddy-hookgate/vendorapi"

// manualSteps are how an operator sets the webhook up by hand: the webhook template and the plan notification.
func manualSteps(m *vendorapi.Manual) {
	m.NoAPIHeader("Bamboo")
	m.Line("1. Bamboo administration → Webhook templates → Create webhook template, method POST.")
	m.Line("2. URL: %s", m.URL)
	m.Line("3. Headers:")
	m.Line("   Content-Type: application/json")
	m.Line("   X-Bamboo-Token: %s", m.Secret)
	m.Line("4. Payload:")
	m.Line("")
	m.Block(bambooBody)
	m.Line("5. In each plan: Plan configuration → Notifications → Add notification, event \"Build completed\", recipient type Webhook, this template.")
}

// The body an operator pastes into the vendor, verbatim from
// events/TEMPLATES.md (a test keeps them equal): what events.Normalize
// expects from this vendor.

// bambooBody is the Bamboo webhook template's payload.
const bambooBody = `{
  "delivery": "${bamboo.webhook.uuid}",
  "planKey": "${bamboo.planKey}",
  "planName": "${bamboo.planName}",
  "buildResultKey": "${bamboo.buildResultKey}",
  "buildNumber": "${bamboo.buildNumber}",
  "buildState": "${bamboo.buildState}",
  "repositoryUrl": "${bamboo.planRepository.repositoryUrl}",
  "branchName": "${bamboo.planRepository.branchName}",
  "revision": "${bamboo.planRepository.revision}",
  "buildResultsUrl": "${bamboo.buildResultsUrl}",
  "finishedAt": "${bamboo.date.finished}",
  "triggerReason": "${bamboo.trigger.reason}"
}
`
