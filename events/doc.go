// Package events turns verified deliveries into what the rest of hookgate
// reasons about: the vendor's event name, its delivery id, and stable event
// ids. It is pure: bytes and headers in, values out, no I/O. It only ever
// sees bodies that have already been verified.
package events
