package state

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// TestMemoryAdminLogBounded: without Redis, admin actions stay in a
// bounded list in memory, oldest dropped first.
func TestMemoryAdminLogBounded(t *testing.T) {
	var l MemoryAdminLog
	for i := range AdminLogLen + 5 {
		if err := l.Append(t.Context(), AdminEntry{Action: "reveal", Integration: "id", Outcome: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := l.Entries()
	if len(got) != AdminLogLen || got[0].Outcome != "5" || got[len(got)-1].Outcome != strconv.Itoa(AdminLogLen+4) {
		t.Fatalf("%d entries, first %q, last %q", len(got), got[0].Outcome, got[len(got)-1].Outcome)
	}
}

// TestRedisAdminLog: an action lands in the stream Keys.AdminAudit with
// every field.
func TestRedisAdminLog(t *testing.T) {
	c := testredis.Client(t)
	prefix := testredis.Prefix(t, c)
	l := NewRedisAdminLog(c, NewKeys(prefix))
	at := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	if err := l.Append(context.Background(), AdminEntry{Time: at, Who: "127.0.0.1:5", Action: "regenerate", Integration: "gh", Outcome: "version 3"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.XRange(context.Background(), NewKeys(prefix).AdminAudit(), "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("stream: %d entries, %v", len(msgs), err)
	}
	v := msgs[0].Values
	if v["time"] != at.Format(time.RFC3339Nano) || v["who"] != "127.0.0.1:5" || v["action"] != "regenerate" || v["integration"] != "gh" || v["outcome"] != "version 3" {
		t.Fatalf("entry %v", v)
	}
}
