package servicenow

import "github.com/hookgate/caddy-hookgate/integrations"

// Vendor is this package's vendor name, as receiver paths and records
// spell it.
const Vendor = integrations.ServiceNow

func init() {
	integrations.Register(integrations.Spec{
		Vendor:     Vendor,
		Schemes:    []integrations.Scheme{integrations.SchemeBearer, integrations.SchemeBasic, integrations.SchemeHMAC},
		Tickets:    true,
		DoneStates: []string{"6", "7"},
	})
}
