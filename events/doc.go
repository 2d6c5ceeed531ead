// Package events turns verified deliveries into what the rest of hookgate
// reasons about: the vendor's event name and delivery id (Identify), stable
// ids (DeliveryKey, EventID, TicketEventID, TicketCommentID), the
// normalized events the finding service receives (Normalize, one file per
// vendor), and what an integration's settings add to them (Orchestrate:
// scans, pipelines, runbooks, finding transitions).
//
// It is pure: bytes and headers in, values out, no I/O, no clock. It only
// ever sees bodies that have already been verified, and still treats them
// as hostile: invalid UTF-8 and JSON nested deeper than MaxDepth are
// refused before unmarshalling, every copied string is bounded, and a body
// that is not what its event needs is ErrMalformed, never a panic. It never
// decides whether a delivery is authentic, never deduplicates, and never
// sends anything. TEMPLATES.md documents the bodies expected from the
// vendors whose payload the admin shapes.
package events
