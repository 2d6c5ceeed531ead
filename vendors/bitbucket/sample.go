package bitbucket

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body:    `{"actor":{"display_name":"hookgate","nickname":"hookgate","type":"user"},"repository":{"type":"repository","name":"hookgate-send-test","full_name":"hookgate/hookgate-send-test","uuid":"{00000000-0000-4000-8000-000000000000}","is_private":true},"push":{"changes":[{"old":{"type":"branch","name":"hookgate-send-test","target":{"type":"commit","hash":"0000000000000000000000000000000000000000"}},"new":{"type":"branch","name":"hookgate-send-test","target":{"type":"commit","hash":"1111111111111111111111111111111111111111","message":"hookgate send-test\n"}},"created":false,"closed":false,"forced":false,"commits":[{"hash":"1111111111111111111111111111111111111111","message":"hookgate send-test\n"}]}]}}`,
	Headers: map[string]string{"X-Event-Key": "repo:push", "X-Request-UUID": "{delivery}"},
}
