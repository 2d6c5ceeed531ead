package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/state"
)

// The ticket-order property: whatever the interleaving of one ticket's
// history as webhooks (forward or gate mode), polls and replays (the same
// signed body again, under a new delivery id, after its dedupe mark
// expired or not), the status changes handed on are strictly increasing in
// vendor time, none twice, and the newest change is always among them.
// Run against the memory twin and a real Redis.

// orderStores are the stores the property runs against, fresh per run.
func orderStores(t *testing.T) map[string]func() state.Deliveries {
	c := testredis.Client(t)
	return map[string]func() state.Deliveries{
		"memory": func() state.Deliveries {
			return state.NewMemory(state.MemoryOptions{Now: func() time.Time { return now }})
		},
		"redis": func() state.Deliveries {
			return state.NewRedis(c, state.RedisOptions{KeyPrefix: testredis.Prefix(t, c)})
		},
	}
}

// jiraStatusBody is a Jira issue_updated body moving SEC-1 to status at at.
func jiraStatusBody(t *testing.T, status string, at time.Time) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(payload(t, "jira/issue-updated.json"), &d); err != nil {
		t.Fatal(err)
	}
	d["timestamp"] = at.UnixMilli()
	issue := d["issue"].(map[string]any)
	issue["key"] = "SEC-1"
	issue["fields"].(map[string]any)["status"] = map[string]any{"name": status, "id": "1", "statusCategory": map[string]any{"id": 2, "key": "indeterminate", "name": status}}
	d["changelog"] = map[string]any{"id": fmt.Sprint(at.UnixMilli()), "items": []any{
		map[string]any{"field": "status", "fieldtype": "jira", "from": "1", "fromString": "Before", "to": "2", "toString": status},
	}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTicketOrderProperty(t *testing.T) {
	ctx := context.Background()
	rec := integrations.Record{ID: "jira-prop", Vendor: integrations.Jira, Scheme: integrations.SchemeHMAC, Secret: "s", Active: true}
	p := Policy{DedupeWindow: time.Hour, AuditSize: 50}
	t0 := now.Add(-time.Hour)
	for name, newStore := range orderStores(t) {
		runs := 150
		if name == "redis" {
			runs = 40
		}
		for run := range runs {
			rng := rand.New(rand.NewPCG(uint64(run), 12))
			store := newStore()
			n := 2 + rng.IntN(5)
			// The history: n status changes, strictly later each.
			type change struct {
				at   time.Time
				body []byte
			}
			hist := make([]change, n)
			at := t0
			for i := range hist {
				at = at.Add(time.Duration(1+rng.IntN(600)) * time.Second)
				hist[i] = change{at, jiraStatusBody(t, fmt.Sprintf("S%d", i), at)}
			}
			var forwarded []events.Event
			gate := rng.IntN(2) == 0
			deliveries := 3*n + rng.IntN(3*n)
			for k := range deliveries {
				c := hist[rng.IntN(n)]
				if k == deliveries-1 {
					c = hist[n-1] // the newest change arrives at least once
				}
				switch rng.IntN(3) {
				case 0: // the poller's sighting
					v := webhookOf(t, rec, c.body, fmt.Sprintf("poll-%d", k))
					o, err := CommitPolled(ctx, store, p, rec, v.Events[0], now)
					if err != nil {
						t.Fatal(err)
					}
					if o == state.Committed {
						forwarded = append(forwarded, v.Events[0])
					}
				default: // a webhook, its vendor retry, or a replay under a new id
					id := fmt.Sprintf("%s-%d", c.at.Format("150405"), rng.IntN(2))
					if rng.IntN(3) == 0 {
						id = fmt.Sprintf("replay-%d", k)
					}
					v := webhookOf(t, rec, c.body, id)
					if gate {
						token := fmt.Sprint(k)
						o, err := Claim(ctx, store, p, v, token)
						if err != nil {
							t.Fatal(err)
						}
						if o != state.Claimed {
							continue
						}
						if rng.IntN(4) == 0 { // the backend failed: released
							if err := Release(ctx, store, p, v, token); err != nil {
								t.Fatal(err)
							}
							continue
						}
						if err := Finish(ctx, store, p, v); err != nil {
							t.Fatal(err)
						}
						forwarded = append(forwarded, v.Events...)
						continue
					}
					o, err := Commit(ctx, store, p, v)
					if err != nil {
						t.Fatal(err)
					}
					if o == state.Committed {
						forwarded = append(forwarded, v.Events...)
					}
				}
			}
			seen := map[string]bool{}
			for i, ev := range forwarded {
				if seen[ev.ID] {
					t.Fatalf("%s run %d: change %s forwarded twice: %v", name, run, ev.Ticket.Status, statuses(forwarded))
				}
				seen[ev.ID] = true
				if i > 0 && !ev.OccurredAt.After(forwarded[i-1].OccurredAt) {
					t.Fatalf("%s run %d (gate %v): forwarded out of vendor-time order: %v", name, run, gate, statuses(forwarded))
				}
			}
			if len(forwarded) == 0 || !forwarded[len(forwarded)-1].OccurredAt.Equal(hist[n-1].at) {
				// The newest change's last delivery may have been a failed
				// gate hand-on; then it must still pass on a retry.
				v := webhookOf(t, rec, hist[n-1].body, "final-retry")
				o, err := Commit(ctx, store, p, v)
				if err != nil {
					t.Fatal(err)
				}
				if o != state.Committed && o != state.Replay {
					t.Fatalf("%s run %d: the newest change never forwarded and now %v: %v", name, run, o, statuses(forwarded))
				}
				if o == state.Replay {
					t.Fatalf("%s run %d: the newest change was handled but not forwarded: %v", name, run, statuses(forwarded))
				}
			}
		}
	}
}

// webhookOf prepares a verified Jira delivery of body under delivery id.
func webhookOf(t *testing.T, rec integrations.Record, body []byte, id string) *Verified {
	t.Helper()
	v, err := Prepare(rec, webhook(rec, body, map[string]string{"X-Atlassian-Webhook-Identifier": id}), Policy{})
	if err != nil || len(v.Events) != 1 || v.Events[0].Type != events.TypeTicketStatus {
		t.Fatalf("prepare: %v, %+v", err, v)
	}
	return v
}

func statuses(evs []events.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Ticket.Status + "@" + ev.OccurredAt.Format("15:04:05")
	}
	return out
}
