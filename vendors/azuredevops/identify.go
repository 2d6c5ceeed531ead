package azuredevops

import (
	"net/http"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// identify reads the event name from the body's eventType and the
// delivery id from its id: service hooks put both in the body, which is
// read as normalize reads it (names matched exactly).
func identify(_ integrations.Scheme, _ http.Header, body []byte) events.Identity {
	var b struct {
		EventType events.BodyString `json:"eventType"`
		ID        events.BodyString `json:"id"`
	}
	if events.Decode(body, &b) != nil {
		return events.Identity{}
	}
	return events.Identity{Event: string(b.EventType), Delivery: string(b.ID)}
}
