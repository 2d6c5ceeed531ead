package jira

import (
	"net/http"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// identify reads the event name from the body's webhookEvent (as normalize
// reads the body: names matched exactly) and the delivery id from
// X-Atlassian-Webhook-Identifier.
func identify(_ integrations.Scheme, h http.Header, body []byte) events.Identity {
	var b struct {
		WebhookEvent events.BodyString `json:"webhookEvent"`
	}
	if events.Decode(body, &b) != nil {
		b.WebhookEvent = ""
	}
	return events.Identity{Event: string(b.WebhookEvent), Delivery: h.Get("X-Atlassian-Webhook-Identifier")}
}
