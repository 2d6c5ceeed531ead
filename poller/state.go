package poller

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"
)

// ErrLeaseHeld means another holder has the integration's lease.
var ErrLeaseHeld = errors.New("poller: lease held by another instance")

// ErrLeaseLost means the lease expired or was taken over: the holder must
// stop polling the integration and write nothing more for it.
var ErrLeaseLost = errors.New("poller: lease lost")

// Lease is one holder's right to poll one integration. Token is the fencing
// token: it grows with every acquisition of the integration's lease, so a
// holder that lost its lease cannot write with a stale one.
type Lease struct {
	Integration string
	Holder      string
	Token       int64
}

// Result is the outcome of one visit of an integration.
type Result struct {
	// At is when the visit ended.
	At time.Time
	// Err is the failure, empty on success. It never holds a credential.
	Err string
	// Events is how many events the visit committed.
	Events int
}

// Stored is what State keeps about one integration for the admin view.
type Stored struct {
	// Cursor is the last successful poll time; zero before the first poll.
	Cursor time.Time
	// LastSuccess is when a visit last ended without error.
	LastSuccess time.Time
	// LastError is the last visit's error; empty when it succeeded.
	LastError string
	// LastErrorAt is when LastError happened.
	LastErrorAt time.Time
	// LastEvents is how many events the last successful visit committed.
	LastEvents int
	// LeaseHolder is the instance holding the lease; empty when free.
	LeaseHolder string
	// LeaseToken is the holder's fencing token.
	LeaseToken int64
}

// State keeps cursors, leases, the last status seen per ticket and visit
// results. RedisState shares them across instances; MemoryState serves a
// single instance. Implementations are safe for concurrent use.
type State interface {
	// Acquire takes integration's lease for holder for ttl. It fails with
	// ErrLeaseHeld while another holder's lease has not expired.
	Acquire(ctx context.Context, integration, holder string, ttl time.Duration) (Lease, error)
	// Renew extends l for ttl if l is still the current lease, else
	// ErrLeaseLost.
	Renew(ctx context.Context, l Lease, ttl time.Duration) error
	// Release frees l if it is still the current lease; otherwise it does
	// nothing.
	Release(ctx context.Context, l Lease) error
	// Cursor is integration's cursor; zero when it was never polled.
	Cursor(ctx context.Context, integration string) (time.Time, error)
	// Advance moves l's integration cursor to to, never backwards, if l is
	// still the current lease, else ErrLeaseLost.
	Advance(ctx context.Context, l Lease, to time.Time) error
	// Seen returns the remembered fingerprints of the given tickets; a
	// ticket never remembered is absent.
	Seen(ctx context.Context, integration string, keys []string) (map[string]string, error)
	// Remember stores ticket fingerprints (ticket key to fingerprint) if l
	// is still the current lease, else ErrLeaseLost.
	Remember(ctx context.Context, l Lease, fingerprints map[string]string) error
	// Record stores the outcome of a visit.
	Record(ctx context.Context, integration string, r Result) error
	// Status reads what is stored about integration.
	Status(ctx context.Context, integration string) (Stored, error)
}

// MemoryState keeps poller state in process, for a single instance with no
// Redis configured. Lease expiry follows its clock.
type MemoryState struct {
	now func() time.Time

	mu      sync.Mutex
	leases  map[string]memLease
	fences  map[string]int64
	cursors map[string]time.Time
	seen    map[string]map[string]string
	status  map[string]Stored
}

type memLease struct {
	Lease
	expires time.Time
}

// NewMemoryState returns empty in-process state; now is its clock
// (default time.Now).
func NewMemoryState(now func() time.Time) *MemoryState {
	if now == nil {
		now = time.Now
	}
	return &MemoryState{
		now:     now,
		leases:  map[string]memLease{},
		fences:  map[string]int64{},
		cursors: map[string]time.Time{},
		seen:    map[string]map[string]string{},
		status:  map[string]Stored{},
	}
}

// currentLocked is integration's unexpired lease.
func (m *MemoryState) currentLocked(integration string) (memLease, bool) {
	l, ok := m.leases[integration]
	if !ok || !m.now().Before(l.expires) {
		return memLease{}, false
	}
	return l, true
}

func (m *MemoryState) holdsLocked(l Lease) bool {
	cur, ok := m.currentLocked(l.Integration)
	return ok && cur.Lease == l
}

// Acquire implements State.
func (m *MemoryState) Acquire(_ context.Context, integration, holder string, ttl time.Duration) (Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.currentLocked(integration); ok {
		return Lease{}, ErrLeaseHeld
	}
	m.fences[integration]++
	l := Lease{Integration: integration, Holder: holder, Token: m.fences[integration]}
	m.leases[integration] = memLease{Lease: l, expires: m.now().Add(ttl)}
	return l, nil
}

// Renew implements State.
func (m *MemoryState) Renew(_ context.Context, l Lease, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.holdsLocked(l) {
		return ErrLeaseLost
	}
	m.leases[l.Integration] = memLease{Lease: l, expires: m.now().Add(ttl)}
	return nil
}

// Release implements State.
func (m *MemoryState) Release(_ context.Context, l Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holdsLocked(l) {
		delete(m.leases, l.Integration)
	}
	return nil
}

// Cursor implements State.
func (m *MemoryState) Cursor(_ context.Context, integration string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[integration], nil
}

// Advance implements State.
func (m *MemoryState) Advance(_ context.Context, l Lease, to time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.holdsLocked(l) {
		return ErrLeaseLost
	}
	to = to.UTC().Truncate(time.Millisecond)
	if to.After(m.cursors[l.Integration]) {
		m.cursors[l.Integration] = to
	}
	return nil
}

// Seen implements State.
func (m *MemoryState) Seen(_ context.Context, integration string, keys []string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		if v, ok := m.seen[integration][k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// Remember implements State.
func (m *MemoryState) Remember(_ context.Context, l Lease, fps map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.holdsLocked(l) {
		return ErrLeaseLost
	}
	s := m.seen[l.Integration]
	if s == nil {
		s = map[string]string{}
		m.seen[l.Integration] = s
	}
	maps.Copy(s, fps)
	return nil
}

// Record implements State.
func (m *MemoryState) Record(_ context.Context, integration string, r Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status[integration]
	if r.Err == "" {
		s.LastSuccess, s.LastError, s.LastEvents = r.At.UTC(), "", r.Events
	} else {
		s.LastError, s.LastErrorAt = r.Err, r.At.UTC()
	}
	m.status[integration] = s
	return nil
}

// Status implements State.
func (m *MemoryState) Status(_ context.Context, integration string) (Stored, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status[integration]
	s.Cursor = m.cursors[integration]
	if l, ok := m.currentLocked(integration); ok {
		s.LeaseHolder, s.LeaseToken = l.Holder, l.Token
	}
	return s, nil
}

var _ State = (*MemoryState)(nil)
