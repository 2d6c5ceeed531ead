package poller

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// Defaults of Config.
const (
	DefaultInterval       = 5 * time.Minute
	DefaultOverlap        = 2 * time.Minute
	DefaultConcurrency    = 4
	DefaultVisitTimeout   = 2 * time.Minute
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxBackoff     = time.Hour
	minLeaseTTL           = 30 * time.Second
	maxErrorLen           = 512
)

// Config configures a Poller.
type Config struct {
	// Lister returns the integrations to poll. Records that are not
	// Pollable (inactive, not Jira/ServiceNow/ManageEngine, no api_url or
	// api_token) are skipped. Required.
	Lister func(ctx context.Context) ([]integrations.Record, error)
	// Commit writes one page's events (already through events.Orchestrate)
	// the way verified webhooks are written: the caller wires the outbox.
	// The cursor moves only after it returned nil. Required.
	Commit func(ctx context.Context, rec integrations.Record, evs []events.Event) error
	// State keeps cursors, leases and results: RedisState across
	// instances, MemoryState for one. Default: a MemoryState.
	State State
	// Interval is the time between visits of an integration, jittered by
	// ±10%. Default 5m.
	Interval time.Duration
	// Overlap is how far before the cursor each query starts, for clock
	// skew and the vendors' second-granular times. Default 2m.
	Overlap time.Duration
	// LeaseTTL is how long a lease outlives its holder's last renewal: a
	// crashed instance's integrations are taken over after at most this.
	// Default 2×Interval, at least 30s.
	LeaseTTL time.Duration
	// Concurrency bounds how many integrations are polled at once.
	// Default 4.
	Concurrency int
	// VisitTimeout bounds one visit of one integration, every page
	// included. Default 2m.
	VisitTimeout time.Duration
	// RequestTimeout bounds each vendor API call. Default 30s.
	RequestTimeout time.Duration
	// BackoffBase is the wait after an integration's first failed visit;
	// it doubles with each further failure up to MaxBackoff, and is never
	// shorter than a 429's Retry-After. Default Interval/2.
	BackoffBase time.Duration
	// MaxBackoff caps the backoff. Default 1h.
	MaxBackoff time.Duration
	// HTTP makes the vendor calls. Default: a client with a 30s timeout.
	HTTP *http.Client
	// Now is the clock for cursors, results and backoff. Default time.Now.
	Now func() time.Time
	// Logger logs visits; it never sees a credential. Default: none.
	Logger *zap.Logger
	// Instance names this instance as a lease holder; unique per process.
	// Default: host name plus a random suffix.
	Instance string
}

// Poller visits ticket integrations and commits what webhooks missed. Its
// methods are safe for concurrent use; two PollOnce calls of one Poller
// should not overlap (Run calls it serially), since both would visit the
// same integrations under the same lease.
type Poller struct {
	cfg Config

	mu      sync.Mutex
	leases  map[string]Lease       // integration -> lease this instance holds
	backoff map[string]backoffInfo // integration -> failures and next attempt
	zones   map[string]*time.Location
	busy    map[string]bool // integration -> a visit is in flight

	// running tracks the visits Run started, so it can wait for them.
	running sync.WaitGroup
}

type backoffInfo struct {
	failures int
	until    time.Time
}

// IntegrationStatus is one row of GET /hookgate/poller.
type IntegrationStatus struct {
	Integration string `json:"integration"`
	Vendor      string `json:"vendor"`
	// Cursor is the last successful poll time; queries start Overlap
	// before it. Zero before the first poll.
	Cursor time.Time `json:"cursor,omitzero"`
	// LagSeconds is how far the cursor is behind now: poll lag.
	LagSeconds float64 `json:"lag_seconds"`
	// LastSuccess is when a visit last ended without error.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastEvents is how many events that visit committed.
	LastEvents int `json:"last_events"`
	// LastError is the last visit's error, empty after a success.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LeaseHolder is the instance polling the integration; empty when no
	// instance holds the lease.
	LeaseHolder string `json:"lease_holder,omitempty"`
	LeaseToken  int64  `json:"lease_token,omitempty"`
	// NextAttempt is when this instance will try again after failures;
	// zero when it is not backing off.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// New returns a Poller; it does no I/O.
func New(cfg Config) (*Poller, error) {
	if cfg.Lister == nil || cfg.Commit == nil {
		return nil, errors.New("poller: Lister and Commit are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.State == nil {
		cfg.State = NewMemoryState(cfg.Now)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = DefaultOverlap
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = max(2*cfg.Interval, minLeaseTTL)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.VisitTimeout <= 0 {
		cfg.VisitTimeout = DefaultVisitTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = cfg.Interval / 2
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: DefaultRequestTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Instance == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = crand.Read(b)
		cfg.Instance = host + "-" + hex.EncodeToString(b)
	}
	return &Poller{
		cfg:     cfg,
		leases:  map[string]Lease{},
		backoff: map[string]backoffInfo{},
		zones:   map[string]*time.Location{},
	}, nil
}

// Instance is the name this Poller holds leases under.
func (p *Poller) Instance() string { return p.cfg.Instance }

// Run polls every Interval (jittered ±10%) until ctx ends, then releases
// the leases it holds. It returns ctx's error.
func (p *Poller) Run(ctx context.Context) error {
	defer func() {
		p.running.Wait()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		p.Release(rctx)
	}()
	sem := make(chan struct{}, p.cfg.Concurrency)
	for {
		// Each integration's visit runs on its own: one that is slow (a
		// vendor that hangs until the request timeout) is skipped while in
		// flight instead of holding up every other integration's next poll.
		if err := p.startVisits(ctx, sem); err != nil && ctx.Err() == nil {
			p.cfg.Logger.Warn("ticket poll could not start", zap.Error(err))
		}
		jitter := 0.9 + 0.2*rand.Float64()
		t := time.NewTimer(time.Duration(float64(p.cfg.Interval) * jitter))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Release frees every lease this Poller holds, so another instance takes
// the integrations over at once instead of after LeaseTTL.
func (p *Poller) Release(ctx context.Context) {
	p.mu.Lock()
	held := p.leases
	p.leases = map[string]Lease{}
	p.mu.Unlock()
	for _, l := range held {
		if err := p.cfg.State.Release(ctx, l); err != nil {
			p.cfg.Logger.Warn("releasing poll lease failed", zap.String("integration", l.Integration), zap.Error(err))
		}
	}
}

// PollOnce visits every pollable integration once, at most Concurrency at
// a time: integrations another instance holds the lease of, and those
// backing off, are skipped. Leases of integrations no longer listed are
// released. It returns the Lister's error, or the visits' errors joined
// (each also recorded in the integration's status).
func (p *Poller) PollOnce(ctx context.Context) error {
	todo, err := p.pollable(ctx)
	if err != nil {
		return err
	}

	var (
		wg   sync.WaitGroup
		emu  sync.Mutex
		errs []error
		sem  = make(chan struct{}, p.cfg.Concurrency)
	)
	for _, rec := range todo {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := p.visit(ctx, rec); err != nil {
				emu.Lock()
				errs = append(errs, fmt.Errorf("integration %s: %w", rec.ID, err))
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *Poller) releaseUnlisted(ctx context.Context, listed map[string]bool) {
	p.mu.Lock()
	var gone []Lease
	for id, l := range p.leases {
		if !listed[id] {
			gone = append(gone, l)
			delete(p.leases, id)
		}
	}
	p.mu.Unlock()
	for _, l := range gone {
		_ = p.cfg.State.Release(ctx, l)
	}
}

// lease renews the lease this instance holds on rec, or acquires it.
// ok is false when another instance holds it.
func (p *Poller) lease(ctx context.Context, id string) (Lease, bool, error) {
	p.mu.Lock()
	l, held := p.leases[id]
	p.mu.Unlock()
	if held {
		err := p.cfg.State.Renew(ctx, l, p.cfg.LeaseTTL)
		if err == nil {
			return l, true, nil
		}
		p.forget(id)
		if !errors.Is(err, ErrLeaseLost) {
			return Lease{}, false, err
		}
	}
	l, err := p.cfg.State.Acquire(ctx, id, p.cfg.Instance, p.cfg.LeaseTTL)
	if errors.Is(err, ErrLeaseHeld) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, err
	}
	p.mu.Lock()
	p.leases[id] = l
	p.mu.Unlock()
	return l, true, nil
}

func (p *Poller) forget(id string) {
	p.mu.Lock()
	delete(p.leases, id)
	p.mu.Unlock()
}

// visit polls one integration if this instance holds (or gets) its lease
// and it is not backing off.
func (p *Poller) visit(ctx context.Context, rec integrations.Record) error {
	now := p.cfg.Now()
	p.mu.Lock()
	bo := p.backoff[rec.ID]
	p.mu.Unlock()
	backingOff := now.Before(bo.until)
	l, ok, err := p.lease(ctx, rec.ID)
	if err != nil {
		return err // state store trouble: nothing to record it in either
	}
	if !ok || backingOff {
		return nil
	}

	vctx, cancel := context.WithTimeout(ctx, p.cfg.VisitTimeout)
	defer cancel()
	stopRenew := p.keepRenewed(vctx, cancel, l)
	n, err := p.poll(vctx, rec, l, now)
	stopRenew()

	res := Result{At: p.cfg.Now(), Events: n}
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			p.forget(rec.ID)
		}
		res.Err = capError(redact(err.Error(), rec.APIToken))
		p.failed(rec.ID, err)
		p.cfg.Logger.Warn("ticket poll failed", zap.String("integration", rec.ID),
			zap.String("vendor", string(rec.Vendor)), zap.String("error", res.Err))
	} else {
		p.mu.Lock()
		delete(p.backoff, rec.ID)
		p.mu.Unlock()
		p.cfg.Logger.Debug("ticket poll done", zap.String("integration", rec.ID),
			zap.String("vendor", string(rec.Vendor)), zap.Int("events", n))
	}
	if rerr := p.cfg.State.Record(ctx, rec.ID, res); rerr != nil {
		p.cfg.Logger.Warn("recording poll result failed", zap.String("integration", rec.ID), zap.Error(rerr))
	}
	if err != nil {
		return errors.New(res.Err)
	}
	return nil
}

// keepRenewed renews l every third of LeaseTTL while a visit runs and
// cancels the visit if the lease is lost.
func (p *Poller) keepRenewed(ctx context.Context, cancel context.CancelFunc, l Lease) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(p.cfg.LeaseTTL/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := p.cfg.State.Renew(ctx, l, p.cfg.LeaseTTL); errors.Is(err, ErrLeaseLost) {
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// failed starts or extends rec's backoff.
func (p *Poller) failed(id string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	bo := p.backoff[id]
	bo.failures++
	d := p.cfg.BackoffBase << min(bo.failures-1, 20)
	if d <= 0 || d > p.cfg.MaxBackoff {
		d = p.cfg.MaxBackoff
	}
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		d = max(d, rl.RetryAfter)
	}
	bo.until = p.cfg.Now().Add(d)
	p.backoff[id] = bo
}

// poll is one visit under lease l: fetch since cursor−overlap, commit page
// by page, advance the cursor. It returns how many events it committed.
func (p *Poller) poll(ctx context.Context, rec integrations.Record, l Lease, start time.Time) (int, error) {
	st := p.cfg.State
	cursor, err := st.Cursor(ctx, rec.ID)
	if err != nil {
		return 0, err
	}
	if cursor.IsZero() {
		// First visit: start here, replay nothing from before.
		return 0, st.Advance(ctx, l, start)
	}
	committed := 0
	ps := &pass{
		rec:            rec,
		since:          cursor.Add(-p.cfg.Overlap),
		start:          start,
		http:           p.cfg.HTTP,
		requestTimeout: p.cfg.RequestTimeout,
		seen: func(ctx context.Context, keys []string) (map[string]string, error) {
			return st.Seen(ctx, rec.ID, keys)
		},
		zone: func(ctx context.Context) (*time.Location, error) { return p.jiraZone(ctx, rec) },
	}
	ps.deliver = func(ctx context.Context, pg page) error {
		if len(pg.evs) > 0 {
			evs, _ := events.Orchestrate(rec, pg.evs)
			if err := p.cfg.Commit(ctx, rec, evs); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
			committed += len(evs)
		}
		if err := st.Remember(ctx, l, pg.remember); err != nil {
			return err
		}
		if !pg.through.IsZero() {
			return st.Advance(ctx, l, pg.through)
		}
		return nil
	}
	if err := clients[rec.Vendor](ctx, ps); err != nil {
		return committed, err
	}
	if ps.skipped > 0 {
		p.cfg.Logger.Warn("tickets skipped: the vendor's record lacks what an event needs",
			zap.String("integration", rec.ID), zap.Int("skipped", ps.skipped))
	}
	return committed, st.Advance(ctx, l, start)
}

// jiraZone is the Jira API user's time zone, asked once per integration
// and API account.
func (p *Poller) jiraZone(ctx context.Context, rec integrations.Record) (*time.Location, error) {
	key := rec.ID + "\x00" + rec.APIURL + "\x00" + rec.APIUser
	p.mu.Lock()
	loc := p.zones[key]
	p.mu.Unlock()
	if loc != nil {
		return loc, nil
	}
	loc, err := jiraZone(ctx, &pass{rec: rec, http: p.cfg.HTTP, requestTimeout: p.cfg.RequestTimeout})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.zones[key] = loc
	p.mu.Unlock()
	return loc, nil
}

// Status is what GET /hookgate/poller shows: one row per pollable
// integration, by id.
func (p *Poller) Status(ctx context.Context) ([]IntegrationStatus, error) {
	recs, err := p.cfg.Lister(ctx)
	if err != nil {
		return nil, fmt.Errorf("poller: listing integrations: %w", err)
	}
	now := p.cfg.Now()
	out := []IntegrationStatus{}
	for _, r := range recs {
		if !Pollable(r) {
			continue
		}
		s, err := p.cfg.State.Status(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		row := IntegrationStatus{
			Integration: r.ID, Vendor: string(r.Vendor), Cursor: s.Cursor,
			LastSuccess: s.LastSuccess, LastEvents: s.LastEvents,
			LastError: s.LastError, LastErrorAt: s.LastErrorAt,
			LeaseHolder: s.LeaseHolder, LeaseToken: s.LeaseToken,
		}
		if !s.Cursor.IsZero() {
			row.LagSeconds = now.Sub(s.Cursor).Seconds()
		}
		p.mu.Lock()
		if bo, ok := p.backoff[r.ID]; ok && now.Before(bo.until) {
			row.NextAttempt = bo.until
		}
		p.mu.Unlock()
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Integration < out[j].Integration })
	return out, nil
}

// capError bounds a recorded error.
func capError(s string) string {
	if len(s) > maxErrorLen {
		return strings.ToValidUTF8(s[:maxErrorLen], "")
	}
	return s
}

// startVisits starts a visit for every pollable integration that has none
// in flight, at most cap(sem) at once across cycles, and returns without
// waiting for them.
func (p *Poller) startVisits(ctx context.Context, sem chan struct{}) error {
	todo, err := p.pollable(ctx)
	if err != nil {
		return err
	}
	for _, rec := range todo {
		if !p.claim(rec.ID) {
			continue
		}
		p.running.Add(1)
		go func() {
			defer p.running.Done()
			defer p.unclaim(rec.ID)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := p.visit(ctx, rec); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("ticket poll failed", zap.String("integration", rec.ID), zap.Error(err))
			}
		}()
	}
	return nil
}

// claim marks an integration's visit in flight; false if one already is.
func (p *Poller) claim(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy == nil {
		p.busy = map[string]bool{}
	}
	if p.busy[id] {
		return false
	}
	p.busy[id] = true
	return true
}

func (p *Poller) unclaim(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.busy, id)
}

// pollable lists the integrations to visit and releases the leases of
// those that dropped out.
func (p *Poller) pollable(ctx context.Context) ([]integrations.Record, error) {
	recs, err := p.cfg.Lister(ctx)
	if err != nil {
		return nil, fmt.Errorf("poller: listing integrations: %w", err)
	}
	listed := map[string]bool{}
	var todo []integrations.Record
	for _, r := range recs {
		if Pollable(r) && !listed[r.ID] {
			listed[r.ID] = true
			todo = append(todo, r)
		}
	}
	p.releaseUnlisted(ctx, listed)
	return todo, nil
}
