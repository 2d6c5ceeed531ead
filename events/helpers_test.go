package events_test

import (
	"net/http"

	. "github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// testDelivery builds a delivery the way the handler does, with the event
// name where the vendor carries it.
func testDelivery(vendor, event string, body []byte) Delivery {
	v := integrations.Vendor(vendor)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	switch v {
	case integrations.GitHub:
		h.Set("X-GitHub-Event", event)
		h.Set("X-GitHub-Delivery", "d-1")
	case integrations.GitLab:
		h.Set("X-Gitlab-Event", event)
	case integrations.Bitbucket:
		h.Set("X-Event-Key", event)
	}
	id := Identify(v, v.DefaultScheme(), h, body)
	if id.Event == "" {
		id.Event = event
	}
	return Delivery{
		Vendor:      v,
		Integration: "it-1",
		Header:      h,
		Body:        body,
		Identity:    id,
		DeliveryKey: DeliveryKey("it-1", id.Delivery, body),
		Signature:   "valid",
		Via:         "webhook",
		ReceivedAt:  testReceived,
	}
}
