package iplists

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Bounds and defaults of Lists.
const (
	// DefaultRefresh is how often a loaded list is fetched again.
	DefaultRefresh = time.Hour
	// MaxBytes bounds one list's answer; a larger one fails the refresh.
	MaxBytes = 8 << 20
	// MaxPrefixes bounds the prefixes one list may hold; a list with more
	// fails the refresh rather than being cut.
	MaxPrefixes = 10000
	// minBits4 and minBits6 are the widest prefixes a published list may
	// hold: a list naming a wider one (0.0.0.0/0, say) is broken or
	// hostile, and fails the refresh.
	minBits4, minBits6 = 8, 16
	// fetchTimeout bounds one fetch.
	fetchTimeout = 30 * time.Second
	// firstRetry is the wait after a first failed fetch; it doubles with
	// each failure in a row, up to the refresh interval.
	firstRetry = 5 * time.Second
)

// Config configures Lists.
type Config struct {
	// Refresh is how often a loaded list is fetched again. Default:
	// DefaultRefresh (1h).
	Refresh time.Duration
	// URLs replace the registered URL of the lists they name. Default:
	// every list from its registered URL.
	URLs map[string]string
	// Client is the HTTP client for a list's URL. Required: hookgate gives
	// vendorapi.SameOriginClient, which follows no redirect off the URL's
	// origin.
	Client func(u *url.URL) *http.Client
	// Logger receives a warning for each failed refresh and a line for
	// each list loaded or changed. Default: none.
	Logger *zap.Logger
}

// Lists holds the current copy of every registered list and fetches, on
// a schedule, the ones something asked for: only those. A copy is
// replaced only by a list that was read and checked whole; a failed
// refresh keeps it (and is tried again sooner, backing off), and a list
// that never loaded stays not loaded: Get says so, it never answers an
// empty or a guessed set. Get and Want are safe for concurrent use and
// take no lock.
type Lists struct {
	refresh time.Duration
	logger  *zap.Logger
	byName  map[string]*list // every registered list; read-only after New
	order   []*list          // byName's values, sorted by name
	kick    chan struct{}    // a list became wanted

	startOnce, stopOnce sync.Once
	cancel              context.CancelFunc
	done                chan struct{}
}

// list is one list's URL, client, current copy and schedule.
type list struct {
	name   string
	url    string
	client *http.Client
	parse  func([]byte) ([]netip.Prefix, error)
	set    atomic.Pointer[Set] // nil until the first successful fetch
	wanted atomic.Bool

	fetchMu sync.Mutex // one fetch at a time; guards etag, next, retry
	etag    string
	next    time.Time
	retry   time.Duration

	mu     sync.Mutex // guards status
	status Status
}

// Status is what Lists.Status reports of one list.
type Status struct {
	// Name is the list's name; URL where it is fetched from.
	Name, URL string
	// Wanted: an integration (or the config) names the list, so it is
	// fetched.
	Wanted bool
	// Loaded: a copy is in use; Spans is its size.
	Loaded bool
	Spans  int
	// LoadedAt is the last time a fetch succeeded (or answered 304).
	LoadedAt time.Time
	// Failures counts the failed refreshes since the last success;
	// LastError is the latest one's error.
	Failures  int
	LastError string
}

// New prepares every registered list, with cfg's URLs in place of the
// registered ones. It fetches nothing: Start does, for the lists wanted.
func New(cfg Config) (*Lists, error) {
	if cfg.Client == nil {
		return nil, errors.New("iplists: no client")
	}
	for name := range cfg.URLs {
		if !Known(name) {
			return nil, fmt.Errorf("iplists: unknown list %q (known: %s)", name, strings.Join(Names(), ", "))
		}
	}
	l := &Lists{
		refresh: cfg.Refresh,
		logger:  cfg.Logger,
		byName:  make(map[string]*list, len(feeds)),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if l.refresh <= 0 {
		l.refresh = DefaultRefresh
	}
	if l.logger == nil {
		l.logger = zap.NewNop()
	}
	for _, name := range Names() {
		f := feeds[name]
		raw := f.URL
		if u := cfg.URLs[name]; u != "" {
			raw = u
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("iplists: list %s: URL must be http or https with a host and no user info", name)
		}
		e := &list{name: name, url: u.String(), client: cfg.Client(u), parse: f.Parse}
		e.status = Status{Name: name, URL: e.url}
		l.byName[name] = e
		l.order = append(l.order, e)
	}
	return l, nil
}

// Get is the current copy of the list name, marking it wanted; ok is
// false while it has not loaded (or name is no list).
func (l *Lists) Get(name string) (set *Set, ok bool) {
	e := l.byName[name]
	if e == nil {
		return nil, false
	}
	l.want(e)
	s := e.set.Load()
	return s, s != nil
}

// Want marks the named lists wanted, so they are fetched from now on;
// names that are no list are ignored.
func (l *Lists) Want(names ...string) {
	for _, n := range names {
		if e := l.byName[n]; e != nil {
			l.want(e)
		}
	}
}

func (l *Lists) want(e *list) {
	if !e.wanted.Load() && e.wanted.CompareAndSwap(false, true) {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Start starts fetching the wanted lists in the background: at once, then
// every refresh interval. Calling it again does nothing.
func (l *Lists) Start() {
	l.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		go func() {
			defer close(l.done)
			l.run(ctx)
		}()
	})
}

// Stop stops fetching and waits for a fetch under way to end. The copies
// stay readable. It is safe before Start and more than once.
func (l *Lists) Stop() {
	l.stopOnce.Do(func() {
		l.startOnce.Do(func() { close(l.done) }) // never started: nothing to wait for
		if l.cancel != nil {
			l.cancel()
		}
		<-l.done
	})
}

// run fetches each wanted list when it is due, until ctx ends.
func (l *Lists) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wake time.Time
		for _, e := range l.order {
			if !e.wanted.Load() {
				continue
			}
			if !time.Now().Before(e.due()) {
				_ = l.refreshList(ctx, e)
			}
			if ctx.Err() != nil {
				return
			}
			if d := e.due(); wake.IsZero() || d.Before(wake) {
				wake = d
			}
		}
		var tick <-chan time.Time
		if !wake.IsZero() {
			timer.Reset(time.Until(wake))
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		case <-tick:
		}
	}
}

// due is when e is to be fetched next (zero: now).
func (e *list) due() time.Time {
	e.fetchMu.Lock()
	defer e.fetchMu.Unlock()
	return e.next
}

// Refresh fetches the list name now, whether wanted or not, and reports
// the fetch's error (the copy in use is then unchanged).
func (l *Lists) Refresh(ctx context.Context, name string) error {
	e := l.byName[name]
	if e == nil {
		return fmt.Errorf("iplists: unknown list %q", name)
	}
	return l.refreshList(ctx, e)
}

// refreshList fetches e, swaps in what it read on success, and schedules
// the next fetch: a refresh interval after a success, a backing-off retry
// after a failure.
func (l *Lists) refreshList(ctx context.Context, e *list) error {
	e.fetchMu.Lock()
	defer e.fetchMu.Unlock()
	set, changed, err := l.fetch(ctx, e)
	now := time.Now()
	if err != nil {
		if ctx.Err() != nil {
			return err // stopping
		}
		e.retry = min(max(2*e.retry, firstRetry), l.refresh)
		e.next = now.Add(e.retry)
		failures := e.noteFailure(err)
		fields := []zap.Field{zap.String("list", e.name), zap.String("url", e.url), zap.Error(err),
			zap.Int("failures", failures), zap.Duration("retry_in", e.retry)}
		if e.set.Load() != nil {
			l.logger.Warn("refreshing a published IP list failed; its last good copy stays in use", fields...)
		} else {
			l.logger.Warn("a published IP list has not loaded: deliveries that only it could admit are answered 503 until it does", fields...)
		}
		return err
	}
	e.retry, e.next = 0, now.Add(l.refresh)
	if changed {
		e.set.Store(set)
		l.logger.Info("published IP list loaded", zap.String("list", e.name), zap.String("url", e.url), zap.Int("spans", set.Spans()))
	}
	e.noteSuccess(now, set)
	return nil
}

// fetch reads e's answer whole and checks it. A 304 to a conditional
// request keeps the copy in use (changed false).
func (l *Lists) fetch(ctx context.Context, e *list) (set *Set, changed bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url, nil)
	if err != nil {
		return nil, false, fmt.Errorf("iplists: %s: %w", e.name, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hookgate")
	old := e.set.Load()
	if old != nil && e.etag != "" {
		req.Header.Set("If-None-Match", e.etag)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("iplists: %s: %w", e.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && old != nil {
		return old, false, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, false, fmt.Errorf("iplists: %s: HTTP %d %s", e.name, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("iplists: %s: reading the answer: %w", e.name, err)
	}
	if len(body) > MaxBytes {
		return nil, false, fmt.Errorf("iplists: %s: answer larger than %d bytes", e.name, MaxBytes)
	}
	prefixes, err := e.parse(body)
	if err == nil {
		err = checkPublished(prefixes)
	}
	if err != nil {
		return nil, false, fmt.Errorf("iplists: %s: %w", e.name, err)
	}
	set = NewSet(prefixes)
	e.etag = resp.Header.Get("ETag")
	return set, !set.Equal(old), nil
}

// checkPublished refuses a published list that is empty, over
// MaxPrefixes, or names a prefix wider than a /8 (IPv4) or /16 (IPv6).
func checkPublished(prefixes []netip.Prefix) error {
	switch {
	case len(prefixes) == 0:
		return errors.New("the list holds no address")
	case len(prefixes) > MaxPrefixes:
		return fmt.Errorf("the list holds %d prefixes, more than %d", len(prefixes), MaxPrefixes)
	}
	for _, p := range prefixes {
		bits, least := p.Bits(), minBits6
		if a := p.Addr(); a.Is4() || (a.Is4In6() && bits >= 96) {
			least = minBits4
			if a.Is4In6() {
				bits -= 96
			}
		}
		if bits < least {
			return fmt.Errorf("the list names %s, wider than a /%d", p, least)
		}
	}
	return nil
}

func (e *list) noteFailure(err error) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status.Failures++
	e.status.LastError = err.Error()
	return e.status.Failures
}

func (e *list) noteSuccess(now time.Time, set *Set) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status.Failures, e.status.LastError = 0, ""
	e.status.LoadedAt = now
	e.status.Spans = set.Spans()
}

// Status reports every registered list, sorted by name.
func (l *Lists) Status() []Status {
	out := make([]Status, 0, len(l.order))
	for _, e := range l.order {
		e.mu.Lock()
		s := e.status
		e.mu.Unlock()
		s.Wanted = e.wanted.Load()
		s.Loaded = e.set.Load() != nil
		out = append(out, s)
	}
	return out
}
