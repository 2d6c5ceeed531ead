package jira

import (
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// factsWant is the event time each sample states (RFC 3339); a sample not
// listed states none (an event hookgate does not read).
var factsWant = map[string]payloads.Facts{
	"jira/comment-created.json":                      {At: "2025-03-04T14:45:00Z"},
	"jira/comment-updated--adf.json":                 {At: "2025-03-04T14:55:00Z"},
	"jira/issue-updated--labels.json":                {At: "2025-03-04T14:51:40Z"},
	"jira/issue-updated--reopened.json":              {At: "2025-03-05T14:47:02Z"},
	"jira/issue-updated.json":                        {At: "2025-03-04T14:13:42Z"},
	"corpus:jira/cloud_comment_added.json":           {At: "2018-04-20T06:24:52.3Z"},
	"corpus:jira/issue_updated_fields_updated.json":  {At: "2016-01-14T23:01:40.356Z"},
	"corpus:jira/issue_updated_status_updated.json":  {At: "2016-01-14T23:06:37.049Z"},
	"corpus:jira/issue_updated_with_comment.json":    {At: "2015-12-20T19:04:58.448Z"},
	"corpus:jira/issue_updated_without_comment.json": {At: "2015-12-23T11:05:47.986Z"},
	"sample.go": {At: "2025-03-04T14:05:11Z"},
}

// TestFacts: every event read states the top-level timestamp (unix ms),
// else issue.fields.updated, whether or not it then yields events; Jira
// hooks are site-wide, so none names a target.
func TestFacts(t *testing.T) {
	payloads.CheckFacts(t, payloads.WithSample(t, Vendor, sample, "jira"), factsWant)
	// Without a timestamp, the updated time.
	n, err := events.NormalizeDelivery(payloads.Inline(Vendor, nil, "", []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"SEC-1","fields":{"updated":"2025-03-04T14:45:00.000+0000"}}}`)))
	if want := time.Date(2025, 3, 4, 14, 45, 0, 0, time.UTC); err != nil || !n.Facts.EventTime.Equal(want) {
		t.Errorf("updated only: facts %+v err %v, want %v", n.Facts, err, want)
	}
}
