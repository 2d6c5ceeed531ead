package github

import "github.com/hookgate/caddy-hookgate/integrations"

// Vendor is this package's vendor name, as receiver paths and records
// spell it.
const Vendor = integrations.GitHub

func init() {
	integrations.Register(integrations.Spec{
		Vendor:      Vendor,
		Schemes:     []integrations.Scheme{integrations.SchemeHMAC, integrations.SchemeHMACSHA1},
		BindsTarget: true,
	})
}
