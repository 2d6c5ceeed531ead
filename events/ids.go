package events

import (
	"crypto/sha256"
	"encoding/hex"
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
