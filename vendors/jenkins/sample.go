package jenkins

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body: `{"name":"hookgate-send-test","display_name":"hookgate-send-test","url":"job/hookgate-send-test/","build":{"full_url":"https://jenkins.example.invalid/job/hookgate-send-test/{delivery}/","number":{delivery},"queue_id":1,"timestamp":{now_ms},"duration":1,"phase":"FINALIZED","status":"SUCCESS","url":"job/hookgate-send-test/1/","scm":{"url":"https://example.invalid/hookgate-send-test.git","branch":"origin/hookgate-send-test","commit":"1111111111111111111111111111111111111111","changes":[],"culprits":[]},"log":"","artifacts":{}}}`,
}
