package gitlab

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body:    `{"object_kind":"push","event_name":"push","before":"0000000000000000000000000000000000000000","after":"1111111111111111111111111111111111111111","ref":"refs/heads/hookgate-send-test","checkout_sha":"1111111111111111111111111111111111111111","user_username":"hookgate","user_name":"hookgate send-test","project_id":1,"project":{"id":1,"name":"hookgate-send-test","path_with_namespace":"hookgate/hookgate-send-test","default_branch":"main"},"commits":[{"id":"1111111111111111111111111111111111111111","message":"hookgate send-test\n","timestamp":"2025-03-04T11:02:44+01:00","author":{"name":"hookgate","email":"hookgate@example.invalid"}}],"total_commits_count":1}`,
	Headers: map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "{delivery}"},
}
