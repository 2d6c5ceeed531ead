package gitlab

import (
	"cmp"
	"net/http"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// identify reads the event name from X-Gitlab-Event and the delivery id
// from the first header that carries one: Webhook-Id when the record
// verifies signing tokens (Standard Webhooks), then Idempotency-Key,
// X-Gitlab-Webhook-UUID and X-Gitlab-Event-UUID.
func identify(s integrations.Scheme, h http.Header, _ []byte) events.Identity {
	id := events.Identity{Event: h.Get("X-Gitlab-Event")}
	if s == integrations.SchemeSigning {
		id.Delivery = h.Get("Webhook-Id")
	}
	id.Delivery = cmp.Or(id.Delivery, h.Get("Idempotency-Key"), h.Get("X-Gitlab-Webhook-Uuid"), h.Get("X-Gitlab-Event-Uuid"))
	return id
}
