package limiter

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Unknown is the scope of failures that name no known integration
// (unknown or malformed ids, paths that are no receiver): they are counted
// per client address only, never per id.
const Unknown = ""

// OverflowField is the counter that every address shares once a window's
// scope already counts MaxAddrs addresses: "*" is never an address key.
const OverflowField = "*"

// Defaults of Options.
const (
	// DefaultMaxAddrs caps the addresses one scope counts in one window.
	DefaultMaxAddrs = 10000
	// DefaultMaxEntries caps what Memory holds in all: windows and
	// addresses together.
	DefaultMaxEntries = 100000
)

// expirySlack keeps a window's Redis hash a little past the window's end,
// so an instance whose clock runs slightly behind still adds to the same
// count rather than starting a fresh one.
const expirySlack = time.Second

// Failures counts verification failures. Implementations are safe for
// concurrent use.
type Failures interface {
	// Add counts one failure of addr (see Key) in scope, a valid
	// integration id or Unknown, in the fixed window of the given length
	// that holds now, and returns the window's count for addr, this failure
	// included. Windows start at multiples of window since the Unix epoch,
	// so every instance with a synchronized clock agrees on them.
	Add(ctx context.Context, scope string, addr netip.Addr, window time.Duration) (Tally, error)
}

// Tally is one address's failures in the current window.
type Tally struct {
	// Count is the failures counted for the address in this window; for an
	// address counted in OverflowField, those of every overflowing address.
	Count int64
	// End is when the window ends and counting starts again from zero.
	End time.Time
}

// Options configure Redis and Memory. Zero values select the defaults.
type Options struct {
	// KeyPrefix starts every Redis key (Redis only); the keys are named by
	// state.Keys. Default state.DefaultKeyPrefix. It must not contain an
	// empty hash tag "{}".
	KeyPrefix string
	// MaxAddrs caps the addresses one scope counts per window; beyond it,
	// new addresses share OverflowField. Default 10,000.
	MaxAddrs int
	// MaxEntries caps the windows and addresses Memory holds in all
	// (Memory only); beyond it, new addresses share their window's
	// OverflowField and new scopes share one overflow window. Default
	// 100,000.
	MaxEntries int
	// Now is the clock that picks the window. Default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.MaxAddrs <= 0 {
		o.MaxAddrs = DefaultMaxAddrs
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// ErrArgument is wrapped by the error of an Add with a scope that is
// neither Unknown nor a valid integration id, or a window that is not
// positive.
var ErrArgument = errors.New("limiter: invalid argument")

// check validates Add's arguments.
func check(scope string, window time.Duration) error {
	if window <= 0 {
		return fmt.Errorf("%w: window %v is not positive", ErrArgument, window)
	}
	if scope != Unknown && !integrations.ValidID(scope) {
		return fmt.Errorf("%w: scope is not an integration id", ErrArgument)
	}
	return nil
}

// windowOf returns the start of the window of length w that holds now, in
// Unix milliseconds, and its end.
func windowOf(now time.Time, w time.Duration) (startMs int64, end time.Time) {
	ms := now.UnixMilli()
	wms := w.Milliseconds()
	if wms <= 0 {
		wms = 1
	}
	startMs = ms - ms%wms
	if ms < 0 && ms%wms != 0 {
		startMs -= wms
	}
	return startMs, time.UnixMilli(startMs + wms)
}

// Normalize is the prefix a client address is counted by: an IPv4 address
// (or an IPv4-mapped IPv6 one) alone, an IPv6 address by its /64, so that
// one host cannot escape its count by rotating through the addresses of its
// prefix. Zones are dropped. An invalid address yields the zero Prefix.
func Normalize(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	switch {
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	case a.Is6():
		p, _ := a.Prefix(64)
		return p
	default:
		return netip.Prefix{}
	}
}

// Key is the name a client address is counted under: "192.0.2.7" for IPv4,
// "2001:db8:1:2::/64" for IPv6, "invalid" for an invalid address.
func Key(a netip.Addr) string {
	p := Normalize(a)
	switch {
	case !p.IsValid():
		return "invalid"
	case p.Addr().Is4():
		return p.Addr().String()
	default:
		return p.String()
	}
}
