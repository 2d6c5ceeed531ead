package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Update merges settings onto id's record in Vault (created when there is
// none), validates the result as a whole and writes it as a new version;
// the secret is untouched. It answers the record's view and whether it
// was created.
func (s *Service) Update(ctx context.Context, who, id string, settings map[string]any) (view map[string]any, created bool, err error) {
	if s.Vault == nil {
		if _, err := s.Static.Fetch(ctx, id); err == nil {
			return nil, false, fmt.Errorf("%w: integration %s is static: the Caddy config owns it, change it there", ErrConflict, id)
		}
		return nil, false, fmt.Errorf("%w: no vault block: integrations can only be written to Vault", ErrConflict)
	}
	current := map[string]any{}
	rec, err := s.stored(ctx, id)
	switch {
	case err == nil:
		current = rec.Data(s.Now())
	case errors.Is(err, ErrNotFound):
		created = true
	default:
		return nil, false, err
	}
	merged, err := integrations.MergeSettings(current, settings)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	updated, err := integrations.FromData(id, merged, 0)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	version, err := s.Vault.Write(ctx, id, merged)
	if err != nil {
		s.log(ctx, who, "update", id, "failed: "+err.Error())
		return nil, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	updated.Version = version
	s.invalidate(ctx, id)
	s.log(ctx, who, "update", id, fmt.Sprintf("version %d, settings %s", version, strings.Join(slices.Sorted(maps.Keys(settings)), ",")))
	return s.View(updated, false), created, nil
}

// invalidate drops id from every instance's cache, when the Service can.
func (s *Service) invalidate(ctx context.Context, id string) {
	if s.Invalidate != nil {
		s.Invalidate(ctx, id)
	}
}
