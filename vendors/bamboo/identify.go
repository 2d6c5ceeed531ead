package bamboo

import (
	"net/http"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// identify reads the template's `event` and `delivery` fields, as for every
// template vendor, except that a Bamboo variable left unsubstituted reads
// as absent: a Bamboo without ${bamboo.webhook.uuid} would otherwise send
// the same literal id with every build, and each build after the first
// would be a duplicate. Without a delivery id the dedupe key is the body's
// digest.
func identify(_ integrations.Scheme, _ http.Header, body []byte) events.Identity {
	id := events.TemplateIdentity(Vendor, body)
	id.Delivery = resolved(id.Delivery)
	if resolved(id.Event) == "" {
		id.Event = events.TemplateIdentity(Vendor, nil).Event
	}
	return id
}
