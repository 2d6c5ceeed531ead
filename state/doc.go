// Package state is what hookgate remembers between requests: the outbox of
// events on their way to the finding service, the per-integration audit
// log, delivery dedupe marks, the operators' admin log and the cache
// invalidations instances send each other. It owns the Redis keyspace:
// Keys names every key and channel once, under one prefix (the limiter and
// the poller take their names from it too). Redis implements each store
// for every deployment (shared by all instances, durable); the Memory
// twins implement them in process for a single instance with nothing
// configured. It never decides what to store: callers hand it finished
// entries.
package state
