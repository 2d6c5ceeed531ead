// Package state is what hookgate remembers between requests: the outbox of
// events on their way to the finding service, the per-integration audit
// log, delivery dedupe, replay and claim marks, the order of each
// ticket's status changes, the operators' admin log and the cache
// invalidations instances send each other. Whether a delivery is a
// duplicate, a replay, stale or in flight is answered in the same atomic
// step that hands it on (Deliveries), so two instances never both pass
// one delivery. It owns the Redis keyspace:
// Keys names every key and channel once, under one prefix (the limiter and
// the poller take their names from it too). Redis implements each store
// for every deployment (shared by all instances, durable); the Memory
// twins implement them in process for a single instance with nothing
// configured. It never decides what a delivery means: callers hand it
// finished entries, keys and order marks.
package state
