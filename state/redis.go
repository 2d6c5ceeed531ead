package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultAuditSize is how many entries each audit list keeps when the
// caller passes no size.
const DefaultAuditSize = 200

// consumerGroup is the one consumer group of the outbox stream; every
// delivery worker of every instance reads through it.
const consumerGroup = "delivery"

// moveDueLimit caps how many due retries one Next moves back to the stream.
const moveDueLimit = 256

// redriveBatch caps how many dead letters one script call moves back, so a
// redrive of everything never holds Redis for long.
const redriveBatch = 500

// RedisOptions configures Redis.
type RedisOptions struct {
	// KeyPrefix starts every key. Default "hookgate:". It must not contain
	// an empty hash tag "{}", which would let a cluster spread the keys of
	// one script over several slots.
	KeyPrefix string
	// Now is the clock for enqueue, retry and age times. Default time.Now.
	// Dedupe expiry and reclaim idle times are Redis's own clock.
	Now func() time.Time
}

// Redis keeps hookgate's state in Redis (single node, cluster or
// sentinel) and implements both Deliveries and Outbox. It is safe for
// concurrent use by any number of goroutines and instances.
//
// Its keys are named by Keys (keys.go).
//
// Every key shares the hash tag {hg}, so a commit (events, audit entry and
// dedupe mark) is one atomic script even on a cluster. The price: all of
// hookgate's state lives in one cluster slot, on one shard and its
// replicas. Webhook traffic is small next to what one Redis node serves,
// so a cluster still buys failover, not write scaling.
type Redis struct {
	client redis.UniversalClient
	now    func() time.Time
	keys   Keys

	stream, retry, retryAge, dead, deadFailed string

	groupReady atomic.Bool
	groupMu    sync.Mutex

	cursorMu    sync.Mutex
	claimCursor string
}

// NewRedis returns state kept in client. It does no I/O: the consumer
// group is created on the first Next.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	k := NewKeys(opts.KeyPrefix)
	return &Redis{
		client:      client,
		now:         opts.Now,
		keys:        k,
		stream:      k.Outbox(),
		retry:       k.OutboxRetry(),
		retryAge:    k.OutboxRetryAge(),
		dead:        k.OutboxDead(),
		deadFailed:  k.OutboxDeadFailed(),
		claimCursor: "0-0",
	}
}

func (r *Redis) auditKey(integration, list string) string { return r.keys.Audit(integration, list) }

func (r *Redis) dedupeKey(key string) string { return r.keys.Dedupe(key) }

// unavailable wraps a Redis failure so that errors.Is(err, ErrUnavailable)
// holds. Redis errors name commands and keys, never argument values, so no
// event body ends up in the message.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: redis %s: %w", ErrUnavailable, op, err)
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Commit implements Deliveries in one round trip.
func (r *Redis) Commit(ctx context.Context, a Accepted) (Outcome, error) {
	entries, err := encodeEntries(a.Audit, Committed, Duplicate, Replay, Stale)
	if err != nil {
		return Committed, err
	}
	dk, rk, use := r.markKeys(a)
	keys := []string{r.stream, r.retry, r.auditKey(a.Integration, "accepted"), r.auditKey(a.Integration, "rejected"),
		r.keys.Order(a.Integration), dk, rk}
	args := make([]any, 0, 11+4*len(a.Events))
	args = append(args, auditSize(a.AuditSize), entries[0], entries[1], entries[2], entries[3], ttlMillis(a.DedupeTTL),
		strconv.FormatInt(r.now().UnixMilli(), 10), strconv.Itoa(max(a.MaxOutbox, 0)), use[0], use[1], a.ReplayOwner)
	for _, e := range a.Events {
		t, at := orderArgs(e.Order)
		args = append(args, e.ID, e.Body, t, at)
	}
	n, err := commitScript.Run(ctx, r.client, keys, args...).Int()
	switch {
	case err != nil:
		return Committed, unavailable("commit", err)
	case n == 2:
		return Committed, ErrOutboxFull
	}
	return scriptOutcome(n, Committed), nil
}

// Claim implements Deliveries in one round trip.
func (r *Redis) Claim(ctx context.Context, a Accepted, token string, lease time.Duration) (Outcome, error) {
	entries, err := encodeEntries(a.Audit, Duplicate, Replay, Stale)
	if err != nil {
		return Claimed, err
	}
	dk, rk, use := r.markKeys(a)
	keys := []string{r.auditKey(a.Integration, "accepted"), r.auditKey(a.Integration, "rejected"),
		r.keys.Order(a.Integration), dk, rk}
	args := make([]any, 0, 9+2*len(a.Events))
	args = append(args, auditSize(a.AuditSize), entries[0], entries[1], entries[2], claimValue(token), ttlMillis(lease), use[0], use[1], a.ReplayOwner)
	args = appendOrders(args, a.Events)
	n, err := claimScript.Run(ctx, r.client, keys, args...).Int()
	if err != nil {
		return Claimed, unavailable("claim", err)
	}
	return scriptOutcome(n, Claimed), nil
}

// Finish implements Deliveries in one round trip.
func (r *Redis) Finish(ctx context.Context, a Accepted) error {
	b, err := json.Marshal(a.Audit)
	if err != nil {
		return fmt.Errorf("state: encoding audit entry: %w", err)
	}
	dk, rk, use := r.markKeys(a)
	keys := []string{r.auditKey(a.Integration, "accepted"), r.keys.Order(a.Integration), dk, rk}
	args := make([]any, 0, 6+2*len(a.Events))
	args = append(args, auditSize(a.AuditSize), b, ttlMillis(a.DedupeTTL), use[0], use[1], a.ReplayOwner)
	args = appendOrders(args, a.Events)
	if err := finishScript.Run(ctx, r.client, keys, args...).Err(); err != nil {
		return unavailable("finish", err)
	}
	return nil
}

// Release implements Deliveries in one round trip.
func (r *Redis) Release(ctx context.Context, a Accepted, token string) error {
	dk, rk, use := r.markKeys(a)
	if err := releaseScript.Run(ctx, r.client, []string{dk, rk}, claimValue(token), use[0], use[1]).Err(); err != nil {
		return unavailable("release", err)
	}
	return nil
}

// markKeys names a's dedupe and replay keys (Accepted.marks), and which of
// them it uses ("1") or not ("0"). A script takes both keys either way, so
// its key list has one shape; an unused one is a name in the same slot it
// never touches.
func (r *Redis) markKeys(a Accepted) (dedupe, replay string, use [2]string) {
	use = [2]string{"0", "0"}
	dedupe, replay = r.dedupeKey("-"), r.dedupeKey("-")
	d, rp := a.marks()
	if d != "" {
		dedupe, use[0] = r.dedupeKey(d), "1"
	}
	if rp != "" {
		replay, use[1] = r.dedupeKey(rp), "1"
	}
	return dedupe, replay, use
}

// claimValue is what a claimed key holds while token's copy is in flight.
func claimValue(token string) string { return "claim:" + token }

// encodeEntries encodes e as each outcome audits it.
func encodeEntries(e AuditEntry, os ...Outcome) ([]string, error) {
	out := make([]string, len(os))
	for i, o := range os {
		b, err := json.Marshal(outcomeEntry(e, o))
		if err != nil {
			return nil, fmt.Errorf("state: encoding audit entry: %w", err)
		}
		out[i] = string(b)
	}
	return out, nil
}

// orderArgs is an order mark as the scripts take it: ticket and change
// time ms, or "" and "0" for an unordered event.
func orderArgs(o Order) (ticket, at string) {
	if o.Ticket == "" {
		return "", "0"
	}
	return o.Ticket, strconv.FormatInt(o.At.UnixMilli(), 10)
}

func appendOrders(args []any, evs []OutboxEvent) []any {
	for _, e := range evs {
		t, at := orderArgs(e.Order)
		args = append(args, t, at)
	}
	return args
}

// scriptOutcome maps a script's answer to an Outcome; ok is what 0 means.
func scriptOutcome(n int, ok Outcome) Outcome {
	switch n {
	case 1:
		return Duplicate
	case 3:
		return Replay
	case 4:
		return Stale
	case 5:
		return InFlight
	}
	return ok
}

// Seen implements Deliveries.
func (r *Redis) Seen(ctx context.Context, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	v, err := r.client.Get(ctx, r.dedupeKey(key)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, unavailable("seen", err)
	}
	return v == "1", nil
}

// Reject implements Deliveries.
func (r *Redis) Reject(ctx context.Context, integration string, entry AuditEntry, size int) error {
	b, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("state: encoding audit entry: %w", err)
	}
	keys := []string{r.auditKey(integration, "rejected")}
	if err := auditScript.Run(ctx, r.client, keys, auditSize(size), b).Err(); err != nil {
		return unavailable("reject", err)
	}
	return nil
}

// Audit implements Deliveries. Entries that no longer decode are skipped.
func (r *Redis) Audit(ctx context.Context, integration string) (accepted, rejected []AuditEntry, err error) {
	var acc, rej *redis.StringSliceCmd
	_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		acc = p.LRange(ctx, r.auditKey(integration, "accepted"), 0, -1)
		rej = p.LRange(ctx, r.auditKey(integration, "rejected"), 0, -1)
		return nil
	})
	if err != nil {
		return nil, nil, unavailable("audit", err)
	}
	return decodeAudit(acc.Val()), decodeAudit(rej.Val()), nil
}

func decodeAudit(raw []string) []AuditEntry {
	out := make([]AuditEntry, 0, len(raw))
	for _, s := range raw {
		var e AuditEntry
		if json.Unmarshal([]byte(s), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// ensureGroup creates the consumer group (and the stream) once. It starts
// at the beginning of the stream, so events committed before any worker
// ran are delivered too.
func (r *Redis) ensureGroup(ctx context.Context) error {
	if r.groupReady.Load() {
		return nil
	}
	r.groupMu.Lock()
	defer r.groupMu.Unlock()
	if r.groupReady.Load() {
		return nil
	}
	err := r.client.XGroupCreateMkStream(ctx, r.stream, consumerGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return unavailable("creating consumer group", err)
	}
	r.groupReady.Store(true)
	return nil
}

func isNoGroup(err error) bool {
	return err != nil && strings.Contains(err.Error(), "NOGROUP")
}

// Next implements Outbox. A reclaimAfter of zero or less reclaims nothing.
// Blocking ends early when a retry falls due or ctx's deadline comes;
// plain cancellation is only noticed when the block ends, so keep block
// short (seconds).
func (r *Redis) Next(ctx context.Context, consumer string, n int, block, reclaimAfter time.Duration) ([]Pending, error) {
	if n < 1 {
		n = 1
	}
	out, nextDue, err := r.take(ctx, consumer, n, reclaimAfter)
	if err != nil || len(out) > 0 || block <= 0 {
		return out, err
	}
	wait := block
	if !nextDue.IsZero() {
		wait = min(wait, nextDue.Sub(r.now()))
	}
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	if wait < time.Millisecond {
		// BLOCK 0 would wait forever; a retry is due about now instead.
		out, _, err = r.take(ctx, consumer, n, reclaimAfter)
		return out, err
	}
	streams, err := r.client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group:    consumerGroup,
		Consumer: consumer,
		Streams:  []string{r.stream, ">"},
		Count:    int64(n),
		Block:    wait,
	}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		if wait < block && ctx.Err() == nil {
			out, _, err = r.take(ctx, consumer, n, reclaimAfter)
			return out, err
		}
		return nil, nil
	case isNoGroup(err):
		r.groupReady.Store(false)
		return nil, nil
	case err != nil:
		return nil, unavailable("next", err)
	}
	for _, s := range streams {
		for _, m := range s.Messages {
			out = append(out, pendingFromMap(m.ID, m.Values))
		}
	}
	return out, nil
}

// take runs nextScript, recreating the consumer group if the stream went
// away under it.
func (r *Redis) take(ctx context.Context, consumer string, n int, reclaimAfter time.Duration) ([]Pending, time.Time, error) {
	for attempt := 0; ; attempt++ {
		if err := r.ensureGroup(ctx); err != nil {
			return nil, time.Time{}, err
		}
		out, nextDue, err := r.takeOnce(ctx, consumer, n, reclaimAfter)
		if isNoGroup(err) && attempt == 0 {
			r.groupReady.Store(false)
			continue
		}
		if err != nil {
			return nil, time.Time{}, unavailable("next", err)
		}
		return out, nextDue, nil
	}
}

func (r *Redis) takeOnce(ctx context.Context, consumer string, n int, reclaimAfter time.Duration) ([]Pending, time.Time, error) {
	reclaim := "0"
	if reclaimAfter > 0 {
		reclaim = ttlMillis(reclaimAfter)
	}
	r.cursorMu.Lock()
	cursor := r.claimCursor
	r.cursorMu.Unlock()
	res, err := nextScript.Run(ctx, r.client, []string{r.stream, r.retry, r.retryAge},
		consumerGroup, consumer, n, strconv.FormatInt(r.now().UnixMilli(), 10), reclaim,
		cursor, moveDueLimit).Slice()
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(res) != 3 {
		return nil, time.Time{}, fmt.Errorf("unexpected reply of %d elements", len(res))
	}
	if c, ok := res[0].(string); ok && c != "" {
		r.cursorMu.Lock()
		r.claimCursor = c
		r.cursorMu.Unlock()
	}
	var nextDue time.Time
	if s, _ := res[1].(string); s != "" {
		if ms, err := strconv.ParseFloat(s, 64); err == nil {
			nextDue = time.UnixMilli(int64(ms))
		}
	}
	entries, _ := res[2].([]any)
	out := make([]Pending, 0, len(entries))
	for _, e := range entries {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			continue
		}
		id, _ := pair[0].(string)
		kv, _ := pair[1].([]any)
		fields := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				fields[k] = kv[i+1]
			}
		}
		out = append(out, pendingFromMap(id, fields))
	}
	return out, nextDue, nil
}

func pendingFromMap(streamID string, v map[string]any) Pending {
	str := func(k string) string {
		s, _ := v[k].(string)
		return s
	}
	attempts, _ := strconv.Atoi(str("attempts"))
	return Pending{
		StreamID:  streamID,
		Event:     OutboxEvent{ID: str("id"), Body: []byte(str("body"))},
		Attempts:  attempts,
		LastError: str("last_error"),
	}
}

// Done implements Outbox: XACK and XDEL of up to maxDoneBatch events per
// round trip.
func (r *Redis) Done(ctx context.Context, ps ...Pending) error {
	for len(ps) > 0 {
		n := min(len(ps), maxDoneBatch)
		args := make([]any, 0, n+1)
		args = append(args, consumerGroup)
		for _, p := range ps[:n] {
			args = append(args, p.StreamID)
		}
		if err := doneScript.Run(ctx, r.client, []string{r.stream}, args...).Err(); err != nil {
			return unavailable("done", err)
		}
		ps = ps[n:]
	}
	return nil
}

// Retry implements Outbox. A hand-out another consumer already finished is
// left alone.
func (r *Redis) Retry(ctx context.Context, p Pending, at time.Time, lastErr string) error {
	err := retryScript.Run(ctx, r.client, []string{r.stream, r.retry, r.retryAge},
		consumerGroup, p.StreamID, strconv.FormatInt(at.UnixMilli(), 10), lastErr).Err()
	if err != nil {
		return unavailable("retry", err)
	}
	return nil
}

// HandBack implements Outbox: up to maxDoneBatch events per round trip,
// through the retry set, due now.
func (r *Redis) HandBack(ctx context.Context, ps ...Pending) error {
	due := strconv.FormatInt(r.now().UnixMilli(), 10)
	for len(ps) > 0 {
		n := min(len(ps), maxDoneBatch)
		args := make([]any, 0, n+2)
		args = append(args, consumerGroup, due)
		for _, p := range ps[:n] {
			args = append(args, p.StreamID)
		}
		if err := handBackScript.Run(ctx, r.client, []string{r.stream, r.retry, r.retryAge}, args...).Err(); err != nil {
			return unavailable("hand back", err)
		}
		ps = ps[n:]
	}
	return nil
}

// Dead implements Outbox. Dead letters are kept by event id: a second dead
// copy of the same event replaces the first. A hand-out another consumer
// already finished is left alone.
func (r *Redis) Dead(ctx context.Context, p Pending, lastErr string, at time.Time) error {
	err := deadScript.Run(ctx, r.client, []string{r.stream, r.dead, r.deadFailed},
		consumerGroup, p.StreamID, strconv.FormatInt(at.UnixMilli(), 10), lastErr).Err()
	if err != nil {
		return unavailable("dead", err)
	}
	return nil
}

// deadRecord is a dead letter as Redis stores it.
type deadRecord struct {
	ID         string `json:"id"`
	Body       string `json:"body"`
	Attempts   string `json:"attempts"`
	LastError  string `json:"last_error"`
	FailedAt   string `json:"failed_at"`
	EnqueuedAt string `json:"enqueued_at"`
}

// DeadLetters implements Outbox. A limit of zero or less lists all.
func (r *Redis) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	stop := -1
	if limit > 0 {
		stop = limit - 1
	}
	raw, err := deadLettersScript.Run(ctx, r.client, []string{r.dead, r.deadFailed}, stop).StringSlice()
	if err != nil {
		return nil, unavailable("dead letters", err)
	}
	out := make([]DeadLetter, 0, len(raw))
	for _, s := range raw {
		var d deadRecord
		if json.Unmarshal([]byte(s), &d) != nil {
			continue
		}
		attempts, _ := strconv.Atoi(d.Attempts)
		failed, _ := strconv.ParseInt(d.FailedAt, 10, 64)
		out = append(out, DeadLetter{
			ID:        d.ID,
			Event:     []byte(d.Body),
			Attempts:  attempts,
			LastError: d.LastError,
			FailedAt:  time.UnixMilli(failed),
		})
	}
	return out, nil
}

// Redrive implements Outbox. Each batch of up to 500 dead letters moves
// atomically; a redrive of all of them runs batches until none is left.
func (r *Redis) Redrive(ctx context.Context, ids []string) (int, error) {
	keys := []string{r.stream, r.dead, r.deadFailed}
	total := 0
	if len(ids) == 0 {
		for {
			res, err := redriveScript.Run(ctx, r.client, keys,
				strconv.FormatInt(r.now().UnixMilli(), 10), redriveBatch).Int64Slice()
			if err == nil && len(res) != 2 {
				err = fmt.Errorf("unexpected reply of %d elements", len(res))
			}
			if err != nil {
				return total, unavailable("redrive", err)
			}
			total += int(res[0])
			if res[1] < redriveBatch {
				return total, nil
			}
		}
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), redriveBatch)]
		ids = ids[len(batch):]
		args := make([]any, 0, 2+len(batch))
		args = append(args, strconv.FormatInt(r.now().UnixMilli(), 10), redriveBatch)
		for _, id := range batch {
			args = append(args, id)
		}
		res, err := redriveScript.Run(ctx, r.client, keys, args...).Int64Slice()
		if err == nil && len(res) != 2 {
			err = fmt.Errorf("unexpected reply of %d elements", len(res))
		}
		if err != nil {
			return total, unavailable("redrive", err)
		}
		total += int(res[0])
	}
	return total, nil
}

// Stats implements Outbox. The oldest age is the older of the first stream
// entry's enqueue time and the oldest waiting retry's: an event that went
// through a retry and back to the end of the stream can hide behind a
// younger first entry until it is handed out again.
func (r *Redis) Stats(ctx context.Context) (int, time.Duration, error) {
	res, err := statsScript.Run(ctx, r.client, []string{r.stream, r.retry, r.retryAge}).Slice()
	if err != nil {
		return 0, 0, unavailable("stats", err)
	}
	if len(res) != 4 {
		return 0, 0, unavailable("stats", fmt.Errorf("unexpected reply of %d elements", len(res)))
	}
	streamLen, _ := res[0].(int64)
	retryLen, _ := res[1].(int64)
	var oldest int64
	for _, v := range res[2:] {
		s, _ := v.(string)
		ms, err := strconv.ParseFloat(s, 64)
		if err != nil {
			continue
		}
		if oldest == 0 || int64(ms) < oldest {
			oldest = int64(ms)
		}
	}
	var age time.Duration
	if oldest > 0 {
		age = max(0, r.now().Sub(time.UnixMilli(oldest)))
	}
	return int(streamLen + retryLen), age, nil
}

func auditSize(n int) int {
	if n <= 0 {
		return DefaultAuditSize
	}
	return n
}

// ttlMillis renders d in whole milliseconds, rounded up; "0" when d is not
// positive (no mark).
func ttlMillis(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}

var (
	_ Deliveries = (*Redis)(nil)
	_ Outbox     = (*Redis)(nil)
)
