package state

import "strconv"

// DefaultKeyPrefix starts every Redis key and channel hookgate uses unless
// the config names another prefix. It is the only definition: the limiter
// and the poller take their names from Keys too.
const DefaultKeyPrefix = "hookgate:"

// hashTag is the one Redis Cluster hash tag of every key, so that each
// script's keys live in one slot (see Redis).
const hashTag = "{hg}"

// Keys names every Redis key and pub/sub channel hookgate uses, each once,
// under one prefix. With P the prefix:
//
//	P{hg}:outbox                        stream of events to deliver, group "delivery"
//	P{hg}:outbox:retry                  sorted set: events waiting to retry, by due time
//	P{hg}:outbox:retry:age              sorted set: their enqueue times, by hand-out id
//	P{hg}:outbox:dead                   hash: dead letters by event id
//	P{hg}:outbox:dead:failed            sorted set: dead letter ids by failure time
//	P{hg}:audit:<integration>:accepted  list, newest first, capped
//	P{hg}:audit:<integration>:rejected  list, newest first, capped
//	P{hg}:dedupe:<key>                  string with a TTL: "1" delivery (or body) handled, "claim:<token>" in flight
//	P{hg}:order:<integration>           hash: ticket key → vendor time (ms) of the newest status change handed on
//	P{hg}:admin:audit                   stream of operator actions, capped
//	P{hg}:invalidate                    pub/sub channel: integration ids to drop from caches (with a version: unless cached at it)
//	P{hg}:fail:<integration>:<start>    hash: failures per client address in one window
//	P{hg}:fail-unknown:<start>          hash: failures naming no known integration
//	P{hg}:poll:<kind>:<integration>     the poller's lease, fence, cursor, seen and status
//
// Integration ids in keys are only ever ids that name a known integration;
// nothing is keyed by what an unverified caller sent.
type Keys struct {
	prefix string // as configured, e.g. "hookgate:"
	base   string // prefix + "{hg}:"
}

// NewKeys returns the names under prefix; "" means DefaultKeyPrefix.
func NewKeys(prefix string) Keys {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	return Keys{prefix: prefix, base: prefix + hashTag + ":"}
}

// Prefix is the configured prefix every name starts with.
func (k Keys) Prefix() string { return k.prefix }

// Outbox is the stream of events to deliver.
func (k Keys) Outbox() string { return k.base + "outbox" }

// OutboxRetry is the sorted set of events waiting to retry.
func (k Keys) OutboxRetry() string { return k.base + "outbox:retry" }

// OutboxRetryAge is the sorted set of the retrying events' enqueue times.
func (k Keys) OutboxRetryAge() string { return k.base + "outbox:retry:age" }

// OutboxDead is the hash of dead letters by event id.
func (k Keys) OutboxDead() string { return k.base + "outbox:dead" }

// OutboxDeadFailed is the sorted set of dead letter ids by failure time.
func (k Keys) OutboxDeadFailed() string { return k.base + "outbox:dead:failed" }

// Audit is an integration's audit list: list is "accepted" or "rejected".
func (k Keys) Audit(integration, list string) string {
	return k.base + "audit:" + integration + ":" + list
}

// Dedupe is the mark of a handled delivery.
func (k Keys) Dedupe(key string) string { return k.base + "dedupe:" + key }

// Order is the hash of an integration's tickets' newest status change
// times handed on.
func (k Keys) Order(integration string) string { return k.base + "order:" + integration }

// AdminAudit is the stream of operator actions.
func (k Keys) AdminAudit() string { return k.base + "admin:audit" }

// Invalidate is the pub/sub channel of cache invalidations.
func (k Keys) Invalidate() string { return k.base + "invalidate" }

// Failures is the brute-force limiter's hash of one scope's window that
// starts at startMs (Unix milliseconds); scope "" is every id that names no
// known integration.
func (k Keys) Failures(scope string, startMs int64) string {
	s := strconv.FormatInt(startMs, 10)
	if scope == "" {
		return k.base + "fail-unknown:" + s
	}
	return k.base + "fail:" + scope + ":" + s
}

// Poll is one of the poller's keys of an integration: kind is lease,
// fence, cursor, seen or status.
func (k Keys) Poll(kind, integration string) string {
	return k.base + "poll:" + kind + ":" + integration
}
