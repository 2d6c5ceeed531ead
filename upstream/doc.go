// Package upstream delivers outbox events to the finding service at least
// once. A Client makes one delivery attempt and classifies its outcome
// (delivered, retry later, or give up); a Backoff spaces the attempts; a
// Worker takes events from a state.Outbox and records each outcome there:
// Done, Retry at a time, or Dead.
//
// It decides which answers are worth retrying (408, 429, 5xx, network
// errors and timeouts), how long to wait before the next attempt (jittered
// exponential backoff, never less than the finding service's Retry-After),
// and when to give up (a permanent answer or MaxAttempts spent).
//
// It never builds, changes or inspects an event body: the bytes in the
// outbox are the bytes posted. It never stores anything itself (the
// outbox does), never delivers an event it has not been handed, and never
// puts a header value, such as the Authorization token, into an error
// message or a log field.
package upstream
