package events

import (
	"encoding/json"
	"net/http"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Identity is what a delivery says about itself.
type Identity struct {
	// Event is the vendor's event name, e.g. `push` or `jira:issue_updated`.
	Event string
	// Delivery is the vendor's delivery id, the same across the vendor's
	// retries; empty when the vendor sends none.
	Delivery string
}

// maxIdentityLen bounds what is taken from a header or body field.
const maxIdentityLen = 256

// Identify reads the event name and delivery id where VENDORS.md says each
// vendor puts them. The body is only parsed for vendors that carry them
// there (Jira, Azure DevOps, and the template vendors).
func Identify(v integrations.Vendor, s integrations.Scheme, h http.Header, body []byte) Identity {
	switch v {
	case integrations.GitHub:
		// Header names in canonical form: Get then needs no allocation.
		return bounded(Identity{Event: h.Get("X-Github-Event"), Delivery: h.Get("X-Github-Delivery")})
	case integrations.GitLab:
		id := Identity{Event: h.Get("X-Gitlab-Event")}
		if s == integrations.SchemeSigning {
			id.Delivery = h.Get("Webhook-Id")
		}
		id.Delivery = first(id.Delivery, h.Get("Idempotency-Key"), h.Get("X-Gitlab-Webhook-Uuid"), h.Get("X-Gitlab-Event-Uuid"))
		return bounded(id)
	case integrations.Bitbucket:
		return bounded(Identity{Event: h.Get("X-Event-Key"), Delivery: first(h.Get("X-Request-Uuid"), h.Get("X-Request-Id"))})
	case integrations.Jira:
		var b struct {
			WebhookEvent string `json:"webhookEvent"`
		}
		_ = json.Unmarshal(body, &b)
		return bounded(Identity{Event: b.WebhookEvent, Delivery: h.Get("X-Atlassian-Webhook-Identifier")})
	case integrations.AzureDevOps:
		var b struct {
			EventType string `json:"eventType"`
			ID        string `json:"id"`
		}
		_ = json.Unmarshal(body, &b)
		return bounded(Identity{Event: b.EventType, Delivery: b.ID})
	default:
		// Jenkins, Bamboo, ServiceNow and ManageEngine send the template
		// the README documents: top-level "event" and "delivery" fields.
		var b struct {
			Event    string `json:"event"`
			Delivery string `json:"delivery"`
		}
		_ = json.Unmarshal(body, &b)
		if b.Event == "" {
			b.Event = defaultEvent(v)
		}
		return bounded(Identity{Event: b.Event, Delivery: b.Delivery})
	}
}

func defaultEvent(v integrations.Vendor) string {
	if v.IsCI() {
		return "build"
	}
	return "ticket"
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// bounded drops values that are too long or not printable ASCII, so they
// can go into headers and logs as they are.
func bounded(id Identity) Identity {
	if !printable(id.Event) {
		id.Event = ""
	}
	if !printable(id.Delivery) {
		id.Delivery = ""
	}
	return id
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
