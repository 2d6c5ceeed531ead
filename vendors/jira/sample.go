package jira

import "github.com/hookgate/caddy-hookgate/vendorapi"

// sample is the delivery `caddy hookgate send-test` signs and posts for
// this vendor (vendorapi.Sample says what a sample is made of).
var sample = vendorapi.Sample{
	Body:    `{"timestamp":{now_ms},"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic","user":{"accountId":"hookgate","displayName":"hookgate send-test"},"issue":{"id":"1","key":"HOOKGATE-1","fields":{"summary":"hookgate send-test","status":{"name":"In Progress","id":"3","statusCategory":{"id":4,"key":"indeterminate","name":"In Progress"}}}},"changelog":{"id":"1","items":[{"field":"status","fieldtype":"jira","from":"1","fromString":"To Do","to":"3","toString":"In Progress"}]}}`,
	Headers: map[string]string{"X-Atlassian-Webhook-Identifier": "{delivery}"},
}
