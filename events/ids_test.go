package events_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

func readPayload(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "payloads", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func allIDs(t *testing.T, d Delivery) []string {
	t.Helper()
	evs, ign, reason, err := Normalize(d)
	if err != nil || ign {
		t.Fatalf("ignored=%v %s err=%v", ign, reason, err)
	}
	all, _ := Orchestrate(integrations.Record{Vendor: d.Vendor, Scans: []string{"sast", "sca"}, Pipeline: true}, evs)
	var ids []string
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	return ids
}

// TestIDsStable: the same delivery (a vendor retry, received later) yields
// the same ids; another delivery id yields other ids.
func TestIDsStable(t *testing.T) {
	for _, rel := range []string{"github/push.json", "bitbucket/repo-push--multi.json", "azuredevops/git-push--multi.json", "jenkins/build-finalized.json"} {
		t.Run(rel, func(t *testing.T) {
			body := readPayload(t, rel)
			d1 := fileDelivery(t, rel, body)
			d2 := fileDelivery(t, rel, body)
			d2.ReceivedAt = d2.ReceivedAt.Add(time.Hour) // a retry
			a, b := allIDs(t, d1), allIDs(t, d2)
			if len(a) != len(b) {
				t.Fatalf("%d vs %d events", len(a), len(b))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Errorf("event %d: %s vs %s", i, a[i], b[i])
				}
			}
			d3 := fileDelivery(t, rel, body)
			d3.Identity.Delivery = "another-delivery"
			d3.DeliveryKey = DeliveryKey(d3.Integration, "another-delivery", body)
			seen := map[string]bool{}
			for _, id := range a {
				seen[id] = true
			}
			for _, id := range allIDs(t, d3) {
				if seen[id] {
					t.Errorf("id %s shared by two deliveries", id)
				}
			}
		})
	}
}

// TestTicketIDConvergence: a status change normalized from a webhook has
// the id the poller computes from (integration, key, status, change time),
// whatever the delivery, its receive time or its via.
func TestTicketIDConvergence(t *testing.T) {
	cases := []struct {
		rel, key, status string
		changedAt        time.Time
	}{
		{"jira/issue-updated.json", "SEC-42", "Done", time.UnixMilli(1741097622000)},
		{"servicenow/incident-resolved.json", "INC0010234", "6", time.Date(2025, 3, 4, 14, 5, 11, 0, time.UTC)},
		{"manageengine/request-closed.json", "5731", "Closed", time.UnixMilli(1741098311000)},
	}
	for _, c := range cases {
		t.Run(c.rel, func(t *testing.T) {
			body := readPayload(t, c.rel)
			d := fileDelivery(t, c.rel, body)
			evs, _, _, err := Normalize(d)
			if err != nil {
				t.Fatal(err)
			}
			want := TicketEventID(d.Integration, c.key, c.status, c.changedAt.In(time.FixedZone("x", 3600)).Add(400*time.Millisecond))
			if evs[0].Type != TypeTicketStatus || evs[0].ID != want {
				t.Fatalf("webhook id %s (%s), poll id %s", evs[0].ID, evs[0].Type, want)
			}
			polled := d
			polled.Via = "poll"
			polled.Identity.Delivery = ""
			polled.DeliveryKey = DeliveryKey(d.Integration, "", body)
			polled.ReceivedAt = d.ReceivedAt.Add(5 * time.Minute)
			pevs, _, _, err := Normalize(polled)
			if err != nil || pevs[0].ID != want {
				t.Fatalf("poll-shaped delivery id %v err %v", pevs, err)
			}
		})
	}
	if TicketEventID("a", "K-1", "Done", time.Unix(100, 0)) == TicketEventID("b", "K-1", "Done", time.Unix(100, 0)) ||
		TicketEventID("a", "K-1", "Done", time.Unix(100, 0)) == TicketEventID("a", "K-1", "Done", time.Unix(101, 0)) ||
		TicketEventID("a", "K-1", "Done", time.Unix(100, 0)) == TicketEventID("a", "K-1", "Open", time.Unix(100, 0)) {
		t.Fatal("ticket ids collide")
	}
	first, again := TicketCommentID("a", "K-1", "10"), TicketCommentID("a", "K-1", "10")
	if first == TicketCommentID("a", "K-1", "11") || first != again {
		t.Fatal("comment ids")
	}
}
