package caddymodule

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/delivery"
	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/poller"
	"github.com/hookgate/caddy-hookgate/state"
)

// startPoller runs the ticket poller: every poll_interval it asks each
// active Jira, ServiceNow and ManageEngine integration with API access for
// what changed, and commits the events like a webhook's. It runs only when
// events are forwarded: in gate mode they would have nowhere to go.
func (a *App) startPoller() error {
	var ps poller.State
	if a.state.shared() {
		ps = a.state.poll
	} else {
		ps = poller.NewMemoryState(nil)
	}
	p, err := poller.New(poller.Config{
		Lister:   a.pollableRecords,
		Commit:   a.commitPolled,
		State:    ps,
		Interval: time.Duration(a.PollInterval),
		Logger:   a.logger.Named("poller"),
	})
	if err != nil {
		return fmt.Errorf("hookgate: poller: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	a.poller, a.stopPoller, a.pollerDone = p, cancel, done
	return nil
}

// pollableRecords lists the integrations the poller visits: static ones
// and those in Vault (one LIST per poll, never per request).
func (a *App) pollableRecords(ctx context.Context) ([]integrations.Record, error) {
	ids, err := a.adminService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing integrations: %w", err)
	}
	var out []integrations.Record
	for _, id := range ids {
		rec, err := a.lookup(ctx, id)
		if err != nil {
			a.logger.Warn("poller skips an integration it cannot read", zap.String("integration", id), zap.Error(err))
			continue
		}
		if poller.Pollable(rec) {
			out = append(out, rec)
		}
	}
	return out, nil
}

// commitPolled stores what the poller found through the same outbox as
// webhooks, one event at a time (delivery.CommitPolled), so the overlap
// window, repeated polls and a webhook for the same change never deliver
// an event twice. A full outbox fails the page: the cursor stays, and the
// next poll tries again once the outbox drained.
func (a *App) commitPolled(ctx context.Context, rec integrations.Record, evs []events.Event) error {
	for i := range evs {
		o, err := delivery.CommitPolled(ctx, a.state.deliveries, a.policy(), rec, evs[i], time.Now())
		if err != nil {
			return err
		}
		if o == state.Duplicate {
			a.metrics.dedupeHit(rec.Vendor)
		}
	}
	return nil
}

// policy is what a commit keeps, from the app's settings.
func (a *App) policy() delivery.Policy {
	return delivery.Policy{DedupeWindow: time.Duration(a.DedupeWindow), AuditSize: a.AuditSize, MaxOutbox: a.MaxOutbox, MaxAge: a.maxAge}
}
