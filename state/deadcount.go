package state

import "context"

// DeadLetterCount reports how many dead letters there are (one HLEN), for
// the dead letters gauge.
func (r *Redis) DeadLetterCount(ctx context.Context) (int, error) {
	n, err := r.client.HLen(ctx, r.dead).Result()
	if err != nil {
		return 0, unavailable("dead letter count", err)
	}
	return int(n), nil
}

// DeadLetterCount reports how many dead letters there are, for the dead
// letters gauge.
func (m *Memory) DeadLetterCount(ctx context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.dead), nil
}
