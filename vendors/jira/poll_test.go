package jira_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakevendors"
	"github.com/hookgate/caddy-hookgate/poller"
	"github.com/hookgate/caddy-hookgate/vendors/jira"
)

// t0 is when the test integrations are first polled.
var t0 = time.Date(2025, 3, 4, 14, 0, 0, 0, time.UTC)

// Credentials go where Jira wants them: with no api_user, a Bearer
// api_token (the fake accepts nothing else). Of the records listed, only
// the active Jira one with an api_url and api_token is polled and shown:
// not an inactive one, not one without an api_url, not a CI vendor's
// record pointed at the same API.
func TestPollJiraBearerAndInactive(t *testing.T) {
	f := fakevendors.NewJira(t, fakevendors.JiraOptions{Auth: fakevendors.Auth{Token: "tok-sec-jira"}})
	jr := integrations.Record{ID: "sec-jira", Vendor: jira.Vendor, Active: true, APIURL: f.URL, APIToken: "tok-sec-jira"}
	recs := []integrations.Record{jr,
		{ID: "off", Vendor: jira.Vendor, APIURL: f.URL, APIToken: "tok-off"},
		{ID: "ci", Vendor: integrations.GitHub, Active: true, APIURL: f.URL, APIToken: "tok-ci"},
		{ID: "no-url", Vendor: jira.Vendor, Active: true, APIToken: "tok-no-url"},
	}
	var (
		mu        sync.Mutex
		now       = t0
		committed = map[string][]events.Event{}
	)
	p, err := poller.New(poller.Config{
		Lister: func(context.Context) ([]integrations.Record, error) { return recs, nil },
		Commit: func(_ context.Context, rec integrations.Record, evs []events.Event) error {
			mu.Lock()
			defer mu.Unlock()
			committed[rec.ID] = append(committed[rec.ID], evs...)
			return nil
		},
		Interval: time.Minute,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
		Instance: "a",
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.PollOnce(context.Background())
	f.Transition("SEC-42", "In Progress", "3", "indeterminate", t0.Add(5*time.Minute))
	f.Transition("SEC-42", "Done", "10002", "done", time.UnixMilli(1741097622000).UTC())
	f.Comment("SEC-42", fakevendors.JiraComment{ID: "20417", Author: "Ola Berg",
		Body:    "Fix deployed to staging; the export now uses bound parameters.",
		Created: time.Date(2025, 3, 4, 14, 45, 0, 0, time.UTC), Updated: time.Date(2025, 3, 4, 14, 45, 0, 0, time.UTC)})
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if err := p.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	n := len(committed[jr.ID])
	mu.Unlock()
	if n == 0 {
		t.Error("bearer-token Jira integration not polled")
	}
	st, err := p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 {
		t.Errorf("status lists %d integrations, want only the pollable one: %v", len(st), st)
	}
}
