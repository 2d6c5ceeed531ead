// Package state is what hookgate remembers between requests: the outbox of
// events on their way to the finding service, the per-integration audit
// log, and delivery dedupe marks. Redis implements it for every deployment
// (shared by all instances, durable); Memory implements it in process for a
// single instance with nothing configured. It never decides what to store:
// callers hand it finished entries.
package state
