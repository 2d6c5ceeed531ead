package caddymodule

import "github.com/hookgate/caddy-hookgate/integrations"

// sendTestSample is the delivery `caddy hookgate send-test` posts for a
// vendor: a small payload in the vendor's documented shape, marked as a
// test (repository, ticket and plan names say hookgate-send-test, CI
// branches are hookgate-send-test, tickets are never in a done state), and
// the headers the vendor sends besides its credential.
type sendTestSample struct {
	body    string
	headers map[string]string // "{delivery}", here and in body, is replaced by a fresh decimal id
}

var sendTestSamples = map[integrations.Vendor]sendTestSample{
	integrations.GitHub: {
		body:    `{"zen":"hookgate send-test","hook_id":1,"hook":{"type":"Repository","id":1,"name":"web","active":true,"events":["push","pull_request"],"config":{"content_type":"json"}},"repository":{"id":1,"name":"hookgate-send-test","full_name":"hookgate/hookgate-send-test","private":true},"sender":{"login":"hookgate","id":1,"type":"User"}}`,
		headers: map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "{delivery}", "User-Agent": "GitHub-Hookshot/hookgate-send-test"},
	},
	integrations.GitLab: {
		body:    `{"object_kind":"push","event_name":"push","before":"0000000000000000000000000000000000000000","after":"1111111111111111111111111111111111111111","ref":"refs/heads/hookgate-send-test","checkout_sha":"1111111111111111111111111111111111111111","user_username":"hookgate","user_name":"hookgate send-test","project_id":1,"project":{"id":1,"name":"hookgate-send-test","path_with_namespace":"hookgate/hookgate-send-test","default_branch":"main"},"commits":[{"id":"1111111111111111111111111111111111111111","message":"hookgate send-test\n","timestamp":"2025-03-04T11:02:44+01:00","author":{"name":"hookgate","email":"hookgate@example.invalid"}}],"total_commits_count":1}`,
		headers: map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "{delivery}"},
	},
	integrations.Jira: {
		body:    `{"timestamp":1741097622000,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic","user":{"accountId":"hookgate","displayName":"hookgate send-test"},"issue":{"id":"1","key":"HOOKGATE-1","fields":{"summary":"hookgate send-test","status":{"name":"In Progress","id":"3","statusCategory":{"id":4,"key":"indeterminate","name":"In Progress"}}}},"changelog":{"id":"1","items":[{"field":"status","fieldtype":"jira","from":"1","fromString":"To Do","to":"3","toString":"In Progress"}]}}`,
		headers: map[string]string{"X-Atlassian-Webhook-Identifier": "{delivery}"},
	},
	integrations.ServiceNow: {
		body: `{"number":"HOOKGATE{delivery}","sys_id":"hookgate-send-test-{delivery}","state":"2","short_description":"hookgate send-test","comments":"","sys_updated_on":"2025-03-04 14:05:11","sys_updated_by":"hookgate"}`,
	},
	integrations.ManageEngine: {
		body: `{"request":{"id":"1","display_id":"{delivery}","subject":"hookgate send-test","status":{"id":"1","name":"Open"},"last_updated_time":{"value":"1741098311000"}}}`,
	},
	integrations.Jenkins: {
		body: `{"name":"hookgate-send-test","display_name":"hookgate-send-test","url":"job/hookgate-send-test/","build":{"full_url":"https://jenkins.example.invalid/job/hookgate-send-test/{delivery}/","number":{delivery},"queue_id":1,"timestamp":1741099001000,"duration":1,"phase":"FINALIZED","status":"SUCCESS","url":"job/hookgate-send-test/1/","scm":{"url":"https://example.invalid/hookgate-send-test.git","branch":"origin/hookgate-send-test","commit":"1111111111111111111111111111111111111111","changes":[],"culprits":[]},"log":"","artifacts":{}}}`,
	},
	integrations.AzureDevOps: {
		body: `{"subscriptionId":"00000000-0000-4000-8000-000000000000","notificationId":1,"id":"{delivery}","eventType":"git.push","publisherId":"tfs","message":{"text":"hookgate send-test"},"resource":{"commits":[{"commitId":"1111111111111111111111111111111111111111","comment":"hookgate send-test"}],"refUpdates":[{"name":"refs/heads/hookgate-send-test","oldObjectId":"0000000000000000000000000000000000000000","newObjectId":"1111111111111111111111111111111111111111"}],"repository":{"id":"00000000-0000-4000-8000-000000000001","name":"hookgate-send-test","project":{"id":"00000000-0000-4000-8000-000000000002","name":"hookgate"}},"pushedBy":{"displayName":"hookgate","uniqueName":"hookgate@example.invalid"},"pushId":1,"date":"2025-03-04T13:40:22Z"},"createdDate":"2025-03-04T13:40:25.117Z"}`,
	},
	integrations.Bamboo: {
		body: `{"planKey":"HOOKGATE-TEST","planName":"hookgate send-test","buildResultKey":"HOOKGATE-TEST-{delivery}","buildNumber":"{delivery}","buildState":"Successful","repositoryUrl":"https://example.invalid/hookgate-send-test.git","branchName":"hookgate-send-test","revision":"1111111111111111111111111111111111111111","triggerReason":"hookgate send-test"}`,
	},
	integrations.Bitbucket: {
		body:    `{"actor":{"display_name":"hookgate","nickname":"hookgate","type":"user"},"repository":{"type":"repository","name":"hookgate-send-test","full_name":"hookgate/hookgate-send-test","uuid":"{00000000-0000-4000-8000-000000000000}","is_private":true},"push":{"changes":[{"old":{"type":"branch","name":"hookgate-send-test","target":{"type":"commit","hash":"0000000000000000000000000000000000000000"}},"new":{"type":"branch","name":"hookgate-send-test","target":{"type":"commit","hash":"1111111111111111111111111111111111111111","message":"hookgate send-test\n"}},"created":false,"closed":false,"forced":false,"commits":[{"hash":"1111111111111111111111111111111111111111","message":"hookgate send-test\n"}]}]}}`,
		headers: map[string]string{"X-Event-Key": "repo:push", "X-Request-UUID": "{delivery}"},
	},
}
