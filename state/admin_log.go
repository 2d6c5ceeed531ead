package state

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// AdminLogLen is how many operator actions the admin log keeps
// (approximately, in Redis).
const AdminLogLen = 10000

// AdminEntry is one operator action on the admin API. It never holds a
// secret value: Outcome is a fixed phrase or a version number.
type AdminEntry struct {
	Time        time.Time `json:"time"`
	Who         string    `json:"who"`
	Action      string    `json:"action"`
	Integration string    `json:"integration"`
	Outcome     string    `json:"outcome"`
}

// AdminLog records operator actions, newest last, capped at AdminLogLen.
type AdminLog interface {
	// Append records e; an error means it was not stored (the caller's
	// own log line still has it).
	Append(ctx context.Context, e AdminEntry) error
}

// RedisAdminLog appends to the stream Keys.AdminAudit, shared by every
// instance.
type RedisAdminLog struct {
	client redis.UniversalClient
	stream string
}

// NewRedisAdminLog returns the admin log kept in client under keys.
func NewRedisAdminLog(client redis.UniversalClient, keys Keys) *RedisAdminLog {
	return &RedisAdminLog{client: client, stream: keys.AdminAudit()}
}

// Append implements AdminLog in one round trip.
func (l *RedisAdminLog) Append(ctx context.Context, e AdminEntry) error {
	err := l.client.XAdd(ctx, &redis.XAddArgs{
		Stream: l.stream,
		MaxLen: AdminLogLen,
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
		return unavailable("admin audit", err)
	}
	return nil
}

// MemoryAdminLog keeps the admin log in process memory for one instance.
type MemoryAdminLog struct {
	mu      sync.Mutex
	entries []AdminEntry
}

// Append implements AdminLog; the oldest entries go first past
// AdminLogLen.
func (l *MemoryAdminLog) Append(_ context.Context, e AdminEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= AdminLogLen {
		l.entries = append(l.entries[:0], l.entries[len(l.entries)-AdminLogLen+1:]...)
	}
	l.entries = append(l.entries, e)
	return nil
}

// Entries returns the entries, oldest first.
func (l *MemoryAdminLog) Entries() []AdminEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]AdminEntry(nil), l.entries...)
}

var (
	_ AdminLog = (*RedisAdminLog)(nil)
	_ AdminLog = (*MemoryAdminLog)(nil)
)
