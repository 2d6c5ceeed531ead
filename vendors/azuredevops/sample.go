package azuredevops

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body: `{"subscriptionId":"00000000-0000-4000-8000-000000000000","notificationId":1,"id":"{delivery}","eventType":"git.push","publisherId":"tfs","message":{"text":"hookgate send-test"},"resource":{"commits":[{"commitId":"1111111111111111111111111111111111111111","comment":"hookgate send-test"}],"refUpdates":[{"name":"refs/heads/hookgate-send-test","oldObjectId":"0000000000000000000000000000000000000000","newObjectId":"1111111111111111111111111111111111111111"}],"repository":{"id":"00000000-0000-4000-8000-000000000001","name":"hookgate-send-test","project":{"id":"00000000-0000-4000-8000-000000000002","name":"hookgate"}},"pushedBy":{"displayName":"hookgate","uniqueName":"hookgate@example.invalid"},"pushId":1,"date":"2025-03-04T13:40:22Z"},"createdDate":"{now_rfc3339}"}`,
}
