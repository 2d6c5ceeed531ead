package manageengine

import "github.com/hookgate/caddy-hookgate/integrations"

// Vendor is this package's vendor name, as receiver paths and records
// spell it.
const Vendor = integrations.ManageEngine

func init() {
	integrations.Register(integrations.Spec{
		Vendor:     Vendor,
		Schemes:    []integrations.Scheme{integrations.SchemeBearer, integrations.SchemeToken},
		Tickets:    true,
		DoneStates: []string{"Resolved", "Closed"},
	})
}
