package manageengine

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body: `{"request":{"id":"1","display_id":"{delivery}","subject":"hookgate send-test","status":{"id":"1","name":"Open"},"last_updated_time":{"value":"{now_ms}"}}}`,
}
