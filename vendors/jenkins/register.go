package jenkins

import "github.com/hookgate/caddy-hookgate/vendorapi"

// init registers the manual steps and the send-test sample. Jenkins has no
// hook API hookgate can use: its deliveries come from the notification
// plugin (or a pipeline step) an operator sets up by hand, so
// vendorapi.Register answers the manual steps.
func init() {
	vendorapi.RegisterVendor(Vendor, vendorapi.Spec{
		ManualSteps: manualSteps,
		Sample:      &sample,
	})
}
