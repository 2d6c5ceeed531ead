package servicenow_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakevendors"
	"github.com/hookgate/caddy-hookgate/poller"
	"github.com/hookgate/caddy-hookgate/vendors/servicenow"
)

// t0 is when the test integration is first polled.
var t0 = time.Date(2025, 3, 4, 14, 0, 0, 0, time.UTC)

// With no api_user ServiceNow gets a Bearer api_token (the fake accepts
// nothing else), and the table read is the record's target when that
// names a table.
func TestPollServiceNowBearerAndTargetTable(t *testing.T) {
	f := fakevendors.NewServiceNow(t, fakevendors.ServiceNowOptions{Auth: fakevendors.Auth{Token: "tok-sn"}, Table: "sn_si_incident"})
	rec := integrations.Record{ID: "sec-snow", Vendor: servicenow.Vendor, Active: true, APIURL: f.URL, APIToken: "tok-sn", Target: "sn_si_incident"}
	var (
		mu        sync.Mutex
		now       = t0
		committed []events.Event
	)
	p, err := poller.New(poller.Config{
		Lister: func(context.Context) ([]integrations.Record, error) { return []integrations.Record{rec}, nil },
		Commit: func(_ context.Context, _ integrations.Record, evs []events.Event) error {
			mu.Lock()
			defer mu.Unlock()
			committed = append(committed, evs...)
			return nil
		},
		Interval: time.Minute,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Set(fakevendors.ServiceNowRecord{Number: "SIR0010042", State: "6", UpdatedBy: "r.okafor", Updated: t0.Add(5 * time.Minute)})
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if err := p.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.CallsOf("tok-sn") == 0 {
		t.Fatal("the target table was never read")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(committed) != 1 || committed[0].Type != events.TypeTicketStatus || committed[0].Ticket.Key != "SIR0010042" ||
		committed[0].Ticket.Status != "6" || committed[0].Source.Via != "poll" {
		t.Fatalf("committed %+v, want SIR0010042's status change", committed)
	}
}
