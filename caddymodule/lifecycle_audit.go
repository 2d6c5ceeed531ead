package caddymodule

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// adminAuditLen is how many admin actions the audit stream keeps
// (approximately, in Redis).
const adminAuditLen = 10000

// lifecycle is the App's state for the operator routes: the admin audit
// log (in memory without Redis) and the invalidation subscriber.
type lifecycle struct {
	audit        adminAuditLog
	invalidation *invalidationSub
}

func newLifecycle() *lifecycle { return &lifecycle{} }

// adminEntry is one admin action. It never holds a secret value.
type adminEntry struct {
	Time        time.Time `json:"time"`
	Who         string    `json:"who"`
	Action      string    `json:"action"`
	Integration string    `json:"integration"`
	Outcome     string    `json:"outcome"`
}

// adminAuditLog appends admin actions to the Redis stream
// <prefix>{hg}:admin:audit, or, without Redis, to a bounded list in
// process memory.
type adminAuditLog struct {
	mu     sync.Mutex
	memory []adminEntry
}

func adminAuditStream(prefix string) string { return prefix + "{hg}:admin:audit" }

func (l *adminAuditLog) append(ctx context.Context, st *pooledState, e adminEntry, logger *zap.Logger) {
	if st != nil && st.client != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisIOTimeout)
		defer cancel()
		err := st.client.XAdd(ctx, &redis.XAddArgs{
			Stream: adminAuditStream(st.prefix),
			MaxLen: adminAuditLen,
			Approx: true,
			Values: map[string]any{
				"time":        e.Time.Format(time.RFC3339Nano),
				"who":         e.Who,
				"action":      e.Action,
				"integration": e.Integration,
				"outcome":     e.Outcome,
			},
		}).Err()
		if err != nil {
			logger.Warn("writing the admin audit stream failed; the action is in this log only",
				zap.String("action", e.Action), zap.String("integration", e.Integration), zap.Error(err))
		}
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.memory) >= adminAuditLen {
		l.memory = append(l.memory[:0], l.memory[len(l.memory)-adminAuditLen+1:]...)
	}
	l.memory = append(l.memory, e)
}

// entries returns the in-memory entries, oldest first.
func (l *adminAuditLog) entries() []adminEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]adminEntry(nil), l.memory...)
}
