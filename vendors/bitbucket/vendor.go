package bitbucket

import "github.com/hookgate/caddy-hookgate/integrations"

// Vendor is this package's vendor name, as receiver paths and records
// spell it.
const Vendor = integrations.Bitbucket

func init() {
	integrations.Register(integrations.Spec{
		Vendor:      Vendor,
		Schemes:     []integrations.Scheme{integrations.SchemeHMAC, integrations.SchemeBasic},
		BindsTarget: true,
	})
}
