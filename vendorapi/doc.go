// Package vendorapi creates or updates hookgate's webhook on a vendor through
// the vendor's API, asks the vendor for a test delivery where it can (and
// says how that delivery is told from every other: TestDelivery), and says
// the exact manual steps where a vendor has no hook API.
//
// What each vendor's hook looks like (events, content type, where the secret
// goes under the integration's scheme), how its API authenticates, its
// manual steps and its send-test sample live in the vendor's package under
// vendors/, which registers them with RegisterVendor (a Spec) from its init;
// Register, SendTest, HasAPI, ManualSteps and SampleOf dispatch through
// what registered. This package keeps what every vendor shares: the
// settings checks, the client (Session) with its bounds, scrubbing and
// redirect policy, the pagination guards, and the rule that the existing
// hook pointing at the same receiver URL is hookgate's (SameReceiver), so
// registering twice updates instead of adding a second hook, and hooks
// pointing elsewhere are never touched.
//
// It never stores anything, never logs, and never puts a webhook secret or an
// API token into an error, a Result or manual steps: vendor error bodies are
// cut short and scrubbed of both before they are quoted. Every call honours
// its context, and every response is read with a bound. Redirects off the
// api_url's origin are refused.
//
// The vendor packages' tests share internal/fakeapi: the base of a fake
// vendor API on a local test server and the contracts every API vendor
// (Lifecycle, ExpectAPIError) and every manual vendor (ManualOnly) keeps.
package vendorapi
