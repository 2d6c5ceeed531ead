package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// DefaultGrace is how long the previous secret stays valid after a
// regenerate that names no grace.
const DefaultGrace = 24 * time.Hour

// Regenerated is what regenerate answers, this once.
type Regenerated struct {
	Secret string `json:"secret"`
	// PreviousValidUntil is when the old secret stops working (RFC 3339),
	// or nil when it was revoked at once.
	PreviousValidUntil any `json:"previous_valid_until"`
	SecretVersion      int `json:"secret_version"`
	// Paste is what to enter in the vendor instead of the secret, where
	// that differs (ServiceNow hmac: base64-encoded); nil otherwise.
	Paste *vendorapi.Paste `json:"paste,omitempty"`
}

// Revealed is what reveal answers: the secret and, where the vendor takes
// another form of it, what to paste.
type Revealed struct {
	Secret string           `json:"secret"`
	Paste  *vendorapi.Paste `json:"paste,omitempty"`
}

// Regenerate makes a new secret current; the old one stays valid for
// grace (0: revoked at once).
func (s *Service) Regenerate(ctx context.Context, who, id string, grace time.Duration) (Regenerated, error) {
	if grace < 0 {
		return Regenerated{}, fmt.Errorf("%w: grace must not be negative", ErrBadRequest)
	}
	rec, err := s.stored(ctx, id)
	if err != nil {
		return Regenerated{}, err
	}
	secret, err := integrations.NewSecret(rec.Vendor, rec.EffectiveScheme())
	if err != nil {
		return Regenerated{}, fmt.Errorf("admin: %w", err)
	}
	now := s.Now()
	data := rec.Data(now)
	delete(data, "previous_secret")
	delete(data, "previous_valid_until")
	data["secret"] = secret
	var until any
	if grace > 0 && rec.Secret != "" {
		u := now.Add(grace).UTC().Format(time.RFC3339)
		data["previous_secret"] = rec.Secret
		data["previous_valid_until"] = u
		until = u
	}
	if _, err := integrations.FromData(id, data, 0); err != nil {
		return Regenerated{}, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	version, err := s.Vault.Write(ctx, id, data)
	if err != nil {
		s.log(ctx, who, "regenerate", id, "failed: "+err.Error())
		return Regenerated{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	s.invalidate(ctx, id)
	outcome := fmt.Sprintf("version %d, previous secret revoked", version)
	if until != nil {
		outcome = fmt.Sprintf("version %d, previous secret valid until %s", version, until)
	}
	s.log(ctx, who, "regenerate", id, outcome)
	return Regenerated{Secret: secret, PreviousValidUntil: until, SecretVersion: version, Paste: vendorapi.PasteOf(rec, secret)}, nil
}

// Reveal is the current secret, read from Vault now, never the cache,
// and what to paste into the vendor where that is another form of it.
func (s *Service) Reveal(ctx context.Context, who, id string) (Revealed, error) {
	rec, err := s.stored(ctx, id)
	if err != nil {
		s.log(ctx, who, "reveal", id, "refused: "+err.Error())
		return Revealed{}, err
	}
	if !rec.HasSecret() {
		s.log(ctx, who, "reveal", id, "refused: no secret")
		return Revealed{}, fmt.Errorf("%w: integration %s has no secret; regenerate one", ErrConflict, id)
	}
	s.log(ctx, who, "reveal", id, fmt.Sprintf("version %d", rec.Version))
	return Revealed{Secret: rec.Secret, Paste: vendorapi.PasteOf(rec, rec.Secret)}, nil
}
