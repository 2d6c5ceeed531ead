package events

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// DeliveryKey identifies one vendor delivery of one integration, the same
// across the vendor's retries: its delivery id when the vendor sends one,
// else the body's digest. It is the dedupe key and the root of event ids.
func DeliveryKey(integration, delivery string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(integration))
	h.Write([]byte{0})
	if delivery != "" {
		h.Write([]byte("d:"))
		h.Write([]byte(delivery))
	} else {
		h.Write([]byte("b:"))
		h.Write(body)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// EventID derives a stable event id from a delivery key and the event's
// place in what the delivery yields (its type and, for multi-ref pushes,
// the ref). The same delivery always yields the same ids.
func EventID(deliveryKey string, parts ...string) string {
	if len(parts) == 0 {
		return "evt_" + deliveryKey
	}
	h := sha256.New()
	h.Write([]byte(deliveryKey))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return "evt_" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// TicketEventID is the id of a ticket's status change: derived from the
// integration, the ticket key, the new status and the vendor's change time
// (cut to UTC seconds), never from the delivery, so a webhook and a later
// poll of the same change yield the same id and collapse into one event.
func TicketEventID(integration, key, status string, changedAt time.Time) string {
	return EventID(ticketRoot(integration), TypeTicketStatus, key, status,
		strconv.FormatInt(changedAt.UTC().Unix(), 10))
}

// TicketCommentID is the id of a ticket comment, derived from the
// integration, the ticket key and the vendor's comment id, so webhook and
// poll converge. An edited comment is a new version: Normalize passes
// `<comment id>@<unix seconds of the edit>` for edits (Jira
// comment_updated), and where a template vendor sends no comment id, the
// unix seconds of the ticket update as `@<seconds>`.
func TicketCommentID(integration, key, commentID string) string {
	return EventID(ticketRoot(integration), TypeTicketComment, key, commentID)
}

// ticketRoot keeps ticket ids apart from delivery-rooted ids: delivery keys
// are hex and never contain a colon.
func ticketRoot(integration string) string {
	return "ticket:" + integration
}
