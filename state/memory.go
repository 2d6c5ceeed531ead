package state

import (
	"container/heap"
	"context"
	"slices"
	"strconv"
	"sync"
	"time"
)

// MemoryOptions configures Memory.
type MemoryOptions struct {
	// Now is the clock for dedupe expiry, retry and reclaim times, and
	// ages. Default time.Now.
	Now func() time.Time
}

// Memory keeps hookgate's state in process memory, for a single instance
// with no Redis configured: the same semantics as Redis, but neither
// durable (a restart loses the outbox) nor shared between instances. It is
// safe for concurrent use.
type Memory struct {
	now func() time.Time

	mu sync.Mutex
	// changed is closed and replaced whenever events become available, to
	// wake blocked Next calls.
	changed chan struct{}

	marks map[string]memMarkValue // dedupe or replay key → value and expiry
	// markOrder lists marks as written, so expired ones are dropped from
	// the front without scanning the map.
	markOrder []memMark
	audits    map[string]*memAudit
	orders    map[string]map[string]int64 // integration → ticket → change time ms

	seq      uint64
	ready    []*memEntry          // in the stream, not handed out, oldest first
	inflight map[string]*memEntry // handed out, by stream id
	retries  retryHeap
	dead     map[string]*memDead // by event id
}

type memEntry struct {
	streamID   string
	seq        uint64
	id         string
	body       []byte
	attempts   int
	lastErr    string
	enqueuedAt time.Time
	handedAt   time.Time // in flight
	dueAt      time.Time // waiting to retry
}

// memMarkValue is a mark's value: claim "" is a handled delivery, else
// the token of the copy in flight.
type memMarkValue struct {
	expiry time.Time
	claim  string
	owner  string // a replay key's delivery
}

type memMark struct {
	key    string
	expiry time.Time
}

type memDead struct {
	DeadLetter
	seq uint64
}

type memAudit struct {
	accepted, rejected []AuditEntry // oldest first
}

// NewMemory returns empty in-process state.
func NewMemory(opts MemoryOptions) *Memory {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Memory{
		now:      opts.Now,
		changed:  make(chan struct{}),
		marks:    make(map[string]memMarkValue),
		audits:   make(map[string]*memAudit),
		orders:   make(map[string]map[string]int64),
		inflight: make(map[string]*memEntry),
		dead:     make(map[string]*memDead),
	}
}

// signalLocked wakes every blocked Next.
func (m *Memory) signalLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// markOfLocked is key's live mark, if any.
func (m *Memory) markOfLocked(key string, now time.Time) (memMarkValue, bool) {
	v, ok := m.marks[key]
	if ok && !now.Before(v.expiry) {
		delete(m.marks, key)
		return memMarkValue{}, false
	}
	return v, ok
}

func (m *Memory) seenLocked(key string, now time.Time) bool {
	v, ok := m.markOfLocked(key, now)
	return ok && v.claim == ""
}

func (m *Memory) markLocked(key, claim, owner string, ttl time.Duration, now time.Time) {
	if key == "" {
		return
	}
	if ttl <= 0 {
		delete(m.marks, key)
		return
	}
	exp := now.Add(ttl)
	m.marks[key] = memMarkValue{expiry: exp, claim: claim, owner: owner}
	m.markOrder = append(m.markOrder, memMark{key, exp})
	// Drop marks expired by now from the front. The front is mostly the
	// next to expire; a longer mark in front (a dedupe window before a
	// claim's lease) only delays the cleanup of those behind it
	// (markOfLocked still treats them as expired).
	i := 0
	for ; i < len(m.markOrder) && !now.Before(m.markOrder[i].expiry); i++ {
		k := m.markOrder[i]
		if v, ok := m.marks[k.key]; ok && v.expiry.Equal(k.expiry) {
			delete(m.marks, k.key)
		}
	}
	if i > 0 {
		clear(m.markOrder[:i])
		m.markOrder = m.markOrder[i:]
	}
}

// markKey is one key a delivery marks, with the owner it records.
type markKey struct{ key, owner string }

// markKeys are the keys a delivery marks (Accepted.marks), with the owner
// each records.
func markKeys(a Accepted) []markKey {
	dedupe, replay := a.marks()
	keys := make([]markKey, 0, 2)
	if dedupe != "" {
		keys = append(keys, markKey{dedupe, ""})
	}
	if replay != "" {
		keys = append(keys, markKey{replay, a.ReplayOwner})
	}
	return keys
}

// gateLocked is the check every delivery passes before anything of it is
// written (the scripts' gateLua): Committed when it may go on, else what
// it is, audited.
func (m *Memory) gateLocked(a Accepted, now time.Time) Outcome {
	dedupe, replay := a.marks()
	dk, dok := memMarkValue{}, false
	if dedupe != "" {
		dk, dok = m.markOfLocked(dedupe, now)
	}
	rk, rok := memMarkValue{}, false
	if replay != "" {
		rk, rok = m.markOfLocked(replay, now)
	}
	switch {
	case rok && rk.claim == "" && rk.owner != a.ReplayOwner:
		m.auditLocked(a.Integration, true, outcomeEntry(a.Audit, Replay), a.AuditSize)
		return Replay
	case (dok && dk.claim == "") || (rok && rk.claim == ""):
		m.auditLocked(a.Integration, false, outcomeEntry(a.Audit, Duplicate), a.AuditSize)
		return Duplicate
	case dok || rok:
		return InFlight
	}
	return Committed
}

// orderLocked splits a's events into those newer than their ticket's mark
// (keep, by index) and the number that are not, with the marks keeping
// them would leave (the scripts' orderLua).
func (m *Memory) orderLocked(a Accepted) (keep []int, stale int, marks map[string]int64) {
	marks = make(map[string]int64)
	stored := m.orders[a.Integration]
	for i, e := range a.Events {
		if e.Order.Ticket == "" {
			keep = append(keep, i)
			continue
		}
		at := e.Order.At.UnixMilli()
		cur, ok := marks[e.Order.Ticket]
		if !ok {
			cur, ok = stored[e.Order.Ticket]
		}
		if ok && cur >= at {
			stale++
			continue
		}
		keep = append(keep, i)
		marks[e.Order.Ticket] = at
	}
	return keep, stale, marks
}

func (m *Memory) setOrderLocked(integration string, marks map[string]int64) {
	if len(marks) == 0 {
		return
	}
	o := m.orders[integration]
	if o == nil {
		o = make(map[string]int64)
		m.orders[integration] = o
	}
	for t, at := range marks {
		o[t] = at
	}
}

func (m *Memory) auditLocked(integration string, rejected bool, e AuditEntry, size int) {
	a := m.audits[integration]
	if a == nil {
		a = &memAudit{}
		m.audits[integration] = a
	}
	list := &a.accepted
	if rejected {
		list = &a.rejected
	}
	*list = append(*list, e)
	if size = auditSize(size); len(*list) > size {
		// Reslicing keeps the backing array at most about twice size: the
		// next growth copies only what is kept.
		*list = (*list)[len(*list)-size:]
	}
}

// enqueueLocked puts an event at the end of the stream under a new stream
// id.
func (m *Memory) enqueueLocked(e *memEntry) {
	m.seq++
	e.seq = m.seq
	e.streamID = strconv.FormatUint(m.seq, 10)
	m.ready = append(m.ready, e)
}

// Commit implements Deliveries.
func (m *Memory) Commit(ctx context.Context, a Accepted) (Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if o := m.gateLocked(a, now); o != Committed {
		return o, nil
	}
	keep, stale, marks := m.orderLocked(a)
	if stale > 0 && len(keep) == 0 {
		m.auditLocked(a.Integration, true, outcomeEntry(a.Audit, Stale), a.AuditSize)
		if dedupe, _ := a.marks(); dedupe != "" {
			m.markLocked(dedupe, "", "", a.DedupeTTL, now)
		}
		return Stale, nil
	}
	if a.MaxOutbox > 0 && len(keep) > 0 && len(m.ready)+len(m.inflight)+len(m.retries)+len(keep) > a.MaxOutbox {
		return Committed, ErrOutboxFull
	}
	for _, i := range keep {
		e := a.Events[i]
		m.enqueueLocked(&memEntry{id: e.ID, body: slices.Clone(e.Body), enqueuedAt: now})
	}
	m.auditLocked(a.Integration, false, a.Audit, a.AuditSize)
	for _, k := range markKeys(a) {
		m.markLocked(k.key, "", k.owner, a.DedupeTTL, now)
	}
	m.setOrderLocked(a.Integration, marks)
	if len(keep) > 0 {
		m.signalLocked()
	}
	return Committed, nil
}

// Claim implements Deliveries.
func (m *Memory) Claim(ctx context.Context, a Accepted, token string, lease time.Duration) (Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if o := m.gateLocked(a, now); o != Committed {
		return o, nil
	}
	if _, stale, _ := m.orderLocked(a); stale > 0 {
		m.auditLocked(a.Integration, true, outcomeEntry(a.Audit, Stale), a.AuditSize)
		return Stale, nil
	}
	for _, k := range markKeys(a) {
		m.markLocked(k.key, token, k.owner, lease, now)
	}
	return Claimed, nil
}

// Finish implements Deliveries.
func (m *Memory) Finish(ctx context.Context, a Accepted) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	_, _, marks := m.orderLocked(a)
	for _, k := range markKeys(a) {
		m.markLocked(k.key, "", k.owner, a.DedupeTTL, now)
	}
	m.setOrderLocked(a.Integration, marks)
	m.auditLocked(a.Integration, false, a.Audit, a.AuditSize)
	return nil
}

// Release implements Deliveries.
func (m *Memory) Release(ctx context.Context, a Accepted, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, k := range markKeys(a) {
		if v, ok := m.markOfLocked(k.key, now); ok && v.claim == token {
			delete(m.marks, k.key)
		}
	}
	return nil
}

// Seen implements Deliveries.
func (m *Memory) Seen(ctx context.Context, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seenLocked(key, m.now()), nil
}

// Reject implements Deliveries.
func (m *Memory) Reject(ctx context.Context, integration string, entry AuditEntry, size int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.auditLocked(integration, true, entry, size)
	return nil
}

// Audit implements Deliveries.
func (m *Memory) Audit(ctx context.Context, integration string) (accepted, rejected []AuditEntry, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.audits[integration]
	if a == nil {
		return []AuditEntry{}, []AuditEntry{}, nil
	}
	return newestFirst(a.accepted), newestFirst(a.rejected), nil
}

func newestFirst(list []AuditEntry) []AuditEntry {
	out := slices.Clone(list)
	if out == nil {
		out = []AuditEntry{}
	}
	slices.Reverse(out)
	return out
}

// Next implements Outbox. A reclaimAfter of zero or less reclaims nothing.
// It waits on a signal from Commit, Retry and Redrive, or until the next
// retry or reclaim falls due, never polling.
func (m *Memory) Next(ctx context.Context, consumer string, n int, block, reclaimAfter time.Duration) ([]Pending, error) {
	if n < 1 {
		n = 1
	}
	deadline := time.Now().Add(block)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m.mu.Lock()
		out, wake := m.takeLocked(n, reclaimAfter)
		changed := m.changed
		m.mu.Unlock()
		if len(out) > 0 || block <= 0 {
			return out, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if wake > 0 {
			left = min(left, wake)
		}
		t := time.NewTimer(left)
		select {
		case <-ctx.Done():
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// takeLocked hands out up to n events: due retries go back to the end of
// the stream first, then entries idle past reclaimAfter are reclaimed, then
// new entries are taken, as in Redis. wake is how long until the next retry
// or reclaim falls due (0: none).
func (m *Memory) takeLocked(n int, reclaimAfter time.Duration) (out []Pending, wake time.Duration) {
	now := m.now()
	moved := 0
	for len(m.retries) > 0 && !m.retries[0].dueAt.After(now) && moved < moveDueLimit {
		e := heap.Pop(&m.retries).(*memEntry)
		m.enqueueLocked(e)
		moved++
	}
	if reclaimAfter > 0 {
		var idle []*memEntry
		for _, e := range m.inflight {
			if d := e.handedAt.Add(reclaimAfter).Sub(now); d <= 0 {
				idle = append(idle, e)
			} else if wake == 0 || d < wake {
				wake = d
			}
		}
		slices.SortFunc(idle, func(a, b *memEntry) int { return compareSeq(a.seq, b.seq) })
		for _, e := range idle {
			if len(out) == n {
				break
			}
			e.handedAt = now
			out = append(out, pendingOf(e))
		}
	}
	for len(out) < n && len(m.ready) > 0 {
		e := m.ready[0]
		m.ready[0] = nil
		m.ready = m.ready[1:]
		e.handedAt = now
		m.inflight[e.streamID] = e
		out = append(out, pendingOf(e))
	}
	if len(m.ready) == 0 {
		m.ready = nil // let the drained backing array go
	}
	if len(m.retries) > 0 {
		if d := m.retries[0].dueAt.Sub(now); wake == 0 || d < wake {
			wake = max(d, time.Nanosecond)
		}
	}
	return out, wake
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func pendingOf(e *memEntry) Pending {
	return Pending{
		StreamID:  e.streamID,
		Event:     OutboxEvent{ID: e.id, Body: e.body},
		Attempts:  e.attempts,
		LastError: e.lastErr,
	}
}

// finishLocked takes a hand-out out of flight; nil when it is not in
// flight any more (another consumer finished it).
func (m *Memory) finishLocked(p Pending) *memEntry {
	e := m.inflight[p.StreamID]
	delete(m.inflight, p.StreamID)
	return e
}

// Done implements Outbox.
func (m *Memory) Done(ctx context.Context, ps ...Pending) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range ps {
		m.finishLocked(p)
	}
	return nil
}

// Retry implements Outbox. A hand-out another consumer already finished is
// left alone.
func (m *Memory) Retry(ctx context.Context, p Pending, at time.Time, lastErr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.finishLocked(p)
	if e == nil {
		return nil
	}
	e.attempts++
	e.lastErr = lastErr
	e.dueAt = at
	m.seq++
	e.seq = m.seq
	heap.Push(&m.retries, e)
	// Wake blocked consumers so they recompute how long to wait.
	m.signalLocked()
	return nil
}

// HandBack implements Outbox.
func (m *Memory) HandBack(ctx context.Context, ps ...Pending) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, p := range ps {
		e := m.finishLocked(p)
		if e == nil {
			continue
		}
		e.dueAt = now
		m.seq++
		e.seq = m.seq
		heap.Push(&m.retries, e)
	}
	m.signalLocked()
	return nil
}

// Dead implements Outbox. Dead letters are kept by event id: a second dead
// copy of the same event replaces the first. A hand-out another consumer
// already finished is left alone.
func (m *Memory) Dead(ctx context.Context, p Pending, lastErr string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.finishLocked(p)
	if e == nil {
		return nil
	}
	m.seq++
	m.dead[e.id] = &memDead{
		DeadLetter: DeadLetter{
			ID:        e.id,
			Event:     e.body,
			Attempts:  e.attempts + 1,
			LastError: lastErr,
			FailedAt:  at,
		},
		seq: m.seq,
	}
	return nil
}

// deadOrderLocked lists dead letters oldest failure first.
func (m *Memory) deadOrderLocked() []*memDead {
	all := make([]*memDead, 0, len(m.dead))
	for _, d := range m.dead {
		all = append(all, d)
	}
	slices.SortFunc(all, func(a, b *memDead) int {
		if c := a.FailedAt.Compare(b.FailedAt); c != 0 {
			return c
		}
		return compareSeq(a.seq, b.seq)
	})
	return all
}

// DeadLetters implements Outbox. A limit of zero or less lists all.
func (m *Memory) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := m.deadOrderLocked()
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	out := make([]DeadLetter, len(all))
	for i, d := range all {
		out[i] = d.DeadLetter
		out[i].Event = slices.Clone(d.Event)
	}
	return out, nil
}

// Redrive implements Outbox.
func (m *Memory) Redrive(ctx context.Context, ids []string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var move []*memDead
	if len(ids) == 0 {
		move = m.deadOrderLocked()
	} else {
		for _, id := range ids {
			if d := m.dead[id]; d != nil {
				move = append(move, d)
				delete(m.dead, id)
			}
		}
	}
	now := m.now()
	for _, d := range move {
		delete(m.dead, d.ID)
		m.enqueueLocked(&memEntry{id: d.ID, body: d.Event, enqueuedAt: now})
	}
	if len(move) > 0 {
		m.signalLocked()
	}
	return len(move), nil
}

// Stats implements Outbox; the oldest age is exact.
func (m *Memory) Stats(ctx context.Context) (int, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var oldest time.Time
	see := func(e *memEntry) {
		if oldest.IsZero() || e.enqueuedAt.Before(oldest) {
			oldest = e.enqueuedAt
		}
	}
	for _, e := range m.ready {
		see(e)
	}
	for _, e := range m.inflight {
		see(e)
	}
	for _, e := range m.retries {
		see(e)
	}
	n := len(m.ready) + len(m.inflight) + len(m.retries)
	if oldest.IsZero() {
		return n, 0, nil
	}
	return n, max(0, m.now().Sub(oldest)), nil
}

// retryHeap orders events waiting to retry by due time, then by when they
// were put there.
type retryHeap []*memEntry

func (h retryHeap) Len() int { return len(h) }
func (h retryHeap) Less(i, j int) bool {
	if c := h[i].dueAt.Compare(h[j].dueAt); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h retryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)   { *h = append(*h, x.(*memEntry)) }
func (h *retryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

var (
	_ Deliveries = (*Memory)(nil)
	_ Outbox     = (*Memory)(nil)
)
