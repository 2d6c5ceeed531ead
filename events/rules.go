package events

import (
	"fmt"
	"net/http"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Rules is what a vendor package (vendors/<name>) registers about its
// deliveries: how they name themselves, what they mean, and when a ticket
// they report is done. Identify, Normalize and Orchestrate dispatch
// through it; the shared mechanics (bounds, ids, event builders) stay
// here.
type Rules struct {
	// Identify reads the vendor's event name and delivery id from the
	// scheme the record uses, the request header (nil for a polled
	// delivery) and the verified raw body. What it returns is bounded by
	// Identify afterwards (values longer than 256 bytes or not printable
	// ASCII are dropped), so it need not be; it must not keep h or body.
	// Default: the template identification TEMPLATES.md documents, the
	// body's top-level `event` and `delivery` fields, the event being
	// `build` for a CI vendor and `ticket` for a ticket vendor when the
	// body names none.
	Identify func(s integrations.Scheme, h http.Header, body []byte) Identity
	// Normalize turns one delivery into its primary events, built with
	// the Input's CIEvent, StatusEvent and CommentEvent. It returns no
	// events and a reason when the vendor event is deliberately ignored,
	// and an error wrapping ErrMalformed (Malformed, Decode) when the body
	// is not what the event needs. The body it gets has passed CheckJSON.
	// Required.
	Normalize func(in *Input) (evs []Event, reason string, err error)
	// DoneByState says how Orchestrate decides that a status change
	// reaches a done status: true, when the status is one of the record's
	// EffectiveDoneStates (compared case-insensitively, ignoring the
	// states' surrounding space), which then also sets status_category
	// `done`; for vendors whose statuses carry no category of their own
	// (ServiceNow states, ManageEngine status names). Default: false, when
	// the event's status category is `done`, as the vendor reported it
	// (Jira's statusCategory).
	DoneByState bool
}

// registry holds every vendor's rules. It is filled by Register from the
// vendor packages' init functions and only read after that, so reads (one
// or two per delivery) take no lock.
var registry = map[integrations.Vendor]Rules{}

// Register adds vendor v's rules. Call it from the vendor package's init
// only. It panics on an empty vendor name, rules without Normalize, or a
// vendor registered twice: programming errors found at start.
func Register(v integrations.Vendor, r Rules) {
	if v == "" || r.Normalize == nil {
		panic("events: rules without a vendor name or a Normalize function")
	}
	if _, dup := registry[v]; dup {
		panic(fmt.Sprintf("events: rules for vendor %q registered twice", v))
	}
	registry[v] = r
}
