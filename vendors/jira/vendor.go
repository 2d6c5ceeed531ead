package jira

import "github.com/hookgate/caddy-hookgate/integrations"

// Vendor is this package's vendor name, as receiver paths and records
// spell it.
const Vendor = integrations.Jira

func init() {
	integrations.Register(integrations.Spec{
		Vendor:  Vendor,
		Schemes: []integrations.Scheme{integrations.SchemeToken, integrations.SchemeHMAC, integrations.SchemeBasic},
		Tickets: true,
	})
}
