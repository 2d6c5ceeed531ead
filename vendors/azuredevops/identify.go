package azuredevops

import (
	"encoding/json"
	"net/http"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// identify reads the event name from the body's eventType and the
// delivery id from its id: service hooks put both in the body.
func identify(_ integrations.Scheme, _ http.Header, body []byte) events.Identity {
	var b struct {
		EventType string `json:"eventType"`
		ID        string `json:"id"`
	}
	_ = json.Unmarshal(body, &b)
	return events.Identity{Event: b.EventType, Delivery: b.ID}
}
