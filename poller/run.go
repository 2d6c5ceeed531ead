package poller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
)

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
