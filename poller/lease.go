package poller

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"
)

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
