package poller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// The toolkit below is what a vendor's Client works with: the limits every
// client keeps, the Pass it is handed for one visit, and the Page it
// delivers.

// MaxResponseBytes bounds one vendor API response; a longer one is an
// error, not a truncated page.
const MaxResponseBytes = 16 << 20

// PageSize is how many tickets one API call asks for.
const PageSize = 100

// MaxPages stops a vendor that never says "last page": a client returns
// an error once it has read this many pages in one visit.
const MaxPages = 10000

// UserAgent is the User-Agent every vendor API call carries.
const UserAgent = "hookgate-poller"

// defaultRetryAfter is the wait after a 429 without a usable Retry-After.
const defaultRetryAfter = time.Minute

// Page is one API page turned into events, as a Client hands it to
// Pass.Deliver.
type Page struct {
	// Events are the page's normalized events, before events.Orchestrate
	// (Pass.NormalizeOrSkip makes them).
	Events []events.Event
	// Remember are ticket fingerprints (ticket key -> what was seen) to
	// store once Events are committed; Pass.Seen returns them on later
	// visits. Nil for a vendor whose API gives changes, not states.
	Remember map[string]string
	// Through is the newest vendor update time on the page, capped with
	// Pass.Through: once the page is committed the cursor moves there, as
	// nothing older needs fetching again. Zero leaves the cursor.
	Through time.Time
}

// Pass is one visit of one integration, as a vendor's Client sees it. It
// is used by one goroutine at a time.
type Pass struct {
	rec integrations.Record
	// since is where the query starts: cursor minus overlap.
	since time.Time
	// start is when the visit started (the poller's clock).
	start time.Time
	// http and requestTimeout make every call; guarded is http kept to
	// the api_url's origin, made on the first call.
	http           *http.Client
	guarded        *http.Client
	requestTimeout time.Duration
	// seen returns remembered ticket fingerprints.
	seen func(ctx context.Context, keys []string) (map[string]string, error)
	// deliver commits a page and moves the cursor.
	deliver func(ctx context.Context, pg Page) error
	// zone is the API user's time zone, cached across visits.
	zone func(ctx context.Context) (*time.Location, error)
	// skipped counts tickets the normalizer found malformed.
	skipped int
}

// Record is the integration being visited.
func (p *Pass) Record() integrations.Record { return p.rec }

// Since is where the visit's query starts: the cursor minus the overlap
// window. Changes before it were committed by an earlier visit.
func (p *Pass) Since() time.Time { return p.since }

// Base is api_url without a trailing slash.
func (p *Pass) Base() string { return strings.TrimRight(p.rec.APIURL, "/") }

// Seen returns the fingerprints remembered (Page.Remember) for those of
// keys the poller has seen before; keys never seen are absent. The map is
// the caller's to change.
func (p *Pass) Seen(ctx context.Context, keys []string) (map[string]string, error) {
	return p.seen(ctx, keys)
}

// Deliver commits pg: its events (through events.Orchestrate and the
// caller's Commit), then its fingerprints, then the cursor. A Client
// returns its error, which stops the visit; what was delivered before
// stays.
func (p *Pass) Deliver(ctx context.Context, pg Page) error {
	return p.deliver(ctx, pg)
}

// Zone is the time zone the vendor's Client.Zone reported for this
// integration's API account, asked once and kept by the poller; UTC for a
// vendor whose Client has no Zone.
func (p *Pass) Zone(ctx context.Context) (*time.Location, error) {
	if p.zone == nil {
		return time.UTC, nil
	}
	return p.zone(ctx)
}

// RateLimitedError is a vendor's 429: the integration is not asked again
// before RetryAfter has passed.
type RateLimitedError struct {
	Op         string
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("%s: HTTP 429 rate limited, retry after %s", e.Op, e.RetryAfter)
}

// GetJSON GETs u with hdr and decodes a 200 answer into v; op names the
// call in errors ("jira search"). Each call is bounded by the poller's
// RequestTimeout and the response is read to at most MaxResponseBytes. A
// 429 is a *RateLimitedError carrying the Retry-After wait; other non-200
// answers, transport failures and bodies that are not the JSON v expects
// are errors. A redirect off the api_url's scheme, host and port is not
// followed (vendorapi.SameOriginClient): the credentials in hdr never
// reach another host. No error carries the URL's query, userinfo or any
// credential.
func (p *Pass) GetJSON(ctx context.Context, op, u string, hdr http.Header, v any) error {
	ctx, cancel := context.WithTimeout(ctx, p.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%s: api_url is not a usable URL", op)
	}
	if p.guarded == nil {
		base, err := url.Parse(p.rec.APIURL)
		if err != nil || base.Host == "" {
			return fmt.Errorf("%s: api_url is not a usable URL", op)
		}
		p.guarded = vendorapi.SameOriginClient(p.http, base)
	}
	req.Header = hdr
	resp, err := p.guarded.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: request failed: %s", op, p.redact(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s: reading response: %s", op, p.redact(err.Error()))
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &RateLimitedError{Op: op, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: HTTP %d: credentials rejected", op, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s: HTTP %d", op, resp.StatusCode)
	case len(body) > MaxResponseBytes:
		return fmt.Errorf("%s: response over %d bytes", op, MaxResponseBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: response is not the expected JSON", op)
	}
	return nil
}

// redact removes the integration's credentials from s.
func (p *Pass) redact(s string) string {
	return redact(s, p.rec.APIToken)
}

func redact(s, token string) string {
	if token != "" {
		s = strings.ReplaceAll(s, token, "[redacted]")
	}
	return s
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. Missing
// or unusable values give defaultRetryAfter; waits are capped at an hour.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return defaultRetryAfter
	}
	return min(max(d, time.Second), time.Hour)
}

// normalize runs a synthesized webhook body through the webhook path's
// events.Normalize, as a delivery received by poll at the visit's start.
// Ignored bodies yield no events; malformed ones an error.
func (p *Pass) normalize(body []byte) ([]events.Event, error) {
	ident := events.Identify(p.rec.Vendor, p.rec.EffectiveScheme(), nil, body)
	evs, _, _, err := events.Normalize(events.Delivery{
		Vendor:      p.rec.Vendor,
		Integration: p.rec.ID,
		Body:        body,
		Identity:    ident,
		DeliveryKey: events.DeliveryKey(p.rec.ID, "", body),
		Signature:   "valid",
		Via:         "poll",
		ReceivedAt:  p.start,
	})
	return evs, err
}

// NormalizeOrSkip runs body, the webhook body one ticket change would have
// been, through the webhook path's events.Normalize as a delivery received
// by poll at the visit's start, so the events (and their ids) are the
// webhook's. Bodies the normalizer ignores yield none. A body it finds
// malformed (a record the vendor gave half of) is counted, logged at the
// visit's end and skipped, so it cannot stop the integration's polling
// for good.
func (p *Pass) NormalizeOrSkip(body []byte) []events.Event {
	evs, err := p.normalize(body)
	if err != nil {
		p.skipped++
		return nil
	}
	return evs
}

// Through caps a page's newest vendor time at the visit's start, for
// Page.Through: the cursor never runs ahead of the poller's clock.
func (p *Pass) Through(t time.Time) time.Time {
	if t.After(p.start) {
		return p.start
	}
	return t
}
