package github

import (
	"net/http"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// identify reads the event name from X-GitHub-Event, the delivery id, the
// same across redeliveries, from X-GitHub-Delivery, and the hook's id from
// X-GitHub-Hook-ID.
func identify(_ integrations.Scheme, h http.Header, _ []byte) events.Identity {
	// Header names in canonical form: Get then needs no allocation.
	return events.Identity{Event: h.Get("X-Github-Event"), Delivery: h.Get("X-Github-Delivery"), Hook: h.Get("X-Github-Hook-Id")}
}
