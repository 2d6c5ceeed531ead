package caddymodule

import (
	"context"

	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/state"
)

// lifecycle is the App's state for the operator routes: the invalidation
// subscriber while it runs.
type lifecycle struct {
	invalidation *invalidationSub
}

func newLifecycle() *lifecycle { return &lifecycle{} }

// recordAdmin appends an admin action to the admin log (the Redis stream
// Keys.AdminAudit, or process memory without Redis). A failure to store it
// is logged; the caller's own log line has the action in any case.
func (a *App) recordAdmin(ctx context.Context, e state.AdminEntry) {
	if a.state == nil || a.state.admin == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisIOTimeout)
	defer cancel()
	if err := a.state.admin.Append(ctx, e); err != nil {
		a.logger.Warn("writing the admin audit stream failed; the action is in this log only",
			zap.String("action", e.Action), zap.String("integration", e.Integration), zap.Error(err))
	}
}
