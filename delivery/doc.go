// Package delivery decides the fate of one verified delivery, for a
// webhook (gate or forward mode) and a polled ticket change alike: the
// record checks that come before verification (vendor, active, the
// unsigned policy, a credential sent to a secretless integration, which
// secrets are current), normalization and orchestration into events, what
// the signed body's facts allow (max_age, target), the dedupe and replay
// keys and the tickets' order marks, the audit entries, the outbox
// encoding, and the one atomic step that hands a delivery on: Commit to
// the outbox, or Claim, Finish and Release around a gate-mode hand-on.
// Every entry point goes through it, so a rule is written once.
//
// It never reads a request, writes an answer, verifies a signature or
// talks to Redis itself: the handler reads and verifies and turns what
// delivery decided into a response; state stores what delivery hands it.
package delivery
