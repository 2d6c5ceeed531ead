package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/secretstore"
	"github.com/hookgate/caddy-hookgate/state"
)

// Static is the integrations written in the config.
type Static interface {
	Fetch(ctx context.Context, id string) (integrations.Record, error)
	IDs() []string
}

// Vault is where integrations written through the admin API live.
type Vault interface {
	Fetch(ctx context.Context, id string) (integrations.Record, error)
	Write(ctx context.Context, id string, data map[string]any) (version int, err error)
	List(ctx context.Context) ([]string, error)
}

// Service carries out operator actions. Its zero value is not usable:
// Static, Log and Now are required; the rest are optional.
type Service struct {
	// Static holds the integrations of the config, looked up first.
	Static Static
	// Vault holds the others; nil without a vault block (then nothing
	// can be written).
	Vault Vault
	// Invalidate drops id from every instance's record cache after a
	// write. Default: nothing.
	Invalidate func(ctx context.Context, id string)
	// Reload reads id's record from Vault in Fresh's place of
	// Vault.Fetch: from Vault itself, never a cache, and puts what it read
	// into every instance's record cache, so the secret reveal shows and
	// register gives the vendor is the one every verifier uses, also after
	// a change made in Vault directly. Default nil: Vault.Fetch, and no
	// cache learns of the read.
	Reload func(ctx context.Context, id string) (integrations.Record, error)
	// Deliveries is the audit log setup watches for the test delivery.
	Deliveries state.Deliveries
	// Log records one admin action: who asked (the remote address), what,
	// on which integration, and the outcome, never a secret value.
	Log func(ctx context.Context, e state.AdminEntry)
	// PublicURL is the base URL vendors post to ("" unknown), without a
	// trailing slash.
	PublicURL string
	// Client calls vendor APIs (register, test deliveries).
	Client *http.Client
	// Now is the clock.
	Now func() time.Time
}

// log records an action with its outcome.
func (s *Service) log(ctx context.Context, who, action, id, outcome string) {
	s.Log(ctx, state.AdminEntry{Time: s.Now().UTC(), Who: who, Action: action, Integration: id, Outcome: outcome})
}

// List is every integration id: the config's first, then Vault's.
func (s *Service) List(ctx context.Context) ([]string, error) {
	ids := s.Static.IDs()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	if s.Vault != nil {
		stored, err := s.Vault.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: listing Vault: %w", ErrUnavailable, err)
		}
		for _, id := range stored {
			if !seen[id] {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// Fresh reads id's record from its source: the config for a static
// integration (static true), else Vault itself, never the cache, through
// Reload when it is set (so every cache then holds what was read).
func (s *Service) Fresh(ctx context.Context, id string) (rec integrations.Record, static bool, err error) {
	c := secretstore.Chain{Static: s.Static}
	switch {
	case s.Vault != nil && s.Reload != nil:
		c.Next = fetchFunc(s.Reload)
	case s.Vault != nil:
		c.Next = s.Vault
	}
	rec, static, err = c.Find(ctx, id)
	return rec, static, storeError(id, err)
}

// fetchFunc is a function as a secretstore.Fetcher.
type fetchFunc func(ctx context.Context, id string) (integrations.Record, error)

// Fetch calls f.
func (f fetchFunc) Fetch(ctx context.Context, id string) (integrations.Record, error) {
	return f(ctx, id)
}

// stored is Fresh for the actions that write Vault: a static integration
// is a conflict, since the config owns it.
func (s *Service) stored(ctx context.Context, id string) (integrations.Record, error) {
	rec, static, err := s.Fresh(ctx, id)
	if err == nil && static {
		return rec, fmt.Errorf("%w: integration %s is static: the Caddy config owns it, change it there", ErrConflict, id)
	}
	return rec, err
}

// storeError maps a Vault error to the admin's; the errors name the Vault
// path and never a value.
func storeError(id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, secretstore.ErrNotFound):
		return fmt.Errorf("%w: integration %s", ErrNotFound, id)
	case errors.Is(err, secretstore.ErrInvalid), errors.Is(err, integrations.ErrInvalidRecord):
		return fmt.Errorf("%w: integration %s: the stored record is invalid: %w", ErrConflict, id, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// View is a record as GET shows it: its settings, whether it has a secret,
// the rotation state and where the vendor posts, and never a secret or API
// token value (those fields have json:"-").
func (s *Service) View(rec integrations.Record, static bool) map[string]any {
	raw, _ := json.Marshal(rec)
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	delete(v, "previous_valid_until")
	v["has_secret"] = rec.HasSecret()
	v["has_api_token"] = rec.APIToken != ""
	v["effective_scheme"] = string(rec.EffectiveScheme())
	v["previous_valid_until"] = nil
	v["previous_active"] = rec.PreviousActive(s.Now())
	if !rec.PreviousValidUntil.IsZero() && rec.PreviousSecret != "" {
		v["previous_valid_until"] = rec.PreviousValidUntil.UTC().Format(time.RFC3339)
	}
	data := rec.Data(s.Now())
	for _, k := range []string{"max_age", "tolerance"} { // json:"-" durations, shown as written
		if d, ok := data[k]; ok {
			v[k] = d
		}
	}
	v["static"] = static
	v["receiver_path"] = rec.Vendor.ReceiverPath(rec.ID)
	v["receiver_url"] = s.ReceiverURL(rec)
	return v
}

// ReceiverURL is where the vendor posts rec's deliveries; "" without a
// public URL.
func (s *Service) ReceiverURL(rec integrations.Record) string {
	base := strings.TrimRight(s.PublicURL, "/")
	if base == "" {
		return ""
	}
	return base + rec.Vendor.ReceiverPath(rec.ID)
}
