package state

import (
	"context"
	"errors"
	"time"
)

// AuditEntry is one decision about one delivery, as
// GET /hookgate/integrations/{id}/events shows it.
type AuditEntry struct {
	Time        time.Time `json:"time"`
	Vendor      string    `json:"vendor"`
	Event       string    `json:"event"`
	Repository  string    `json:"repository"`
	Branch      string    `json:"branch"`
	Commit      string    `json:"commit"`
	PullRequest int       `json:"pull_request"`
	Delivery    string    `json:"delivery"`
	// Hook is the vendor's id of the hook that sent the delivery, when it
	// names one: for an accepted delivery as its signed body states it
	// (a GitHub ping's hook_id), for a refused one as its headers do
	// (X-GitHub-Hook-ID). Setup matches its test delivery by it.
	Hook      string `json:"hook_id,omitempty"`
	EventID   string `json:"event_id"`
	Action    string `json:"action"`
	Signature string `json:"signature"` // valid, unsigned, missing, invalid
	Reason    string `json:"reason"`
}

// OutboxEvent is one event to deliver: its id (the Idempotency-Key) and
// its JSON body as the finding service receives it.
type OutboxEvent struct {
	ID   string
	Body []byte
	// Order places a ticket status change in its ticket's history; the
	// zero Order: not ordered.
	Order Order
}

// Accepted is everything one verified delivery leaves behind, written in
// one round trip before the vendor gets its 2xx.
type Accepted struct {
	Integration string
	// DedupeKey marks the delivery as handled for DedupeTTL; empty: no mark.
	DedupeKey string
	// ReplayKey marks the delivery's body as handled for DedupeTTL, for
	// schemes whose MAC covers the body but not the delivery id: the same
	// body under any other delivery id is a Replay. Empty: no mark.
	ReplayKey string
	// ReplayOwner names the delivery (its delivery key) the replay key is
	// marked for: the same body under the same delivery is a Duplicate, a
	// vendor's retry, under any other a Replay.
	ReplayOwner string
	DedupeTTL   time.Duration
	// Events go to the outbox, in order.
	Events []OutboxEvent
	// Audit goes to the integration's accepted list, trimmed to AuditSize.
	Audit     AuditEntry
	AuditSize int
	// MaxOutbox refuses the commit with ErrOutboxFull, writing nothing,
	// when the outbox (queued, in flight and waiting to retry) would hold
	// more than this many events with Events added. 0: no bound.
	MaxOutbox int
}

// marks are the keys a marks: its dedupe key and its replay key, "" for
// none. A dedupe key that is the replay key (a delivery without an id is
// keyed by its body) is the replay key only, so the mark records the
// delivery it was handled for.
func (a Accepted) marks() (dedupe, replay string) {
	dedupe, replay = a.DedupeKey, a.ReplayKey
	if dedupe == replay {
		dedupe = ""
	}
	return dedupe, replay
}

// ErrUnavailable wraps every failure to reach the backing store; the
// handler answers 503 with Retry-After and never acknowledges.
var ErrUnavailable = errors.New("state store unavailable")

// ErrOutboxFull is Commit's answer when the outbox already holds
// Accepted.MaxOutbox events: nothing was written, and the handler answers
// 503 with Retry-After so the vendor retries once the outbox drained.
var ErrOutboxFull = errors.New("outbox full")

// Deliveries records verified deliveries and answers dedupe questions.
//
// Every write below is one atomic step. A delivery's DedupeKey and
// ReplayKey are checked in this order: ReplayKey marked for another
// delivery (ReplayOwner) is Replay; DedupeKey marked, or ReplayKey marked
// for this delivery, is Duplicate; either one claimed by a copy in flight
// is InFlight. Then its ordered events are checked against the newest change
// handed on for their tickets. Only then is anything handed on or claimed.
type Deliveries interface {
	// Commit writes a's events, audit entry and marks atomically (forward
	// mode and the poller). Events whose ticket already moved by a newer
	// change are left out, and when that leaves none of a delivery that
	// had some, the outcome is Stale: its DedupeKey (a ticket change's
	// own key) is marked, so the next sighting of the change is a
	// Duplicate, its ReplayKey is not. Duplicate, Replay and Stale write
	// only their audit entry; InFlight writes nothing. When the events
	// would take the outbox past a.MaxOutbox it writes nothing and returns
	// ErrOutboxFull.
	Commit(ctx context.Context, a Accepted) (Outcome, error)
	// Claim holds a's keys for token for lease (gate mode, before passing
	// the delivery on): Claimed, or why not, checked as Commit does; a
	// delivery with any stale event is Stale. a.Events are read for their
	// Order only.
	Claim(ctx context.Context, a Accepted, token string, lease time.Duration) (Outcome, error)
	// Finish marks a claimed delivery handled: its keys for a.DedupeTTL,
	// its events' order, a.Audit in the accepted list (gate mode, after
	// the next handler answered 2xx).
	Finish(ctx context.Context, a Accepted) error
	// Release drops the claims token holds on a's keys, so a retry of the
	// delivery passes (gate mode, after the next handler failed).
	Release(ctx context.Context, a Accepted, token string) error
	// Seen reports whether key is marked handled (a claim is not).
	Seen(ctx context.Context, key string) (bool, error)
	// Reject audits a refused delivery of a KNOWN integration in its
	// rejected list (never called for unknown ids).
	Reject(ctx context.Context, integration string, entry AuditEntry, auditSize int) error
	// Audit returns an integration's entries, newest first.
	Audit(ctx context.Context, integration string) (accepted, rejected []AuditEntry, err error)
}

// Pending is one outbox event handed to a delivery worker.
type Pending struct {
	// StreamID is the store's id of this hand-out; pass it back to Done,
	// Retry or Dead.
	StreamID string
	Event    OutboxEvent
	// Attempts made before this one.
	Attempts int
	// LastError of the previous attempt, if any.
	LastError string
}

// DeadLetter is an event that will not be retried any more.
type DeadLetter struct {
	ID        string    `json:"id"`
	Event     []byte    `json:"-"` // the event JSON, shown in full by the admin API
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	FailedAt  time.Time `json:"failed_at"`
}

// Outbox hands events to delivery workers at least once. Several workers,
// in one process or many, share it without an event being handed to two
// of them at once in the normal course.
type Outbox interface {
	// Next returns up to n events due now for consumer, waiting up to
	// block for one: new events, events whose retry time has come, and
	// events another consumer took more than reclaimAfter ago without
	// finishing (it crashed).
	Next(ctx context.Context, consumer string, n int, block, reclaimAfter time.Duration) ([]Pending, error)
	// Done removes delivered events, all of them in one round trip.
	Done(ctx context.Context, ps ...Pending) error
	// Retry puts the event back to be handed out again at at.
	Retry(ctx context.Context, p Pending, at time.Time, lastErr string) error
	// Dead moves the event to the dead letters.
	Dead(ctx context.Context, p Pending, lastErr string, at time.Time) error
	// HandBack returns events unfinished, as a worker that stops with
	// them in hand does: each is handed out again at once, to any
	// consumer, without counting an attempt, instead of waiting for
	// reclaimAfter. An event another consumer already finished is left
	// alone.
	HandBack(ctx context.Context, ps ...Pending) error
	// DeadLetters lists dead letters, oldest first (at most limit).
	DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error)
	// Redrive puts the named dead letters (all when ids is empty) back on
	// the outbox with their attempts reset; it returns how many moved.
	Redrive(ctx context.Context, ids []string) (int, error)
	// Stats reports the outbox length (queued plus waiting to retry) and the
	// age of the oldest event not yet delivered.
	Stats(ctx context.Context) (length int, oldest time.Duration, err error)
}
