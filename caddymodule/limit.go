package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/limiter"
)

// Defaults of the brute-force limiter (FailureLimitConfig).
const (
	DefaultFailureThreshold = 20
	DefaultUnknownThreshold = 100
	DefaultFailureWindow    = 10 * time.Minute
	// minFailureWindow is the shortest window: Retry-After counts seconds.
	minFailureWindow = time.Second
	// maxLimited bounds the addresses one instance remembers as limited;
	// past it, a limited address is found limited through its count.
	maxLimited = 10000
	// limiterErrorEvery is how often, at most, an unreachable limiter is
	// logged.
	limiterErrorEvery = 10 * time.Second
)

// bodyTooManyRequests is the one body of every 429.
var bodyTooManyRequests = []byte(`{"error":"too many requests"}`)

// FailureLimitConfig configures the brute-force limiter: verification
// failures are counted per client address (Caddy's client IP, which honours
// trusted_proxies; IPv6 by /64) in fixed windows, in Redis when there is a
// redis block (so every instance agrees), else in process memory. Past a
// threshold, failures are answered 429 with Retry-After until the window
// ends. A valid delivery is never refused by the limiter.
type FailureLimitConfig struct {
	// Disabled turns the limiter off (Caddyfile `failure_limit off`).
	// Default: false, the limiter is on.
	Disabled bool `json:"disabled,omitempty"`
	// Threshold is how many failed verifications for one known integration
	// from one address a window allows; the next ones are answered 429.
	// Default: 20.
	Threshold int `json:"threshold,omitempty"`
	// UnknownThreshold is how many requests naming no known integration
	// (unknown or malformed id, no receiver) one address may send per
	// window; past it, requests from that address whose id is not known
	// are answered 429 before any Vault read. Default: 100.
	UnknownThreshold int `json:"unknown_threshold,omitempty"`
	// Window is the length of the fixed counting windows. Default: 10m.
	Window caddy.Duration `json:"window,omitempty"`
}

// failureLimit is the app's limiter: the shared counter, the settings, and
// the addresses this instance already knows to be limited, so that a flood
// from a limited address costs no Redis round trip and no Vault read.
type failureLimit struct {
	counter          limiter.Failures
	threshold        int64
	unknownThreshold int64
	window           time.Duration
	logger           *zap.Logger
	now              func() time.Time

	// size mirrors len(limited), so the valid-delivery path learns that
	// nothing is limited without a lock.
	size    atomic.Int64
	mu      sync.Mutex
	limited map[limitKey]time.Time // until the window's end

	errorLog everyInterval // "limiter unavailable", at most once per limiterErrorEvery
}

// limitKey is one scope (integration id or limiter.Unknown) and address.
type limitKey struct {
	scope string
	addr  netip.Prefix
}

// newFailureLimit applies the defaults to fc; it returns nil when the
// limiter is off.
func newFailureLimit(fc *FailureLimitConfig, counter limiter.Failures, logger *zap.Logger) (*failureLimit, error) {
	var c FailureLimitConfig
	if fc != nil {
		c = *fc
	}
	if c.Disabled {
		return nil, nil
	}
	if c.Threshold < 0 || c.UnknownThreshold < 0 {
		return nil, fmt.Errorf("hookgate: failure_limit: thresholds must not be negative")
	}
	if c.Window != 0 && time.Duration(c.Window) < minFailureWindow {
		return nil, fmt.Errorf("hookgate: failure_limit: window must be at least %v", minFailureWindow)
	}
	if counter == nil {
		return nil, errors.New("hookgate: failure_limit: no counter")
	}
	l := &failureLimit{
		counter:          counter,
		threshold:        DefaultFailureThreshold,
		unknownThreshold: DefaultUnknownThreshold,
		window:           DefaultFailureWindow,
		logger:           logger,
		now:              time.Now,
		limited:          make(map[limitKey]time.Time),
	}
	l.errorLog.every = limiterErrorEvery
	if c.Threshold > 0 {
		l.threshold = int64(c.Threshold)
	}
	if c.UnknownThreshold > 0 {
		l.unknownThreshold = int64(c.UnknownThreshold)
	}
	if c.Window > 0 {
		l.window = time.Duration(c.Window)
	}
	return l, nil
}

// limitedUntil reports whether this instance knows key to be limited, and
// until when.
func (l *failureLimit) limitedUntil(key limitKey, now time.Time) (time.Time, bool) {
	if l.size.Load() == 0 {
		return time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	end, ok := l.limited[key]
	if !ok {
		return time.Time{}, false
	}
	if !now.Before(end) {
		delete(l.limited, key)
		l.size.Store(int64(len(l.limited)))
		return time.Time{}, false
	}
	return end, true
}

// remember notes that key is limited until end. When the set is full and
// nothing in it has expired, key is not remembered: its count still
// limits it, at the price of a round trip.
func (l *failureLimit) remember(key limitKey, end, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.limited[key]; !ok && len(l.limited) >= maxLimited {
		for k, e := range l.limited {
			if !now.Before(e) {
				delete(l.limited, k)
			}
		}
		if len(l.limited) >= maxLimited {
			return
		}
	}
	l.limited[key] = end
	l.size.Store(int64(len(l.limited)))
}

// add counts one failure of key. ok is false when the counter failed:
// then the request is answered as without a limiter (fail open: a forged
// request is never answered 503), and the failure is logged at most once
// per limiterErrorEvery.
func (l *failureLimit) add(ctx context.Context, key limitKey) (limiter.Tally, bool) {
	t, err := l.counter.Add(ctx, key.scope, key.addr.Addr(), l.window)
	if err == nil {
		return t, true
	}
	if ctx.Err() == nil {
		if l.errorLog.allow(l.now()) {
			l.logger.Warn("brute-force limiter unavailable: failures are not counted and are answered 401 as without a limiter", zap.Error(err))
		}
	}
	return limiter.Tally{}, false
}

// clientAddr is the address failures are counted by: clientIP, grouped as
// limiter.Normalize does.
func clientAddr(r *http.Request) netip.Prefix {
	return limiter.Normalize(clientIP(r))
}

// clientIP is the request's client address: Caddy's client IP (which
// honours trusted_proxies), else the connection's peer; the zero Addr
// when neither parses.
func clientIP(r *http.Request) netip.Addr {
	if s, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok {
		if a, err := netip.ParseAddr(s); err == nil {
			return a
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a
}

// known reports, without asking Vault, whether id names an integration this
// instance knows: a static one, or one Vault's cache holds or listed.
func (a *App) known(id string) bool {
	return a.static.Has(id) || (a.vault != nil && a.vault.cache.Known(id))
}

// limitUnknown answers 429, before any Vault read, a request from an
// address that sent too many requests naming no known integration, unless
// its id is known. It costs nothing while no address is limited.
func (h *Handler) limitUnknown(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, vendor integrations.Vendor, id string) (answered bool, err error) {
	l := h.app.limit
	if l == nil || l.size.Load() == 0 || h.app.known(id) {
		return false, nil
	}
	now := l.now()
	end, ok := l.limitedUntil(limitKey{limiter.Unknown, clientAddr(r)}, now)
	if !ok {
		return false, nil
	}
	return true, h.tooMany(w, repl, "rate limited: too many unknown integration ids from this address", vendor, "", end, now)
}

// refuseUnknown refuses a request naming no known integration: 401, or 429
// once its address is over the unknown threshold. The count is per address
// only: no key ever names the id.
func (h *Handler) refuseUnknown(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, reason string, vendor integrations.Vendor) error {
	if l := h.app.limit; l != nil {
		key := limitKey{limiter.Unknown, clientAddr(r)}
		now := l.now()
		if end, ok := l.limitedUntil(key, now); ok {
			return h.tooMany(w, repl, "rate limited: "+reason, vendor, "", end, now)
		}
		if t, ok := l.add(r.Context(), key); ok && t.Count > l.unknownThreshold {
			l.remember(key, t.End, now)
			return h.tooMany(w, repl, "rate limited: "+reason, vendor, "", t.End, now)
		}
	}
	return h.refuse(w, repl, http.StatusUnauthorized, reason, vendor, "")
}

// limitRejected counts a failed verification of a known integration and,
// once its address is over the threshold, answers 429 instead of 401. The
// first answer over the threshold is audited (reason "rate limited: ..."),
// later ones are not, so that a flood costs Redis nothing but its count;
// failures this instance already knows to be limited are not even counted.
// Only failures reach here: a valid delivery never consults the limiter.
func (h *Handler) limitRejected(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, rec *integrations.Record, signature, reason string, now time.Time) (answered bool, err error) {
	l := h.app.limit
	if l == nil {
		return false, nil
	}
	key := limitKey{rec.ID, clientAddr(r)}
	lnow := l.now()
	if end, ok := l.limitedUntil(key, lnow); ok {
		return true, h.tooMany(w, repl, "rate limited: "+reason, rec.Vendor, rec.ID, end, lnow)
	}
	t, ok := l.add(r.Context(), key)
	if !ok || t.Count <= l.threshold {
		return false, nil
	}
	l.remember(key, t.End, lnow)
	reason = "rate limited: " + reason
	if t.Count == l.threshold+1 {
		h.auditRejected(r.Context(), rec, r, signature, reason, now)
	}
	return true, h.tooMany(w, repl, reason, rec.Vendor, rec.ID, t.End, lnow)
}

// tooMany answers 429 with the uniform body and Retry-After: the seconds
// until the window ends.
func (h *Handler) tooMany(w http.ResponseWriter, repl *caddy.Replacer, reason string, vendor integrations.Vendor, id string, end, now time.Time) error {
	wait := int64((end.Sub(now) + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(wait, 1), 10))
	// refuse also counts the answer (caddy_hookgate_deliveries_total, result "limited").
	return h.refuse(w, repl, http.StatusTooManyRequests, reason, vendor, id)
}
