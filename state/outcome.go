package state

import "time"

// Outcome is what a Commit or a Claim made of one verified delivery.
type Outcome uint8

// The outcomes of Commit and Claim. Only Committed (Commit) and Claimed
// (Claim) hand anything on; the others write at most one audit entry.
const (
	// Committed: the events, the accepted audit entry and the marks are
	// written (Commit).
	Committed Outcome = iota
	// Claimed: the delivery's keys are held for the caller until Finish or
	// Release, or until the lease runs out (Claim).
	Claimed
	// Duplicate: the delivery's dedupe key is already marked; a
	// "duplicate" entry went to the accepted list.
	Duplicate
	// Replay: the delivery's body was already handled under another
	// delivery id (its replay key is marked); a "replay" entry went to the
	// rejected list and nothing else was written.
	Replay
	// Stale: every ticket status change the delivery carries is no newer
	// than the change last handed on for its ticket; a "stale" entry went
	// to the rejected list and nothing else was written.
	Stale
	// InFlight: another copy of the delivery holds a claim on one of its
	// keys; nothing was written.
	InFlight
)

// String is the outcome as logs and audit actions name it.
func (o Outcome) String() string {
	switch o {
	case Committed:
		return "committed"
	case Claimed:
		return "claimed"
	case Duplicate:
		return "duplicate"
	case Replay:
		return "replay"
	case Stale:
		return "stale"
	case InFlight:
		return "in flight"
	}
	return "unknown"
}

// Order places one ticket status change in its ticket's history: the
// ticket's key and the vendor's time of the change. Per integration and
// ticket the store keeps the newest At handed on; a change no newer than
// that is stale.
type Order struct {
	// Ticket is the ticket's key; empty: the event is not ordered.
	Ticket string
	// At is the vendor's change time, kept to the millisecond.
	At time.Time
}

// The reasons of the audit entries the store writes itself.
const (
	reasonReplay = "body already handled under another delivery id"
	reasonStale  = "ticket already moved by a newer change"
)

// outcomeEntry is the audit entry a Duplicate, Replay or Stale outcome
// writes in place of the delivery's own.
func outcomeEntry(e AuditEntry, o Outcome) AuditEntry {
	switch o {
	case Duplicate:
		e.Action = "duplicate"
	case Replay:
		e.Action, e.Reason = "replay", reasonReplay
	case Stale:
		e.Action, e.Reason = "stale", reasonStale
	}
	return e
}
