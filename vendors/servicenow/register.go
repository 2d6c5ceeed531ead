package servicenow

import "github.com/hookgate/caddy-hookgate/vendorapi"

// init registers the manual steps and the send-test sample. ServiceNow has
// no hook API hookgate can use: its deliveries come from a business rule
// and REST message an operator sets up by hand, so vendorapi.Register
// answers the manual steps. Under hmac the secret goes into ServiceNow
// base64-encoded (paste.go).
func init() {
	vendorapi.RegisterVendor(Vendor, vendorapi.Spec{
		ManualSteps: manualSteps,
		Paste:       paste,
		Sample:      &sample,
	})
}
