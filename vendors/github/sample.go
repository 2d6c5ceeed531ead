package github

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body:    `{"zen":"hookgate send-test","hook_id":1,"hook":{"type":"Repository","id":1,"name":"web","active":true,"events":["push","pull_request"],"config":{"content_type":"json"}},"repository":{"id":1,"name":"hookgate-send-test","full_name":"hookgate/hookgate-send-test","private":true},"sender":{"login":"hookgate","id":1,"type":"User"}}`,
	Headers: map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "{delivery}", "User-Agent": "GitHub-Hookshot/hookgate-send-test"},
}
