package poller

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
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
	// Pollable (inactive, of a vendor without a registered Client, no
	// api_url or api_token) are skipped. Required.
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
	leases  map[string]Lease          // integration -> lease this instance holds
	backoff map[string]backoffInfo    // integration -> failures and next attempt
	zones   map[string]*time.Location // integration, api_url, api_user -> Client.Zone answer
	busy    map[string]bool           // integration -> a visit is in flight

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
