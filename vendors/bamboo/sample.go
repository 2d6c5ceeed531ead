package bamboo

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body: `{"delivery":"hookgate-send-test-{delivery}","planKey":"HOOKGATE-TEST","planName":"hookgate send-test","buildResultKey":"HOOKGATE-TEST-{delivery}","buildNumber":"{delivery}","buildState":"Successful","repositoryUrl":"https://example.invalid/hookgate-send-test.git","branchName":"hookgate-send-test","revision":"1111111111111111111111111111111111111111","triggerReason":"hookgate send-test"}`,
}
