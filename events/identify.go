package events

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	gojson "github.com/goccy/go-json/v2"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Identity is what a delivery says about itself.
type Identity struct {
	// Event is the vendor's event name, e.g. `push` or `jira:issue_updated`.
	Event string
	// Delivery is the vendor's delivery id, the same across the vendor's
	// retries; empty when the vendor sends none. An id that is too long or
	// not printable ASCII is its digest: `sha256:` and 32 hex digits.
	Delivery string
	// Hook is the vendor's id of the hook that sent the delivery, as the
	// request's headers name it (GitHub's X-GitHub-Hook-ID); empty when
	// they name none, or none printable and short. No credential covers
	// it: a refused delivery's audit entry shows it, an accepted one's the
	// hook its signed body names (Facts.Hook).
	Hook string
}

// maxIdentityLen bounds what is taken from a header or body field.
const maxIdentityLen = 256

// Identify reads the event name and delivery id where VENDORS.md says each
// vendor puts them: its registered Rules.Identify, else (template vendors,
// and vendors nobody registered) the body's top-level `event` and
// `delivery` fields. An event name too long or not printable ASCII is
// dropped; such a delivery id is replaced by its digest, so that distinct
// ids stay distinct deliveries.
func Identify(v integrations.Vendor, s integrations.Scheme, h http.Header, body []byte) Identity {
	if r := registry[v]; r.Identify != nil {
		return bounded(r.Identify(s, h, body))
	}
	return bounded(TemplateIdentity(v, body))
}

// TemplateIdentity reads the template TEMPLATES.md documents (Jenkins,
// Bamboo, ServiceNow and ManageEngine send it): top-level "event" and
// "delivery" fields, the event defaulting to the vendor's kind ("build"
// or "ticket"). It is the Identify of vendors that register none, and a
// vendor's own Identify may start from it.
func TemplateIdentity(v integrations.Vendor, body []byte) Identity {
	var b struct {
		Event    BodyString `json:"event"`
		Delivery BodyString `json:"delivery"`
	}
	if Decode(body, &b) != nil {
		b.Event, b.Delivery = "", ""
	}
	if b.Event == "" {
		b.Event = BodyString(defaultEvent(v))
	}
	return Identity{Event: string(b.Event), Delivery: string(b.Delivery)}
}

// BodyString is a field an Identify function reads from the body, with
// Decode (names matched exactly, as every normalizer matches them, so the
// identity and the events read one body alike). A JSON string is its
// value; any other value reads as empty, so that a field of the wrong type
// drops only itself. A body Decode refuses yields no fields at all.
type BodyString string

// UnmarshalJSON takes a string, and leaves anything else empty.
func (s *BodyString) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '"' {
		return nil
	}
	var v string
	if gojson.Unmarshal(b, &v, decodeOptions) == nil {
		*s = BodyString(v)
	}
	return nil
}

func defaultEvent(v integrations.Vendor) string {
	if v.IsCI() {
		return "build"
	}
	return "ticket"
}

// bounded keeps what goes into headers and logs as it is printable and
// short: an event name or hook id that is not is dropped, a delivery id
// hashed. A
// delivery id is the dedupe key (DeliveryKey), so dropping one would make
// every delivery of one body with an over-long id (a Standard Webhooks
// webhook-id may be up to the verifier's credential bound) a duplicate of
// the first.
func bounded(id Identity) Identity {
	if !printable(id.Event) {
		id.Event = ""
	}
	if !printable(id.Hook) {
		id.Hook = ""
	}
	if !printable(id.Delivery) {
		id.Delivery = hashedDelivery(id.Delivery)
	}
	return id
}

// hashedDelivery stands for a delivery id too long or not printable ASCII
// to go into headers and logs: `sha256:` and the hex of the first 16 bytes
// of the id's SHA-256, 39 printable bytes.
func hashedDelivery(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

func printable(s string) bool {
	if len(s) > maxIdentityLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
