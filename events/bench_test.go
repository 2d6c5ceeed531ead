package events_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	. "github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// githubPush8K is a GitHub push of about 8 KiB: the shape of
// testdata/payloads/github/push.json with enough commits to fill it.
func githubPush8K() []byte {
	var commits []string
	for i := 0; len(strings.Join(commits, ",")) < 7000; i++ {
		commits = append(commits, fmt.Sprintf(`{"id":"%040x","message":"Change %d: validate refund amounts before posting","timestamp":"2025-03-04T10:21:07Z","author":{"name":"Dana Ito","email":"dana@acme.example","username":"dana-ito"},"added":[],"removed":[],"modified":["internal/refund/refund_%d.go"]}`, i+1, i, i))
	}
	return []byte(`{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","created":false,"deleted":false,"forced":false,"compare":"https://github.com/acme/payments-api/compare/6113728f27ae...0d1a26e67d8f","commits":[` +
		strings.Join(commits, ",") +
		`],"repository":{"id":482910334,"name":"payments-api","full_name":"acme/payments-api","private":true,"pushed_at":1741084210},"pusher":{"name":"dana-ito","email":"dana@acme.example"},"sender":{"login":"dana-ito","id":7731920,"type":"User"}}`)
}

// BenchmarkNormalizeOrchestrate is the hot path of a verified GitHub push.
func BenchmarkNormalizeOrchestrate(b *testing.B) {
	body := githubPush8K()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-GitHub-Event", "push")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	id := Identify(integrations.GitHub, integrations.SchemeHMAC, h, body)
	d := Delivery{Vendor: integrations.GitHub, Integration: "demo-gh", Header: h, Body: body, Identity: id,
		DeliveryKey: DeliveryKey("demo-gh", id.Delivery, body), Signature: "valid", Via: "webhook", ReceivedAt: testReceived}
	rec := integrations.Record{ID: "demo-gh", Vendor: integrations.GitHub, Branches: []string{"main", "release/*"}, Scans: []string{"sast", "sca"}, Pipeline: true}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		evs, _, _, err := Normalize(d)
		if err != nil || len(evs) != 1 {
			b.Fatal(err)
		}
		if all, _ := Orchestrate(rec, evs); len(all) != 4 {
			b.Fatal(len(all))
		}
	}
}

// BenchmarkIdentify reads the identity of a delivery the three ways
// vendors carry it: headers (GitHub), a header and the body (Jira), and
// the template fields (ServiceNow).
func BenchmarkIdentify(b *testing.B) {
	gh := http.Header{}
	gh.Set("X-GitHub-Event", "push")
	gh.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	jira := http.Header{}
	jira.Set("X-Atlassian-Webhook-Identifier", "jira-42")
	for _, c := range []struct {
		name   string
		vendor integrations.Vendor
		h      http.Header
		body   []byte
	}{
		{"github", integrations.GitHub, gh, githubPush8K()},
		{"jira", integrations.Jira, jira, []byte(`{"timestamp":1741097622000,"webhookEvent":"jira:issue_updated","issue":{"key":"SEC-42","fields":{"status":{"name":"Done","statusCategory":{"key":"done"}}}},"changelog":{"items":[{"field":"status","toString":"Done"}]}}`)},
		{"servicenow", integrations.ServiceNow, nil, []byte(`{"event":"incident.updated","delivery":"46d44a2f","number":"INC0010234","state":"6","sys_updated_on":"2025-03-04 14:05:11"}`)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if id := Identify(c.vendor, c.vendor.DefaultScheme(), c.h, c.body); id.Event == "" {
					b.Fatal(id)
				}
			}
		})
	}
}

// BenchmarkNormalizeOrchestrateTicket is the hot path of a verified
// ServiceNow update: a state change to a done state and a comment.
func BenchmarkNormalizeOrchestrateTicket(b *testing.B) {
	body := []byte(`{"number":"INC0010234","state":"6","previous_state":"2","comments":"Patched to the fixed release and redeployed; please retest.","sys_updated_on":"2025-03-04 14:05:11","sys_updated_by":"r.okafor"}`)
	v := integrations.ServiceNow
	id := Identify(v, v.DefaultScheme(), nil, body)
	d := Delivery{Vendor: v, Integration: "sn-prod", Body: body, Identity: id,
		DeliveryKey: DeliveryKey("sn-prod", id.Delivery, body), Signature: "valid", Via: "webhook", ReceivedAt: testReceived}
	rec := integrations.Record{ID: "sn-prod", Vendor: v, AutoCloseOnResolve: true, DoneStates: []string{"6", "7"}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		evs, _, _, err := Normalize(d)
		if err != nil || len(evs) != 2 {
			b.Fatal(err)
		}
		if _, action := Orchestrate(rec, evs); action != "forwarded,transition:closed" {
			b.Fatal(action)
		}
	}
}

// BenchmarkCheckJSON is the input guard alone on the 8 KiB push: the walk
// over its tokens and the duplicate-key check of every object.
func BenchmarkCheckJSON(b *testing.B) {
	body := githubPush8K()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}
