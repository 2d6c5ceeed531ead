package bitbucket

import (
	"cmp"
	"net/http"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// identify reads the event name from X-Event-Key and the delivery id from
// X-Request-UUID (Cloud), else X-Request-Id (Data Center).
func identify(_ integrations.Scheme, h http.Header, _ []byte) events.Identity {
	return events.Identity{Event: h.Get("X-Event-Key"), Delivery: cmp.Or(h.Get("X-Request-Uuid"), h.Get("X-Request-Id"))}
}
