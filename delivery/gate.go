package delivery

import (
	"context"
	"time"

	"github.com/hookgate/caddy-hookgate/state"
)

// ClaimLease is how long a gate-mode claim holds a delivery while the next
// handler works on it. It bounds how long the copies of a delivery whose
// instance crashed mid-flight are answered 409 before the vendor's retry
// passes; a next handler slower than this may see a second copy.
const ClaimLease = 2 * time.Minute

// Claim claims a verified delivery for a gate-mode hand-on in one atomic
// step: state.Claimed, or Duplicate, Replay, Stale or InFlight with
// nothing claimed (the first three audited). token names this copy;
// Finish or Release ends the claim.
func Claim(ctx context.Context, store state.Deliveries, p Policy, v *Verified, token string) (state.Outcome, error) {
	return store.Claim(ctx, v.accepted(p, v.orders(), v.Entry), token, ClaimLease)
}

// Finish marks a claimed delivery handled after the next handler answered
// 2xx: its marks, its tickets' order and its "passed" audit entry.
func Finish(ctx context.Context, store state.Deliveries, p Policy, v *Verified) error {
	entry := v.Entry
	entry.Action = "passed"
	if v.Action == "ignored" {
		entry.Action = "passed,ignored"
	}
	return store.Finish(ctx, v.accepted(p, v.orders(), entry))
}

// Release gives a claimed delivery up after the next handler failed, so
// the vendor's retry passes.
func Release(ctx context.Context, store state.Deliveries, p Policy, v *Verified, token string) error {
	return store.Release(ctx, v.accepted(p, nil, v.Entry), token)
}

// orders are v's events as a claim reads them: their order only.
func (v *Verified) orders() []state.OutboxEvent {
	out := make([]state.OutboxEvent, len(v.Events))
	for i := range v.Events {
		out[i] = state.OutboxEvent{ID: v.Events[i].ID, Order: orderOf(&v.Events[i])}
	}
	return out
}
