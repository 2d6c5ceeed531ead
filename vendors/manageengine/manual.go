package manageengine

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// manualSteps are how an operator sets the webhook up by hand: the custom trigger and its webhook action.
func manualSteps(m *vendorapi.Manual) {
	m.NoAPIHeader("ManageEngine ServiceDesk Plus")
	m.Line("1. Admin → Automation → Custom Triggers (Requests) → New: Execute on edit, criteria on the status (and/or notes).")
	m.Line("2. Action: Webhook, method POST, content type application/json.")
	if m.Scheme == integrations.SchemeToken {
		m.Line("3. URL: %s", m.WithToken())
		m.Line("   (the token query parameter URL-encoded; no Authorization header).")
	} else {
		m.Line("3. URL: %s", m.URL)
		m.Line("   Custom header: Authorization: Bearer %s", m.Secret)
	}
	m.Line("4. Body, built with the form's request variables:")
	m.Line("")
	m.Block(manageEngineBody)
}

// The body an operator pastes into the vendor, verbatim from
// events/TEMPLATES.md (a test keeps them equal): what events.Normalize
// expects from this vendor.

// manageEngineBody is the ManageEngine webhook body.
const manageEngineBody = `{
  "event": "request.updated",
  "request": {
    "id": "<request id>",
    "display_id": "<request display id>",
    "subject": "<subject>",
    "status": {"name": "<status name>"},
    "last_updated_time": {"value": "<last updated time, ms since epoch>"},
    "technician": {"name": "<technician name>"}
  },
  "previous_status": {"name": "<previous status name, optional>"},
  "note": "<latest note text, optional>"
}
`
