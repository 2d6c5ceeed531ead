package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// Registration is what register answers.
type Registration struct {
	Registered  bool   `json:"registered"`
	HookID      string `json:"hook_id,omitempty"`
	Created     bool   `json:"created"`
	ManualSteps string `json:"manual_steps,omitempty"`
}

// register creates or updates the hook on the vendor with the receiver URL
// and the current secret, read from the source (not the cache), so that a
// rotation reaches the vendor.
func (s *Service) register(ctx context.Context, id string) (integrations.Record, Registration, error) {
	rec, _, err := s.Fresh(ctx, id)
	if err != nil {
		return rec, Registration{}, err
	}
	res, err := vendorapi.Register(ctx, s.Client, rec, vendorapi.Hook{URL: s.ReceiverURL(rec), Secret: rec.Secret})
	if err != nil {
		if errors.Is(err, vendorapi.ErrMissingSetting) || errors.Is(err, vendorapi.ErrBadSetting) {
			return rec, Registration{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		return rec, Registration{}, fmt.Errorf("%w: %w", ErrVendor, err)
	}
	return rec, Registration{Registered: res.Registered, HookID: res.HookID, Created: res.Created, ManualSteps: res.ManualSteps}, nil
}

// Register creates or updates the hook on the vendor, or answers the
// manual steps for a vendor without an API for it.
func (s *Service) Register(ctx context.Context, who, id string) (Registration, error) {
	_, reg, err := s.register(ctx, id)
	switch {
	case err != nil:
		s.log(ctx, who, "register", id, "failed: "+err.Error())
		return reg, err
	case !reg.Registered:
		s.log(ctx, who, "register", id, "manual steps answered")
	case reg.Created:
		s.log(ctx, who, "register", id, "created hook "+reg.HookID)
	default:
		s.log(ctx, who, "register", id, "updated hook "+reg.HookID)
	}
	return reg, nil
}
