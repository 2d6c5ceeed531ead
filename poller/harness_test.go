package poller_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakevendors"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/poller"
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
)

// newTestRedisState returns RedisState under a fresh key prefix whose keys
// are deleted when the test ends.
func newTestRedisState(t testing.TB) (*poller.RedisState, redis.UniversalClient, string) {
	c := testredis.Client(t)
	prefix := testredis.Prefix(t, c)
	return poller.NewRedisState(c, prefix), c, prefix
}

// testClock is the injected clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// t0 is when the test integrations are first polled: 2025-03-04 14:00 UTC,
// before the changes in testdata/payloads.
var t0 = time.Date(2025, 3, 4, 14, 0, 0, 0, time.UTC)

// commitCall is one Commit the harness saw.
type commitCall struct {
	instance, integration string
	evs                   []events.Event
}

// harness wires Pollers to the fake vendors and one Redis.
type harness struct {
	t      *testing.T
	clock  *testClock
	state  *poller.RedisState
	client redis.UniversalClient
	prefix string
	jira   *fakevendors.Jira
	sn     *fakevendors.ServiceNow
	me     *fakevendors.ServiceDeskPlus

	mu        sync.Mutex
	recs      []integrations.Record
	commits   []commitCall
	commitErr func(integration string, n int) error
}

func newHarness(t *testing.T) *harness {
	st, c, prefix := newTestRedisState(t)
	zone, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return &harness{
		t: t, clock: &testClock{t: t0}, state: st, client: c, prefix: prefix,
		jira: fakevendors.NewJira(t, fakevendors.JiraOptions{Zone: zone}),
		sn:   fakevendors.NewServiceNow(t, fakevendors.ServiceNowOptions{}),
		me:   fakevendors.NewServiceDeskPlus(t, fakevendors.ServiceDeskPlusOptions{}),
	}
}

// add registers an integration of vendor whose api_token is "tok-<id>".
func (h *harness) add(id string, vendor integrations.Vendor) integrations.Record {
	rec := integrations.Record{ID: id, Vendor: vendor, Active: true, APIToken: "tok-" + id}
	switch vendor {
	case integrations.Jira:
		rec.APIURL, rec.APIUser = h.jira.URL, "bot@example.com"
	case integrations.ServiceNow:
		rec.APIURL, rec.APIUser = h.sn.URL+"/", "hookgate"
	case integrations.ManageEngine:
		rec.APIURL = h.me.URL
	}
	h.mu.Lock()
	h.recs = append(h.recs, rec)
	h.mu.Unlock()
	return rec
}

func (h *harness) poller(instance string, mod func(*poller.Config)) *poller.Poller {
	cfg := poller.Config{
		Lister: func(context.Context) ([]integrations.Record, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			return append([]integrations.Record(nil), h.recs...), nil
		},
		Commit: func(_ context.Context, rec integrations.Record, evs []events.Event) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.commitErr != nil {
				n := 0
				for _, c := range h.commits {
					if c.integration == rec.ID {
						n++
					}
				}
				if err := h.commitErr(rec.ID, n); err != nil {
					return err
				}
			}
			h.commits = append(h.commits, commitCall{instance: instance, integration: rec.ID, evs: evs})
			return nil
		},
		State:    h.state,
		Interval: time.Minute,
		Now:      h.clock.Now,
		Instance: instance,
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := poller.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// committed returns the events committed for integration, in order.
func (h *harness) committed(integration string) []events.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []events.Event
	for _, c := range h.commits {
		if c.integration == integration {
			out = append(out, c.evs...)
		}
	}
	return out
}

func (h *harness) commitCalls(integration string) []commitCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []commitCall
	for _, c := range h.commits {
		if c.integration == integration {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) status(p *poller.Poller) map[string]poller.IntegrationStatus {
	h.t.Helper()
	rows, err := p.Status(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]poller.IntegrationStatus{}
	for _, r := range rows {
		out[r.Integration] = r
	}
	return out
}

func (h *harness) cursor(id string) time.Time {
	h.t.Helper()
	c, err := h.state.Cursor(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// pollOnce runs PollOnce and returns its error text ("" for none).
func pollOnce(t *testing.T, p *poller.Poller) string {
	t.Helper()
	if err := p.PollOnce(context.Background()); err != nil {
		return err.Error()
	}
	return ""
}

// webhookEvents normalizes a testdata payload as the handler would.
func webhookEvents(t *testing.T, rec integrations.Record, file string) []events.Event {
	t.Helper()
	body, err := os.ReadFile("../testdata/payloads/" + file)
	if err != nil {
		t.Fatal(err)
	}
	ident := events.Identify(rec.Vendor, rec.EffectiveScheme(), nil, body)
	evs, ignored, reason, err := events.Normalize(events.Delivery{
		Vendor: rec.Vendor, Integration: rec.ID, Body: body, Identity: ident,
		DeliveryKey: events.DeliveryKey(rec.ID, "wh-1", body), Signature: "valid",
		Via: "webhook", ReceivedAt: t0.Add(time.Hour),
	})
	if err != nil || ignored {
		t.Fatalf("%s: %v %s", file, err, reason)
	}
	evs, _ = events.Orchestrate(rec, evs)
	return evs
}
