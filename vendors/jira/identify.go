package jira

import (
	"encoding/json"
	"net/http"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// identify reads the event name from the body's webhookEvent and the
// delivery id from X-Atlassian-Webhook-Identifier.
func identify(_ integrations.Scheme, h http.Header, body []byte) events.Identity {
	var b struct {
		WebhookEvent string `json:"webhookEvent"`
	}
	_ = json.Unmarshal(body, &b)
	return events.Identity{Event: b.WebhookEvent, Delivery: h.Get("X-Atlassian-Webhook-Identifier")}
}
