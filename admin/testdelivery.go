package admin

import (
	"slices"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/state"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// testDelivery tells the test delivery setup asked for from every other
// delivery in the audit log: by a delivery id the vendor's API reported
// (GitLab), by the hook its signed body names and its event (a GitHub
// ping), or, for a delivery the operator triggers by hand (a vendor
// without a test API), as any delivery accepted as new.
type testDelivery vendorapi.TestDelivery

// names reports whether e is, by what it says of itself, the test
// delivery.
func (t testDelivery) names(e state.AuditEntry) bool {
	switch {
	case len(t.Deliveries) > 0:
		return e.Delivery != "" && slices.Contains(t.Deliveries, e.Delivery)
	case t.Hook != "":
		return e.Hook == t.Hook && (t.Event == "" || e.Event == t.Event)
	}
	return !t.Sent
}

// find looks through the entries that arrived at or after start (the
// integration's accepted and rejected lists) for the test delivery: one
// accepted as new with a valid signature is verified; one refused is
// found with its reason. A copy of an earlier delivery (a duplicate, a
// replay, a stale one) is never the test, whatever it names: it proves
// nothing about the vendor's hook. Every entry that is not the test is
// counted as ignored.
func (t testDelivery) find(accepted, rejected []state.AuditEntry, start time.Time) sighting {
	var seen sighting
	var refused *state.AuditEntry
	for i := range accepted {
		e := &accepted[i]
		switch {
		case e.Time.Before(start):
		case e.Action == "duplicate" || !t.names(*e):
			seen.ignored++
		case e.Signature == "valid" && !seen.verified:
			seen.found, seen.verified, seen.delivery, seen.event = true, true, e.Delivery, e.Event
		case refused == nil:
			refused = e
		}
	}
	for i := range rejected {
		e := &rejected[i]
		switch {
		case e.Time.Before(start):
		case copyOf(*e) || !t.names(*e):
			seen.ignored++
		case refused == nil:
			refused = e
		}
	}
	if seen.verified || refused == nil {
		return seen
	}
	seen.found, seen.delivery, seen.event, seen.problem = true, refused.Delivery, refused.Event, refusal(*refused)
	return seen
}

// copyOf reports whether a rejected entry is a verified copy of a
// delivery handled before: a replay, or one older than max_age.
func copyOf(e state.AuditEntry) bool {
	return e.Signature == "valid" && (e.Action == "replay" || e.Action == "stale")
}

// refusal says why the test delivery was not verified.
func refusal(e state.AuditEntry) string {
	switch e.Signature {
	case "valid":
		return "delivery seen but refused: " + e.Reason
	case "unsigned":
		return "delivery seen but unsigned: the integration has no secret"
	}
	reason := strings.TrimPrefix(e.Reason, "signature invalid: ")
	if reason == "" {
		reason = e.Signature
	}
	return "delivery seen but signature invalid: " + reason
}
