package servicenow

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body: `{"number":"HOOKGATE{delivery}","sys_id":"hookgate-send-test-{delivery}","state":"2","short_description":"hookgate send-test","comments":"","sys_updated_on":"{now_servicenow}","sys_updated_by":"hookgate"}`,
}
