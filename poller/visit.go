package poller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
)

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
	c := clients[rec.Vendor]
	committed := 0
	ps := &Pass{
		rec:            rec,
		since:          cursor.Add(-p.cfg.Overlap),
		start:          start,
		http:           p.cfg.HTTP,
		requestTimeout: p.cfg.RequestTimeout,
		seen: func(ctx context.Context, keys []string) (map[string]string, error) {
			return st.Seen(ctx, rec.ID, keys)
		},
		zone: func(ctx context.Context) (*time.Location, error) { return p.zone(ctx, rec, c) },
	}
	ps.deliver = func(ctx context.Context, pg Page) error {
		if len(pg.Events) > 0 {
			evs, _ := events.Orchestrate(rec, pg.Events)
			if err := p.cfg.Commit(ctx, rec, evs); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
			committed += len(evs)
		}
		if err := st.Remember(ctx, l, pg.Remember); err != nil {
			return err
		}
		if !pg.Through.IsZero() {
			return st.Advance(ctx, l, pg.Through)
		}
		return nil
	}
	if err := c.Poll(ctx, ps); err != nil {
		return committed, err
	}
	if ps.skipped > 0 {
		p.cfg.Logger.Warn("tickets skipped: the vendor's record lacks what an event needs",
			zap.String("integration", rec.ID), zap.Int("skipped", ps.skipped))
	}
	return committed, st.Advance(ctx, l, start)
}

// zone is the time zone c.Zone reports for rec's API account, asked once
// per integration and API account and kept; UTC when c has no Zone.
func (p *Poller) zone(ctx context.Context, rec integrations.Record, c Client) (*time.Location, error) {
	if c.Zone == nil {
		return time.UTC, nil
	}
	key := rec.ID + "\x00" + rec.APIURL + "\x00" + rec.APIUser
	p.mu.Lock()
	loc := p.zones[key]
	p.mu.Unlock()
	if loc != nil {
		return loc, nil
	}
	loc, err := c.Zone(ctx, &Pass{rec: rec, http: p.cfg.HTTP, requestTimeout: p.cfg.RequestTimeout})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.zones[key] = loc
	p.mu.Unlock()
	return loc, nil
}

// capError bounds a recorded error.
func capError(s string) string {
	if len(s) > maxErrorLen {
		return strings.ToValidUTF8(s[:maxErrorLen], "")
	}
	return s
}
