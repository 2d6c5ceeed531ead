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
)

// MaxResponseBytes bounds one vendor API response; a longer one is an
// error, not a truncated page.
const MaxResponseBytes = 16 << 20

// pageSize is how many tickets one API call asks for.
const pageSize = 100

// maxPages stops a vendor that never says "last page".
const maxPages = 10000

// defaultRetryAfter is the wait after a 429 without a usable Retry-After.
const defaultRetryAfter = time.Minute

// client polls one vendor: it fetches what changed since p.since, page by
// page, and hands each page to p.deliver in order. It returns the first
// error; pages handed over before it stay committed.
type client func(ctx context.Context, p *pass) error

// clients is the one table of vendors the poller knows; each vendor's file
// holds its function.
var clients = map[integrations.Vendor]client{
	integrations.Jira:         pollJira,
	integrations.ServiceNow:   pollServiceNow,
	integrations.ManageEngine: pollManageEngine,
}

// Pollable reports whether rec is an integration the poller visits: active,
// a ticket vendor with an API client, an api_url and an api_token.
func Pollable(rec integrations.Record) bool {
	_, ok := clients[rec.Vendor]
	return ok && rec.Active && rec.APIURL != "" && rec.APIToken != ""
}

// page is one API page turned into events.
type page struct {
	// evs are the page's normalized events, before Orchestrate.
	evs []events.Event
	// remember are ticket fingerprints to store once evs are committed.
	remember map[string]string
	// through is the newest vendor update time on the page: once the page
	// is committed, nothing older needs fetching again.
	through time.Time
}

// pass is one visit of one integration, as a vendor client sees it.
type pass struct {
	rec integrations.Record
	// since is where the query starts: cursor minus overlap.
	since time.Time
	// start is when the visit started (the poller's clock).
	start time.Time
	// http and requestTimeout make every call.
	http           *http.Client
	requestTimeout time.Duration
	// seen returns remembered ticket fingerprints.
	seen func(ctx context.Context, keys []string) (map[string]string, error)
	// deliver commits a page and moves the cursor.
	deliver func(ctx context.Context, pg page) error
	// zone is the Jira API user's time zone, cached across visits.
	zone func(ctx context.Context) (*time.Location, error)
	// skipped counts tickets the normalizer found malformed.
	skipped int
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

// base is api_url without a trailing slash.
func (p *pass) base() string { return strings.TrimRight(p.rec.APIURL, "/") }

// getJSON GETs u with hdr and decodes a 200 answer into v. The response is
// read to at most MaxResponseBytes. A 429 is a *RateLimitedError; other
// non-200 answers, transport failures and bodies that are not the JSON v
// expects are errors. No error carries the URL's query, userinfo or any
// credential.
func (p *pass) getJSON(ctx context.Context, op, u string, hdr http.Header, v any) error {
	ctx, cancel := context.WithTimeout(ctx, p.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%s: api_url is not a usable URL", op)
	}
	req.Header = hdr
	resp, err := p.http.Do(req)
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
func (p *pass) redact(s string) string {
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
func (p *pass) normalize(body []byte) ([]events.Event, error) {
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

// normalizeOrSkip is normalize for one ticket of a page: a ticket whose
// synthesized body the normalizer finds malformed (a record the vendor gave
// half of) is counted and skipped, so it cannot stop the integration's
// polling for good.
func (p *pass) normalizeOrSkip(body []byte) []events.Event {
	evs, err := p.normalize(body)
	if err != nil {
		p.skipped++
		return nil
	}
	return evs
}

// through caps a page's newest vendor time at the visit's start: the
// cursor never runs ahead of the poller's clock.
func (p *pass) through(t time.Time) time.Time {
	if t.After(p.start) {
		return p.start
	}
	return t
}

// timeLayouts are the vendors' timestamp spellings.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z0700", // Jira
	time.RFC3339Nano,
	"2006-01-02 15:04:05", // ServiceNow (UTC)
}

// parseTime reads a vendor timestamp; unknown spellings give zero.
func parseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// flexText reads a JSON string or number as text; anything else is "".
func flexText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
